// SPDX-License-Identifier: MIT
#pragma once

// What `handle` and `explain` both gather before deciding: the device, its snapshot, its
// policy (from udev properties), its history.

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "commands/commands.hpp"
#include "commands/target.hpp"
#include "decide/history.hpp"
#include "decide/planner.hpp"
#include "decide/policy_properties.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "util/log.hpp"

namespace usbrecover {

/// Wall-clock milliseconds since the epoch, the planner's `now`.
EpochMs epoch_now();

/// Everything known about one device before the decision.
struct DeviceContext {
  Snapshot snapshot;
  std::optional<TablePolicy> table;  ///< nullopt: the device is not in the table
  std::string policy_error;          ///< why the properties could not be read, if they exist
  std::string key;                   ///< connector_key(): its lock, history and metrics
};

/// How log lines name the context: "'1-1.2' (0665:5161)", or "port '1-1.2'" when nothing is
/// enumerated there.
std::string who(const DeviceContext& dc);

/// The context of a port on which nothing enumerated (`handle --trigger port-failed --port P`):
/// its hub's port entry as the policy (nullopt table when no entry covers the port), a port
/// snapshot, its connector's key. An Error when the port path is not one or its hub is not there.
Result<DeviceContext> read_port_context(SnapshotReader& reader, const std::string& sysfs_root,
                                        const std::string& port_path);

/// The context of the device that was on port `port_path` when host controller `controller`
/// died (`handle --trigger controller-died`): `table` is its entry, as the watcher saw it on the
/// device; the snapshot names the port and reads the controller (dead_controller_snapshot). An
/// Error when the port is not one, its bus is gone, or it is on another controller.
Result<DeviceContext> read_dead_controller_context(SnapshotReader& reader, const std::string& port_path,
                                                   const std::string& controller, TablePolicy table);

/// Whether `controller` is dead: usbfs refuses to open one of its root hubs with ENODEV.
bool controller_dead(SnapshotReader& reader, const std::string& sysfs_root, const Controller& controller);

/// The snapshot scope a policy needs: the whole controller only when `controller` is on its
/// ladder.
SnapshotScope scope_for(const Policy& policy);

/// Reads the snapshot and policy of `device`. `own_tty` is the tty it was asked for by (a serial
/// NUT instance's port), whose users are not collateral; the NUT instances on its other ports
/// are read from `ups_conf` (add_nut_port_users).
Result<DeviceContext> read_device_context(SnapshotReader& reader, const UsbDevice& device,
                                          const std::string& own_tty, const std::string& ups_conf);

/// Parses the options `handle` and `explain` share. Returns the unknown or malformed argument
/// as an error message ("unknown argument '--x'"), empty when all is well.
struct EntryOptions {
  TargetSpec target;
  std::optional<std::string> selector;  ///< explain's positional SELECTOR
  std::optional<Trigger> trigger;
  std::string unit;                       ///< --unit, the service a drop-in runs for
  std::optional<std::string> port;        ///< --port, for --trigger port-failed and controller-died
  std::optional<std::string> controller;  ///< --controller, for --trigger controller-died
  Properties properties;  ///< --property NAME=VALUE: the entry the watcher saw on a dead controller
  std::string reason;     ///< --reason, for --trigger service-stale
  Millis timeout = std::chrono::seconds(60);
  bool json = false;
  bool probe = false;    ///< explain --probe
  bool dry_run = false;  ///< handle --dry-run
  bool help = false;
  std::string metrics;  ///< --metrics FILE (Prometheus textfile)
};
std::string parse_entry_options(const Args& args, EntryOptions& o, bool positional_selector);

/// A device ready to decide on: the reader that read it and everything known about it.
struct PreparedDevice {
  SnapshotReader reader;
  DeviceContext context;
};

/// How a command reports why it cannot go on: `explain` prints the line, `handle` logs it.
/// `message` never has the command's name in front.
using EntryReport = std::function<void(Priority, const std::string& message)>;

/// The setup `explain` and `handle` share: opens the reader, resolves the target and reads the
/// device's context. When that cannot be done it reports once through `report` and returns the
/// exit code: a device that is not USB (0), an unreadable ups.conf (65), no such device (69, or 0
/// with `gone_is_ok`, as for `handle --trigger add`), an ambiguous target (73).
std::variant<PreparedDevice, int> prepare_device(const EntryOptions& o, const Context& ctx, bool gone_is_ok,
                                                 const EntryReport& report);

/// Writes a decision as JSON (explain --json, handle --dry-run --json).
void decision_json(std::ostream& os, const DeviceContext& dc, const Policy& policy, Trigger trigger,
                   const ProbeResult& probe, const Decision& d);
/// Writes a decision as text: the headline, the reasons, the ladder with each method's steps.
void decision_text(std::ostream& os, const DeviceContext& dc, const Policy& policy, Trigger trigger,
                   const ProbeResult& probe, const Decision& d);

}  // namespace usbrecover
