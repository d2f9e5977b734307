// SPDX-License-Identifier: MIT
// The peer figure of bench_gen.py: what reading a table with toml++ alone costs, the floor under
// usbrecover-gen, which parses with toml++ too. Not part of the generator: its own program, so
// that gen/parse.cpp stays the generator's one user of toml++ and grows no hook for a benchmark.
// usage: bench-toml-parse FILE; exit status 0 when the file parses.
#include <toml++/toml.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: bench-toml-parse FILE\n", stderr);
    return 64;
  }
  try {
    const toml::table table = toml::parse_file(argv[1]);
    return table.empty() ? 1 : 0;
  } catch (const toml::parse_error& e) {
    std::fprintf(stderr, "bench-toml-parse: %s\n", e.what());
    return 65;
  }
}
