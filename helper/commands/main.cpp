// SPDX-License-Identifier: MIT
// usbrecover: brings wedged USB devices back. This file only parses the subcommand name and
// wires the real roots; everything else is in the cmd_*.cpp files.

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

#include "commands/commands.hpp"
#include "config.h"
#include "util/timings.hpp"

namespace {

using usbrecover::Args;
using usbrecover::Context;

struct Command {
  std::string_view name;
  int (*run)(const Args&, Context&);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"list", usbrecover::cmd_list, "list USB devices and the table entry each matches"},
    {"tree", usbrecover::cmd_tree, "show the topology with hub power switching and port status"},
    {"reset", usbrecover::cmd_reset, "recover one device with one method and verify it came back"},
    {"repair", usbrecover::cmd_repair, "undo whatever an interrupted run left off"},
    {"explain", usbrecover::cmd_explain, "show what usbrecover would decide for a device, and why"},
    {"handle", usbrecover::cmd_handle, "probe, decide and recover (run by units and drop-ins)"},
    {"dispatch", usbrecover::cmd_dispatch, "start usbrecover@.service for a device (run by udev)"},
    {"watch", usbrecover::cmd_watch,
     "notice failures while devices are in use (run by usbrecover-watch.service)"},
    {"handover", usbrecover::cmd_handover,
     "run what the watcher hands over (run by usbrecover-handover@.service)"},
};

void usage(std::ostream& os) {
  os << "usage: usbrecover COMMAND [ARGS...]\n\ncommands:\n";
  for (const auto& c : kCommands) {
    os << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  }
  os << "\n`usbrecover COMMAND --help` describes a command; see usbrecover(8).\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else, so that --timings counts everything main does.
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--timings") == 0) usbrecover::timings::enable();
  }
  if (argc < 2) {
    usage(std::cerr);
    return usbrecover::kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return usbrecover::kExitOk;
  }
  if (name == "--version") {
    std::cout << "usbrecover " USBRECOVER_VERSION "\n";
    return usbrecover::kExitOk;
  }
  // Every member spelled out: GCC's -Wmissing-field-initializers (werror) rejects a partial list.
  // The state directory may be moved (tests, systems that keep it elsewhere); roots are wired
  // here and nowhere else.
  const char* state_dir = std::getenv("USBRECOVER_STATE_DIR");
  Context ctx{std::cout,
              std::cerr,
              "/sys",
              "/dev",
              state_dir && *state_dir ? state_dir : USBRECOVER_STATE_DIR,
              "/proc/self/mountinfo",
              "/run/udev/control",
              "/proc/swaps",
              "/proc",
              ""};
  Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (c.name == name) return c.run(args, ctx);
  }
  std::cerr << "usbrecover: unknown command '" << name << "'\n";
  usage(std::cerr);
  return usbrecover::kExitUsage;
}
