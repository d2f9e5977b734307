// SPDX-License-Identifier: MIT
#include "commands/cmd_all_devices.hpp"

#include <ostream>

#include "util/text.hpp"

namespace usbrecover {

std::optional<AllDevices> read_all_devices(std::string_view command, std::string_view help, const Args& args,
                                           Context& ctx, int& exit) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      ctx.out << help;
      exit = kExitOk;
      return std::nullopt;
    }
    if (a == "--json") {
      json = true;
    } else {
      const bool option = a.starts_with("-");
      ctx.err << "usbrecover: " << command << ": " << (option ? "unknown option '" : "unexpected argument '")
              << terminal_safe(a) << "' (see usbrecover " << command << " --help)\n";
      exit = kExitUsage;
      return std::nullopt;
    }
  }
  ReaderOptions options;
  options.dev_root = ctx.dev_root;
  options.mountinfo = ctx.mountinfo;
  options.swaps = ctx.swaps;
  options.proc_root = ctx.proc_root;
  auto reader = SnapshotReader::open(options);
  if (!reader) {
    ctx.err << "usbrecover: " << command << ": " << reader.error().message() << '\n';
    exit = kExitSoftware;
    return std::nullopt;
  }
  auto devices =
      reader->all_devices(DeviceFilter{.vendor = {}, .product = {}, .mounts = true, .table_entries = true});
  if (!devices) {
    ctx.err << "usbrecover: " << command << ": " << devices.error().message() << '\n';
    exit = kExitSoftware;
    return std::nullopt;
  }
  return AllDevices{std::move(*reader), std::move(*devices), json};
}

}  // namespace usbrecover
