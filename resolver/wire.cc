#include "resolver/wire.h"

namespace dnsvagt {

bool walk_records(std::span<const uint8_t> packet, const std::function<void(size_t fixed)>& record) {
  if (packet.size() < kHeaderSize) return false;
  uint8_t name[kMaxNameWire];
  size_t pos = kHeaderSize;
  for (uint16_t i = 0; i < read_u16(&packet[4]); ++i) {
    if (read_wire_name(packet, pos, name, &pos) == 0 || pos + 4 > packet.size()) return false;
    pos += 4;
  }
  const size_t records = size_t{read_u16(&packet[6])} + read_u16(&packet[8]) + read_u16(&packet[10]);
  for (size_t i = 0; i < records; ++i) {
    if (read_wire_name(packet, pos, name, &pos) == 0 || pos + 10 > packet.size()) return false;
    const size_t fixed = pos;
    pos += 10 + read_u16(&packet[pos + 8]);
    if (pos > packet.size()) return false;
    if (record) record(fixed);
  }
  return true;
}

}  // namespace dnsvagt
