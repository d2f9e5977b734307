// SPDX-License-Identifier: MIT
#pragma once

// What a probe said: the answer every probe gives (probe.hpp runs them; probe_megatec.hpp judges
// one kind of reply), apart from both so neither includes the other.

#include <string>

namespace usbrecover {

/// What a probe said.
struct ProbeResult {
  enum class State { NotConfigured, Healthy, Failed };
  State state = State::NotConfigured;
  std::string detail;  ///< "GET_STATUS answered", "open failed: Permission denied", ...
};

}  // namespace usbrecover
