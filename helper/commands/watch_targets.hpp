// SPDX-License-Identifier: MIT
#pragma once

// What `usbrecover watch` watches: the NUT driver sections of ups.conf whose device is a table
// device with nut-driver@.service among its services (USB, or a serial port behind a USB
// cable, resolved as the drop-in resolves them), and the table entry that covers a port.

#include <optional>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "decide/policy_properties.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "util/log.hpp"

namespace usbrecover {

/// One NUT driver to watch.
struct NutTarget {
  std::string section;   ///< the ups.conf section ("myups")
  std::string instance;  ///< its nut-driver@ instance: the section, or MD5_... (nut_unit_instance)
  std::string unit;      ///< "nut-driver@myups.service"
  std::string driver;    ///< "nutdrv_qx"
  std::string socket;    ///< the driver's socket: "<statepath>/<driver>-<section>"
  UsbDevice device;      ///< the device it drives
  TablePolicy table;     ///< that device's table entry
};

/// The sections watched, and for each section that is not, why ("driver snmp-ups does not talk
/// USB", "the entry of 0665:5161 on 1-1.3 does not name nut-driver@.service"); a file that
/// cannot be read is one such line with an empty section.
struct NutTargets {
  std::vector<NutTarget> watched;
  std::vector<std::pair<std::string, std::string>> not_watched;  ///< section, why
};

/// The nut-driver@ instance NUT's driver enumerator gives a section: its name when that is a
/// valid unit instance, else "MD5_" and the MD5 of the name and a newline.
std::string nut_unit_instance(const std::string& section);

/// Reads ups.conf and finds the targets. A file that cannot be read gives no targets and one
/// line saying so.
NutTargets find_nut_targets(SnapshotReader& reader, const Context& ctx, const std::string& ups_conf,
                            const std::string& statepath);

/// A table device whose entry allows a controller rebind, as the watcher last saw it: its host
/// controller, its port, and its entry's properties as udev gave them, which is what
/// `handle --trigger controller-died` is handed once the controller is dead and the device, with
/// its udev properties, is gone.
struct ControllerCover {
  std::string controller;  ///< the host controller's name ("0000:00:14.0")
  std::string port_path;   ///< "1-1.2"
  TablePolicy table;
  Properties properties;  ///< USBRECOVER_*, with USBRECOVER_IDS naming the device's own ids
};

/// Every table device on the system whose entry has `controller` among its methods, by bus and
/// port path.
std::vector<ControllerCover> controller_covers(SnapshotReader& reader);

/// The first of `covers` on `controller`, or nullptr.
const ControllerCover* cover_of(const std::vector<ControllerCover>& covers, const std::string& controller);

/// The arguments of the hand-over: "handle --trigger controller-died --controller … --port …
/// --property …".
std::vector<std::string> controller_died_args(const ControllerCover& cover);

/// Records an over-current of port `port_path` in its connector's history, so that within the
/// window no method powers the port on again, and logs it once a window (its MESSAGE_ID and a
/// catalog text a person can act on). The watcher's own, or through the hand-over.
void record_over_current(SnapshotReader& reader, const Context& ctx, const std::string& port_path,
                         unsigned count, Logger& log);

/// The table entry that covers port `port_path` (its hub carries the entry as
/// USBRECOVER_PORT<N>_* properties), also through the port's USB3 peer; with the port path the
/// entry names. nullopt when none covers it or the hub is not there.
std::optional<std::pair<std::string, TablePolicy>> port_entry(SnapshotReader& reader,
                                                              const std::string& sysfs_root,
                                                              const std::string& port_path);

}  // namespace usbrecover
