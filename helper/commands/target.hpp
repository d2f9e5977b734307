// SPDX-License-Identifier: MIT
#pragma once

// Which device an entry point is about: a sysfs path (udev), a selector (drop-ins of other
// services), or a NUT driver instance resolved through ups.conf.

#include <optional>
#include <string>

#include "commands/commands.hpp"
#include "decide/policy_properties.hpp"
#include "error.hpp"
#include "snapshot/selector.hpp"
#include "snapshot/snapshot_reader.hpp"

namespace usbrecover {

inline constexpr const char* kDefaultUpsConf = "/etc/nut/ups.conf";

struct TargetSpec {
  std::optional<std::string> syspath;       ///< --syspath
  std::optional<std::string> match;         ///< --match SELECTOR
  std::optional<std::string> serial;        ///< --serial, with --match
  std::optional<std::string> nut_instance;  ///< --nut-instance NAME
  std::string ups_conf = kDefaultUpsConf;   ///< --ups-conf PATH
};

/// The outcome of resolving a target.
struct Target {
  enum class Kind { Found, NotOurs, NotFound, Ambiguous };
  Kind kind = Kind::NotFound;
  UsbDevice device;  ///< Found
  std::string why;   ///< NotOurs (a serial UPS, ...), NotFound, Ambiguous: one line
  std::string tty;   ///< Found through a serial NUT instance's port: that tty ("ttyUSB0")
};

/// What a command's SnapshotReader reads: the context's roots, and udev's index of the devices
/// tagged prop::kTag next to udevd's control socket ("/run/udev/tags/usbrecover").
ReaderOptions reader_options(const Context& ctx);

/// Resolves the spec. Errors are for what cannot be read (ups.conf, libudev), not for a device
/// that is absent.
Result<Target> resolve_target(const TargetSpec& spec, SnapshotReader& reader, const std::string& sysfs_root);

/// The devices `sel` names. A port path or sysfs path is read directly (no enumeration, so the
/// cost does not grow with the tree); other selectors enumerate every USB device.
Result<Resolution> find_selected(const Selector& sel, SnapshotReader& reader, const std::string& sysfs_root);

/// Adds to the ttys of a multi-port serial device (two ttys or more) the NUT instances whose
/// `port` is one of them ("NUT instance [ups2]"), from ups.conf at `ups_conf`; a file that cannot
/// be read adds nothing. With the users /proc shows, they are what a reset of the device drops.
void add_nut_port_users(Snapshot& snapshot, const std::string& ups_conf);

/// The device's udev properties (libudev's database, as the rules left them).
Result<Properties> udev_properties(const std::string& syspath);

}  // namespace usbrecover
