// SPDX-License-Identifier: MIT
#pragma once

// The watcher's hand-over, both sides: usbrecover-watch.service runs unprivileged and sends each
// case over usbrecover-handover.socket; usbrecover-handover@.service (root) runs `usbrecover
// handover`, which takes only what the watcher sends, from the watcher alone.

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace usbrecover {

/// The largest request: a controller-died hand-over with every property of its entry.
inline constexpr std::size_t kMaxHandOverRequest = 16 * 1024;

/// A request as the watcher sends it: its arguments, each ended by a NUL. Accepts only
///   handle --trigger port-failed --port PORT
///   handle --trigger service-stale --unit nut-driver@INSTANCE.service --nut-instance INSTANCE
///          [--ups-conf UPS_CONF] [--reason TEXT]
///   handle --trigger controller-died --controller NAME --port PORT --property K=V...
///   over-current PORT COUNT
/// with each option once (--property excepted), `ups_conf` as the only ups.conf, and nothing
/// else; the arguments themselves are checked again by what runs them. An Error says what is
/// wrong, never quoting more than a short, terminal-safe piece of the request.
Result<std::vector<std::string>> parse_hand_over(std::string_view request, const std::string& ups_conf);

}  // namespace usbrecover
