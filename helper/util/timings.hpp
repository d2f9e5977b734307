// SPDX-License-Identifier: MIT
#pragma once

// Where one run's time goes (`usbrecover reset --timings`): named phases, each the sum of the
// scopes that ran under its name, in the order they first ran, plus the start-up before main().
// Off unless enabled: a scope then costs one test of a flag. Process-wide, like the run it
// describes; the helper is single-threaded.

#include <chrono>
#include <iosfwd>
#include <string_view>

namespace usbrecover::timings {

/// Starts recording; the clock of main() starts now (call it first thing in main).
void enable();
[[nodiscard]] bool enabled();

/// Adds `d` to phase `name`. `name` must outlive the run (a string literal).
void add(std::string_view name, std::chrono::steady_clock::duration d);

/// Times its own lifetime into phase `name` when recording, nothing otherwise. Scopes of
/// different phases must not nest: a phase is time spent in it and nowhere else.
class Scope {
 public:
  explicit Scope(std::string_view name);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  std::string_view name_;
  std::chrono::steady_clock::time_point start_;
  bool on_;
};

/// Milliseconds from the kernel's start of this process to enable(), or a negative number when
/// /proc does not say. The kernel counts in clock ticks (10 ms on most systems); the fork of
/// the parent is in it too.
double startup_ms();

/// One line per phase ("  snapshot            4.2 ms"), the time no phase claimed ("other"),
/// start-up and the total from the process's start.
void report(std::ostream& os);

}  // namespace usbrecover::timings
