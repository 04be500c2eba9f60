// The entry point libFuzzer (or replay_main.cc) calls, the same for every target: the input
// becomes a FuzzInput and goes to the target's fuzz_one().
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dnsvagt::fuzz::FuzzInput input(data, size);
  dnsvagt::fuzz_one(input);
  return 0;
}
