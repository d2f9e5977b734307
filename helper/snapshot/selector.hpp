// SPDX-License-Identifier: MIT
#pragma once

// How a user names a device on the command line, and how that name is matched against the
// devices present. Parsing and matching are pure; enumerating the devices is the caller's job
// (SnapshotReader::all_devices()).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// A parsed selector. Exactly the fields of its kind are meaningful.
struct Selector {
  enum class Kind {
    Id,        ///< "0665:5161"
    BusDev,    ///< "001/004", as usbreset takes it
    PortPath,  ///< "1-1.2" (uhubctl's location + port); "usb1" or "1-0" for a root hub
    SysPath,   ///< "/sys/bus/usb/devices/1-1.2", "/sys/devices/...", "/devices/..."
    Product,   ///< the product string, compared exactly
  };
  Kind kind = Kind::Id;
  std::string text;                   ///< as the user wrote it, for messages
  std::uint16_t vendor = 0;           ///< Id
  std::uint16_t product = 0;          ///< Id
  unsigned bus = 0;                   ///< BusDev
  unsigned dev = 0;                   ///< BusDev
  std::string port_path;              ///< PortPath, normalised ("usb1" -> "1-0")
  std::string syspath;                ///< SysPath, normalised to start with "/sys/"
  std::string product_name;           ///< Product
  std::optional<std::string> serial;  ///< from --serial; narrows any kind
};

/// Parses a selector; `serial` is the value of --serial, if given. The forms are tried in the
/// order of Selector::Kind; anything that is none of the others is a product string. Fails on an
/// empty selector, an empty serial, and numbers out of range ("001/999").
Result<Selector> parse_selector(std::string_view text, std::optional<std::string> serial = std::nullopt);

/// Does `device` match `sel`?
bool selector_matches(const Selector& sel, const UsbDevice& device);

/// The outcome of resolving a selector against the devices present.
struct Resolution {
  std::vector<UsbDevice> matches;  ///< every device that matched, in the order given
  Error error;                     ///< set unless exactly one matched

  [[nodiscard]] bool found() const { return matches.size() == 1; }
  [[nodiscard]] bool not_found() const { return matches.empty(); }
  [[nodiscard]] bool ambiguous() const { return matches.size() > 1; }
  /// The one device; only when found().
  [[nodiscard]] const UsbDevice& device() const { return matches.front(); }
};

/// Resolves `sel` among `devices`. Two or more matches are refused, never "first match wins":
/// the error lists every candidate (port path, ids, serial) so the user can pick one by port
/// path or serial. Commands map not_found() to exit 69.
Resolution resolve_selector(const Selector& sel, const std::vector<UsbDevice>& devices);

/// "1-1.2 0665:5161 serial 'ABC' (INNO TECH USB to Serial)": one candidate in messages.
std::string describe_candidate(const UsbDevice& d);

}  // namespace usbrecover
