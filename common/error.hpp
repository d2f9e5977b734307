// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace usbrecover {

/// What went wrong, in the shape every front end prints:
/// `context: object: reason: strerror(errnum)`; empty parts are left out.
struct Error {
  std::string context;  ///< what we were doing, e.g. "reset '1-1.2' (0665:5161)"
  std::string object;   ///< what we were doing it to, e.g. a sysfs path
  std::string reason;   ///< why it failed, in words
  int errnum = 0;       ///< errno, 0 when not a system error

  /// The single line a front end prints.
  [[nodiscard]] std::string message() const;
  /// Returns a copy with `ctx` put in front of the existing context.
  [[nodiscard]] Error within(std::string ctx) const;
};

/// Builds an Error from the current errno.
Error errno_error(std::string object, std::string reason);

/// A value or an Error. C++20 has no std::expected; this is the small part of it we use.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing but success or an Error.
struct Ok {};
using Status = Result<Ok>;

}  // namespace usbrecover
