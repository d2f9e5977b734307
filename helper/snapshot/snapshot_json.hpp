// SPDX-License-Identifier: MIT
#pragma once

// JSON forms of the snapshot types, shared by `list`, `tree`, `reset --json` and anything that
// prints a device: one spelling of every field everywhere.

#include "snapshot/snapshot.hpp"
#include "util/json.hpp"

namespace usbrecover {

/// Writes `d` as an object: ids as "0665", port_path, bus/dev, strings, drivers, interfaces,
/// mounts, and "table_entry" ({name, source} or null).
void write_json(JsonWriter& w, const UsbDevice& d);
/// Writes the hub-descriptor part of a hub as an object (the device itself is written apart).
void write_hub_json(JsonWriter& w, const Hub& h);
/// Writes a port as an object: number, syspath, disabled (null when the kernel has no
/// `disable` attribute), peer, connect_type.
void write_json(JsonWriter& w, const Port& p);
void write_json(JsonWriter& w, const Controller& c);
/// The whole snapshot, for `explain` and debugging.
void write_json(JsonWriter& w, const Snapshot& s);

}  // namespace usbrecover
