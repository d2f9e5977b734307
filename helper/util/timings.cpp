// SPDX-License-Identifier: MIT
#include "util/timings.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace usbrecover::timings {

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  bool on = false;
  Clock::time_point main_start;
  double startup_ms = -1;
  std::vector<std::pair<std::string_view, Clock::duration>> phases;
};

State& state() {
  static State s;
  return s;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// /proc/self/stat's field 22, the start time in clock ticks since boot (CLOCK_BOOTTIME), read
// against that clock now.
double read_startup_ms() {
  std::FILE* f = std::fopen("/proc/self/stat", "re");
  if (f == nullptr) return -1;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  unsigned long long start_ticks = 0;
  int field = 2;
  for (const char* q = p + 1; *q != '\0'; ++q) {
    if (*q != ' ') continue;
    if (++field == 22) {
      start_ticks = std::strtoull(q + 1, nullptr, 10);
      break;
    }
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  timespec now{};
  if (field != 22 || hz <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1;
  const double now_ms = static_cast<double>(now.tv_sec) * 1000.0 + static_cast<double>(now.tv_nsec) / 1e6;
  const double start_ms = static_cast<double>(start_ticks) * 1000.0 / static_cast<double>(hz);
  return now_ms >= start_ms ? now_ms - start_ms : -1;
}

}  // namespace

void enable() {
  State& s = state();
  s.main_start = Clock::now();
  s.startup_ms = read_startup_ms();
  s.on = true;
}

bool enabled() {
  return state().on;
}

void add(std::string_view name, Clock::duration d) {
  State& s = state();
  if (!s.on) return;
  for (auto& [n, total] : s.phases) {
    if (n == name) {
      total += d;
      return;
    }
  }
  s.phases.emplace_back(name, d);
}

Scope::Scope(std::string_view name) : name_(name), on_(state().on) {
  if (on_) start_ = Clock::now();
}

Scope::~Scope() {
  if (on_) add(name_, Clock::now() - start_);
}

double startup_ms() {
  return state().startup_ms;
}

void report(std::ostream& os) {
  const State& s = state();
  if (!s.on) return;
  const Clock::duration since_main = Clock::now() - s.main_start;
  Clock::duration claimed{};
  auto line = [&os](std::string_view name, double value, std::string_view note) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %-22.*s %9.1f ms", static_cast<int>(name.size()), name.data(), value);
    os << buf << note << '\n';
  };
  os << "timings:\n";
  if (s.startup_ms >= 0)
    line("start-up", s.startup_ms, "  (exec and libraries, to main; the kernel's clock ticks)");
  for (const auto& [name, d] : s.phases) {
    line(name, ms(d), "");
    claimed += d;
  }
  line("other", ms(since_main - claimed), "  (between phases: arguments, planning, output)");
  line("total", (s.startup_ms >= 0 ? s.startup_ms : 0) + ms(since_main), "");
}

}  // namespace usbrecover::timings
