// Replays fuzz inputs without libFuzzer: every file of the directories given is passed to
// LLVMFuzzerTestOneInput once, so a normal (gcc) build runs the committed corpus and the
// reproducers of past crashes as a test. A crash or failed check aborts, which fails the test.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    // A target without reproducers has no directory for them.
    if (!fs::is_directory(argv[i])) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(argv[i])) {
      if (!file.is_regular_file()) continue;
      std::ifstream in(file.path(), std::ios::binary);
      const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                       std::istreambuf_iterator<char>()};
      std::fprintf(stderr, "%s\n", file.path().c_str());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++inputs;
    }
  }
  std::printf("%zu inputs replayed\n", inputs);
  // An empty or misspelt corpus directory would otherwise pass without testing anything.
  return inputs > 0 ? 0 : 1;
}
