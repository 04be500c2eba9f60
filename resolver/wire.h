// Wire-format basics that the resolver's parsers and writers share: big-endian fields, the
// header, the type, class, rcode and option numbers dnsvagt uses, and the cache key of a query.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "dns/dns_name.h"
#include "resolver/query.h"

namespace dnsvagt {

constexpr size_t kHeaderSize = 12;

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kTypeDname = 39;
constexpr uint16_t kTypeOpt = 41;
constexpr uint16_t kClassIn = 1;

constexpr uint16_t kRcodeNoError = 0;
constexpr uint16_t kRcodeFormErr = 1;
constexpr uint16_t kRcodeServFail = 2;
constexpr uint16_t kRcodeNxDomain = 3;
constexpr uint16_t kRcodeNotImp = 4;
constexpr uint16_t kRcodeRefused = 5;
constexpr uint16_t kRcodeBadVers = 16;  // extended: its upper bits go in the OPT record

constexpr uint16_t kOptionEde = 15;  // EDNS option code of an Extended DNS Error (RFC 8914)

inline uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t read_u32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void write_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void write_u32(uint8_t* p, uint32_t v) {
  write_u16(p, static_cast<uint16_t>(v >> 16));
  write_u16(p + 2, static_cast<uint16_t>(v));
}

// What identifies one answer: the name case-insensitively, type, class, DO and CD. The cache
// and the table of queries in flight both key by it.
constexpr size_t kMaxCacheKey = kMaxNameWire + 5;
// Writes the key of `query` into `buffer` without allocating; empty if it has no question.
inline std::string_view cache_key(const Query& query, uint8_t (&buffer)[kMaxCacheKey]) {
  if (!query.has_question || query.qname.size() > kMaxNameWire) return {};
  size_t length = 0;
  for (uint8_t byte : query.qname) buffer[length++] = fold_case(byte);
  write_u16(buffer + length, query.qtype);
  write_u16(buffer + length + 2, query.qclass);
  buffer[length + 4] = static_cast<uint8_t>((query.do_bit ? 1 : 0) | (query.cd ? 2 : 0));
  return {reinterpret_cast<const char*>(buffer), length + 5};
}

// Checks that every question and record of `packet` lies within it, calling `record` (if set)
// with the offset of each record's fixed fields (type, class, TTL, data length) on the way;
// false at the first that does not.
bool walk_records(std::span<const uint8_t> packet,
                  const std::function<void(size_t fixed)>& record = nullptr);

}  // namespace dnsvagt
