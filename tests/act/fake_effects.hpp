// SPDX-License-Identifier: MIT
#pragma once

// A recording Effects for tests: logs every call in the same one-line form as to_string(Action),
// keeps a model of what is on and off (attribute values, bound drivers, port power), and can fail
// a chosen call with a chosen errno.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "act/effects.hpp"
#include "act/methods.hpp"

namespace usbrecover::test {

class FakeEffects : public Effects {
 public:
  /// Fails the `n`th fallible call (1-based; pauses do not count) with `errnum`.
  void fail_call(std::size_t n, int errnum) { fail_at_[n] = errnum; }
  /// Fails every call whose log line equals `line`.
  void fail_always(const std::string& line, int errnum) { fail_line_[line] = errnum; }
  /// Forgets every failure set up so far (a copy made to play a healthy system).
  void clear_failures() {
    fail_at_.clear();
    fail_line_.clear();
  }
  /// Called after every call with the log so far; tests raise a stop flag from here.
  std::function<void(const std::vector<std::string>&)> after_call;

  Status write_sysfs(const std::string& path, std::string_view value) override {
    return call("write " + path + " " + std::string(value), [&] { apply_write(path, std::string(value)); });
  }
  Status reset_device(const std::string& devnode) override {
    return call("reset " + devnode, [] {});
  }
  Status set_port_power(const std::string& hub_devnode, unsigned port, bool on) override {
    return call("port-power " + hub_devnode + " " + std::to_string(port) + (on ? " on" : " off"), [&] {
      power_[{hub_devnode, port}] = on;
    });
  }
  Status warm_reset_port(const std::string& hub_devnode, unsigned port) override {
    return call("warm-reset " + hub_devnode + " " + std::to_string(port), [] {});
  }
  Status hold_resumed(const std::string& devnode) override {
    return call("hold-resumed " + devnode, [] {});
  }
  void pause(std::chrono::milliseconds d) override {
    log_.push_back("pause " + std::to_string(d.count()) + "ms");
    if (after_call) after_call(log_);
  }

  [[nodiscard]] const std::vector<std::string>& log() const { return log_; }

  /// The model: attribute values, driver of each interface/controller, port power.
  std::map<std::string, std::string> attrs;
  std::map<std::string, std::string> bound;  ///< device name -> driver, absent when unbound
  std::map<std::pair<std::string, unsigned>, bool> power_;

  /// Sets the model to the state in which every undo of `plan` has been applied: everything on.
  void start_all_on(const Plan& plan) {
    for (const Step& s : plan.steps) {
      if (s.undo) apply(*s.undo);
    }
  }
  bool operator==(const FakeEffects& o) const {
    return attrs == o.attrs && bound == o.bound && power_ == o.power_;
  }
  void apply(const Action& a) {
    if (a.kind == Action::Kind::WriteSysfs) apply_write(a.target, a.value);
    if (a.kind == Action::Kind::PortPower) power_[{a.target, a.port}] = a.on;
  }

 private:
  template <typename F>
  Status call(std::string line, F&& effect) {
    log_.push_back(line);
    ++fallible_;
    int err = 0;
    if (auto it = fail_at_.find(fallible_); it != fail_at_.end()) err = it->second;
    if (auto it = fail_line_.find(line); it != fail_line_.end()) err = it->second;
    if (err == 0) effect();
    if (after_call) after_call(log_);
    if (err != 0) return Error{.context = {}, .object = line, .reason = "injected", .errnum = err};
    return Ok{};
  }
  void apply_write(const std::string& path, const std::string& value) {
    auto slash = path.rfind('/');
    std::string attr = path.substr(slash + 1);
    if (attr == "bind") {
      std::string dir = path.substr(0, slash);
      bound[value] = dir.substr(dir.rfind('/') + 1);
    } else if (attr == "unbind") {
      bound.erase(value);
    } else {
      attrs[path] = value;
    }
  }

  std::vector<std::string> log_;
  std::size_t fallible_ = 0;
  std::map<std::size_t, int> fail_at_;
  std::map<std::string, int> fail_line_;
};

}  // namespace usbrecover::test
