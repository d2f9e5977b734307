// SPDX-License-Identifier: MIT
// Runs LLVMFuzzerTestOneInput over every file in the directories or files given, so the fuzz
// seeds (and any crash reproducer added to the corpus) run as a normal test, under ASan in CI,
// with compilers that have no libFuzzer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz-corpus: cannot read '%s'\n", path.c_str());
    return false;
  }
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Named before it runs: when a target aborts, the last name printed is the input that did it.
  std::printf("fuzz-corpus: %s\n", path.c_str());
  std::fflush(stdout);
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  // Every prefix too: truncation is the most common way a device lies or a file is torn.
  for (std::size_t n = 0; n < data.size(); ++n) {
    std::vector<std::uint8_t> prefix(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    LLVMFuzzerTestOneInput(prefix.data(), prefix.size());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg)) {
        if (e.is_regular_file()) inputs.push_back(e.path());
      }
    } else {
      inputs.push_back(arg);
    }
  }
  // In name order, so two runs print the same.
  std::sort(inputs.begin(), inputs.end());
  for (const auto& path : inputs) {
    if (!run_file(path)) return 1;
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz-corpus: no input files\n");
    return 1;
  }
  std::printf("fuzz-corpus: %zu files ran\n", inputs.size());
  return 0;
}
