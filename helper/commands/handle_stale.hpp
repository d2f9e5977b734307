// SPDX-License-Identifier: MIT
#pragma once

// `handle --trigger service-stale`: usbrecover watch found a NUT driver's data stale for longer
// than its device's stale_after, or the driver not answering PING. The verdict is recorded as a
// failed run of the driver's unit and the unit is restarted, so that its ExecStartPre checks and
// recovers the device with the planner deciding, as after any failed run; ExecStopPost, seeing
// the verdict, does not record the restart's clean stop over it. The budget holds: when the
// next start would be refused, nothing is restarted.

#include <optional>
#include <string>

#include "commands/commands.hpp"
#include "commands/entry.hpp"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "util/log.hpp"

namespace usbrecover {

/// What ServiceEnd::exit_code says for a verdict of the watcher (result "stale" or "hung",
/// exit_status its reason).
inline constexpr const char* kWatcherVerdict = "usbrecover-watch";

/// The watcher's verdict on `unit` that a clean stop at `now` follows: the last service record,
/// if it is one, less than two minutes old.
const ServiceEnd* watcher_verdict(const History& h, const std::string& unit, EpochMs now);

/// Records the verdict and restarts the unit (see above), with `lock` held while recording and
/// released before the restart; with --dry-run, prints what it would do. Exit 0 restarted, 73
/// refused by the budget (one line, thinned like every repeated failure), 70 systemctl failed.
int restart_stale_service(const EntryOptions& o, Context& ctx, const DeviceContext& dc, History& history,
                          const StateStore& store, std::optional<DeviceLock>& lock, Logger& log);

}  // namespace usbrecover
