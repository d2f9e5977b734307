// SPDX-License-Identifier: MIT
#pragma once

// The start that `list` and `tree` share: parse `[--json]`, answer `--help`, read every USB
// device.

#include <optional>
#include <string_view>
#include <vector>

#include "commands/commands.hpp"
#include "snapshot/snapshot_reader.hpp"

namespace usbrecover {

struct AllDevices {
  SnapshotReader reader;
  std::vector<UsbDevice> devices;
  bool json = false;
};

/// Returns the devices, or nullopt with `exit` set when the command is already over (help
/// shown, a wrong argument, libudev failing); messages name `command`.
std::optional<AllDevices> read_all_devices(std::string_view command, std::string_view help, const Args& args,
                                           Context& ctx, int& exit);

}  // namespace usbrecover
