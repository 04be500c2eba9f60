// The config loader on hostile YAML: a problem must be a ConfigError (what check-config
// reports with file and line), never another exception or a crash; and what loads must come
// back as itself from the effective config that check-config prints.
//
// Input: [flags][YAML]; flags bit 0: load it from a file (load_config) rather than text.
#include <cstdio>
#include <string>

#include "config/config.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const std::string text(input.rest_text());

  Config config;
  try {
    config = (flags & 1) ? load_config(fuzz::scratch_file(text)) : parse_config(text, "fuzz.yaml");
  } catch (const ConfigError&) {
    return;
  }
  const std::string effective = to_yaml(config);
  Config again;
  try {
    again = parse_config(effective, "effective.yaml");
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "the effective config does not load: %s\n%s", e.what(),
                 effective.c_str());
    FUZZ_CHECK(false);
  }
  again.source = config.source;
  if (!(again == config)) {
    std::fprintf(stderr, "the effective config loads as another config:\n%s", effective.c_str());
    FUZZ_CHECK(false);
  }
}

}  // namespace dnsvagt
