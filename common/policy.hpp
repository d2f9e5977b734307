// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace usbrecover {

using Millis = std::chrono::milliseconds;

/// Recovery methods, least disruptive first. The names are the table's and the CLI's.
///
/// WarmReset (a SuperSpeed port's BH_PORT_RESET, then the kernel's own reset) comes right after
/// Device: it touches no other port and no driver binding, as Device does, but it also tears the
/// link down and trains it again, which a hot reset never does; so it is the next thing to try
/// when a hot reset did not help, before drivers are unbound (Rebind) or interfaces destroyed
/// (Authorize). It applies only to a device connected at SuperSpeed.
enum class Method { Device, WarmReset, Rebind, Authorize, PortPower, Hub, Controller };
inline constexpr std::array kAllMethods = {Method::Device,    Method::WarmReset, Method::Rebind,
                                           Method::Authorize, Method::PortPower, Method::Hub,
                                           Method::Controller};

/// How the helper checks that a device answers. Control asks only standard requests on the
/// default control pipe and claims no interface, so it fits a device whose interface a driver
/// holds (usbhid, NUT's usbhid-ups).
enum class Probe { None, Open, Descriptor, MegatecQ1, Control };
inline constexpr std::array kAllProbes = {Probe::None, Probe::Open, Probe::Descriptor, Probe::MegatecQ1,
                                          Probe::Control};

std::string_view to_string(Method m);
std::string_view to_string(Probe p);
std::optional<Method> method_from_string(std::string_view s);
std::optional<Probe> probe_from_string(std::string_view s);
/// "device, warm-reset, rebind, authorize, port-power, hub, controller": for "expected one of"
/// messages.
std::string method_names();
std::string probe_names();

/// The longest duration a table, a property or an option may hold.
inline constexpr Millis kMaxDuration{30LL * 24 * 3600 * 1000};

/// Parses "500ms", "30s", "10m", "1h" and sums such as "1h30m". No sign, no fractions,
/// at most kMaxDuration (30 days); nullopt on anything else.
std::optional<Millis> parse_duration(std::string_view s);
/// The shortest exact spelling parse_duration() reads back: 90000ms -> "1m30s", 0 -> "0s".
std::string format_duration(Millis d);

/// A USB_DEVICE-style id; `product` empty means any product of the vendor ("06da:*").
struct UsbId {
  std::uint16_t vendor = 0;
  std::optional<std::uint16_t> product;

  friend auto operator<=>(const UsbId&, const UsbId&) = default;
};
/// "0665:5161", or "06da:*" for a vendor wildcard.
std::string to_string(const UsbId& id);
/// Parses exactly four lower- or upper-case hex digits, ':', four hex digits or '*'.
std::optional<UsbId> parse_usb_id(std::string_view s);
/// Four lower-case hex digits.
std::string hex4(std::uint16_t v);

/// The largest max_resets a table may set; the history keeps at least this many attempts, so the
/// budget is always counted over every attempt that can matter.
inline constexpr unsigned kMaxResetsLimit = 1000;

/// What to do with a wedged device. Every field has a built-in default; tables override them.
struct Policy {
  std::optional<std::string> group;  ///< group of the /dev/bus/usb node; unset = leave udev's
  std::optional<unsigned> mode;      ///< permission bits of the node; unset = leave udev's
  bool keep_awake = true;            ///< power/control = "on"
  std::vector<Method> methods = {Method::Device,    Method::WarmReset, Method::Rebind,
                                 Method::Authorize, Method::PortPower, Method::Hub};
  unsigned max_resets = 3;  ///< recoveries allowed per window
  Millis window = std::chrono::hours(1);
  Millis cooldown = std::chrono::seconds(30);
  Probe probe = Probe::Open;
  bool allow_collateral = false;  ///< may a method disturb other devices?
  /// A NUT driver whose data has been stale this long is restarted by the watcher, so that the
  /// device is checked and recovered on its start. Leaves NUT's own reconnect tries (a poll
  /// every 2 s) a chance first.
  Millis stale_after = std::chrono::seconds(10);
  /// How long port-power keeps a port off: long enough to drain a device that only a real power
  /// cut brings back (the kernel's own cycle during enumeration is a few hundred ms). Never
  /// less than the hub's power-on-to-good time and 100 ms.
  Millis off_time = std::chrono::seconds(2);

  friend bool operator==(const Policy&, const Policy&) = default;
};

/// "0664".
std::string format_mode(unsigned mode);
/// "device,rebind,port-power" (the form carried in udev properties).
std::string join_methods(const std::vector<Method>& methods);
/// Inverse of join_methods(); nullopt when a name is unknown or the list is empty.
std::optional<std::vector<Method>> split_methods(std::string_view s);

}  // namespace usbrecover
