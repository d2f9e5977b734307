// SPDX-License-Identifier: MIT
// usbrecover-gen: compiles device tables into udev rules and systemd units. All the work is in
// run(); this file only wires the built-in paths.

#include <iostream>

#include "config.h"
#include "run.hpp"

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::cout << "usbrecover-gen " USBRECOVER_VERSION "\n";
    return 0;
  }
  usbrecover::gen::Defaults defaults{USBRECOVER_SHIPPED_TABLE, USBRECOVER_LOCAL_TABLE_DIR,
                                     USBRECOVER_HELPER_PATH, USBRECOVER_STATE_DIR};
  return usbrecover::gen::run(std::vector<std::string>(argv + 1, argv + argc), defaults, std::cout,
                              std::cerr);
}
