// SPDX-License-Identifier: MIT
#include "table.hpp"

#include <cstdint>
#include <tuple>

namespace usbrecover::gen {

std::string Location::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

int Match::constraints() const {
  return static_cast<int>(!manufacturer.empty()) + static_cast<int>(!product.empty()) +
         static_cast<int>(!serial.empty()) + static_cast<int>(!port.empty());
}

std::string DeviceRule::source() const {
  return entry.file + ":" + std::to_string(entry.line);
}

bool emission_order(const DeviceRule& a, const DeviceRule& b) {
  const auto& x = a.match;
  const auto& y = b.match;
  // A wildcard product sorts after every exact product of its vendor.
  // References to the strings, not copies: this runs for every comparison of a sort.
  auto key = [](const Match& m) {
    return std::tuple<std::uint16_t, bool, std::uint16_t, int, const std::string&, const std::string&,
                      const std::string&, const std::string&>(m.id.vendor, !m.id.product.has_value(),
                                                              m.id.product.value_or(0), -m.constraints(),
                                                              m.manufacturer, m.product, m.serial, m.port);
  };
  return key(x) < key(y);
}

}  // namespace usbrecover::gen
