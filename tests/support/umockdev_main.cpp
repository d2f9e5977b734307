// SPDX-License-Identifier: MIT
// main() for the umockdev test binaries: exits 77 (meson's "skipped") when the umockdev preload
// is not active, so a run without umockdev-wrapper shows as a skip instead of a silent pass.
#include <gtest/gtest.h>

#include <cstdio>

#include "testbed.hpp"

int main(int argc, char** argv) {
  if (!usbrecover::testing::Testbed::available()) {
    std::fprintf(stderr, "%s: not running under umockdev-wrapper; skipping\n", argv[0]);
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
