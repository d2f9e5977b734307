// SPDX-License-Identifier: MIT
#pragma once

// What the fuzz targets share: the input as text, and how a broken property is reported.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace usbrecover::fuzz {

/// The fuzzer's bytes as the text a parser reads.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Stops with `why` on stderr when a property the parser promises does not hold. abort() makes
/// libFuzzer save the input as a crash, and fails the corpus test.
inline void check(bool ok, const char* why) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: property broken: %s\n", why);
  std::abort();
}

}  // namespace usbrecover::fuzz
