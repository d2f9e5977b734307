// SPDX-License-Identifier: MIT
// usbrecover-gen: compiles device tables into udev rules and systemd units. All the work is in
// run(); this file only wires the built-in paths.

#include <unistd.h>

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
  // --apply writes where udev and systemd read, /etc, whatever the prefix (Defaults).
  // /usr/bin on a merged-/usr system, /bin where udev and systemd are still there.
  auto program = [](const std::string& name) {
    const std::string usr = "/usr/bin/" + name;
    return ::access(usr.c_str(), X_OK) == 0 ? usr : "/bin/" + name;
  };
  defaults.tools = {.systemd_hwdb = program("systemd-hwdb"),
                    .udevadm = program("udevadm"),
                    .systemctl = program("systemctl"),
                    .sysfs = "/sys"};
  return usbrecover::gen::run(std::vector<std::string>(argv + 1, argv + argc), defaults, std::cout,
                              std::cerr);
}
