// Turns a rendered reply into a serve-stale reply (RFC 8767): every TTL set to 30 seconds and,
// when the reply carries our OPT record, EDE 3 "Stale Answer" (RFC 8914) added to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dnsvagt {

constexpr uint32_t kStaleTtl = 30;

// `reply` holds the rendered reply in its first `length` bytes. Returns the new length (the
// EDE is left out if it would grow the reply past `max_size` or `reply`), or 0 if the reply
// does not parse.
size_t mark_reply_stale(std::span<uint8_t> reply, size_t length, size_t max_size);

}  // namespace dnsvagt
