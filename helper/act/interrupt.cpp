// SPDX-License-Identifier: MIT
#include "act/interrupt.hpp"

#include <array>
#include <csignal>
#include <cstdlib>

namespace usbrecover {

namespace {

// Written only by the handler and the guard's constructor; a signal handler can reach nothing
// but a global, and sig_atomic_t is the type it may write.
volatile std::sig_atomic_t g_caught = 0;
bool g_active = false;

constexpr std::array kSignals = {SIGTERM, SIGINT, SIGHUP};
std::array<struct sigaction, kSignals.size()> g_previous{};

extern "C" void on_signal(int sig) {
  if (g_caught == 0) g_caught = sig;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  if (g_active) std::abort();  // two guards would restore each other's handlers wrongly
  g_active = true;
  g_caught = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: a blocking call (poll on the udev monitor, clock_nanosleep) must return
  // EINTR so the caller notices the flag.
  sa.sa_flags = 0;
  for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptGuard::~InterruptGuard() {
  for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
  g_active = false;
}

int InterruptGuard::caught() const {
  return g_caught;
}

}  // namespace usbrecover
