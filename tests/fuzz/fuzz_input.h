// Shared by the fuzz targets: reading parameters off the front of a fuzz input, checking the
// invariants the headers promise, and a scratch file for the APIs that read files.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace dnsvagt::fuzz {

// The input as parameters first, then the data under test. Reading past the end gives zeros,
// so every input is valid and a short one still reaches the code under test.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : size_(size), rest_(data, size) {}

  uint8_t byte() {
    if (rest_.empty()) return 0;
    const uint8_t value = rest_.front();
    rest_ = rest_.subspan(1);
    return value;
  }
  uint16_t u16() { return static_cast<uint16_t>(byte() << 8 | byte()); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
  // Up to `count` bytes (fewer at the end).
  std::span<const uint8_t> bytes(size_t count) {
    const std::span<const uint8_t> taken = rest_.first(std::min(count, rest_.size()));
    rest_ = rest_.subspan(taken.size());
    return taken;
  }
  std::span<const uint8_t> rest() const { return rest_; }
  // The whole input's size, parameters included.
  size_t size() const { return size_; }
  std::string_view rest_text() const {
    return {reinterpret_cast<const char*>(rest_.data()), rest_.size()};
  }

 private:
  size_t size_;
  std::span<const uint8_t> rest_;
};

// A broken invariant is a finding like a crash: abort, so that libFuzzer saves the input and
// the replay test fails. Not assert(): it must hold in release builds too.
#define FUZZ_CHECK(condition)                                                         \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__,      \
                   #condition);                                                       \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// A file holding `content`, for load_config and parse_list_file; one per process, rewritten per
// input (libFuzzer runs inputs one after another in a process). It is unlinked at once and
// named through /proc, so a worker that crashes leaves nothing behind in /tmp.
inline std::string scratch_file(std::string_view content) {
  static const int fd = [] {
    char name[] = "/tmp/dnsvagt-fuzz-XXXXXX";
    const int created = mkstemp(name);
    FUZZ_CHECK(created >= 0);
    unlink(name);
    return created;
  }();
  FUZZ_CHECK(ftruncate(fd, 0) == 0);
  FUZZ_CHECK(pwrite(fd, content.data(), content.size(), 0) ==
             static_cast<ssize_t>(content.size()));
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace dnsvagt::fuzz

namespace dnsvagt {
// What one input tests. Each target defines it; fuzz_entry.cc hands it every input, from
// libFuzzer or from the replay of the committed ones.
void fuzz_one(fuzz::FuzzInput& input);
}  // namespace dnsvagt
