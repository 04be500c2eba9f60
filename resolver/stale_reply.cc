#include "resolver/stale_reply.h"

#include "resolver/wire.h"

namespace dnsvagt {
namespace {

constexpr uint16_t kEdeStaleAnswer = 3;

// Offset just past the (possibly compressed) name at `offset`, or 0 if it runs off the end.
size_t skip_name(const uint8_t* packet, size_t length, size_t offset) {
  while (offset < length) {
    uint8_t label = packet[offset];
    if (label == 0) return offset + 1;
    if ((label & 0xc0) == 0xc0) return offset + 2 <= length ? offset + 2 : 0;
    if (label & 0xc0) return 0;
    offset += 1 + label;
  }
  return 0;
}

}  // namespace

size_t mark_reply_stale(std::span<uint8_t> reply, size_t length, size_t max_size) {
  uint8_t* packet = reply.data();
  if (length < 12 || length > reply.size()) return 0;
  size_t questions = read_u16(packet + 4);
  size_t records = size_t{read_u16(packet + 6)} + read_u16(packet + 8) + read_u16(packet + 10);
  size_t offset = 12;
  for (size_t i = 0; i < questions; ++i) {
    offset = skip_name(packet, length, offset);
    if (offset == 0 || offset + 4 > length) return 0;
    offset += 4;
  }
  size_t last_opt_rdlength_at = 0;  // set when the last record is an OPT
  for (size_t i = 0; i < records; ++i) {
    offset = skip_name(packet, length, offset);
    if (offset == 0 || offset + 10 > length) return 0;
    uint16_t type = read_u16(packet + offset);
    size_t rdlength = read_u16(packet + offset + 8);
    if (type != kTypeOpt) {
      write_u16(packet + offset + 4, 0);
      write_u16(packet + offset + 6, kStaleTtl);
    }
    last_opt_rdlength_at = type == kTypeOpt ? offset + 8 : 0;
    offset += 10 + rdlength;
    if (offset > length) return 0;
  }
  // The EDE option is appended to the OPT rdata; only possible when OPT ends the packet.
  constexpr size_t kEdeSize = 6;  // code, length, info-code; no EXTRA-TEXT
  if (last_opt_rdlength_at == 0 || offset != length || length + kEdeSize > max_size ||
      length + kEdeSize > reply.size()) {
    return length;
  }
  write_u16(packet + last_opt_rdlength_at, read_u16(packet + last_opt_rdlength_at) + kEdeSize);
  write_u16(packet + length, kOptionEde);
  write_u16(packet + length + 2, 2);
  write_u16(packet + length + 4, kEdeStaleAnswer);
  return length + kEdeSize;
}

}  // namespace dnsvagt
