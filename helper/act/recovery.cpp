// SPDX-License-Identifier: MIT
#include "act/recovery.hpp"

#include "act/effects_linux.hpp"
#include "act/intent.hpp"
#include "act/verify.hpp"
#include "util/timings.hpp"

namespace usbrecover {

std::string device_label(const UsbDevice& d) {
  return d.sysname + " " + hex4(d.vendor) + ":" + hex4(d.product);
}

Status ProbeIntents::detaching(const UsbDevice& device, const std::string& interface,
                               const std::string& driver) {
  auto intent = journal_.record(write_action(sysfs_root_ + "/bus/usb/drivers/" + driver + "/bind", interface),
                                device_label(device));
  if (!intent) return intent.error();
  intent_ = std::move(*intent);
  return Ok{};
}

void ProbeIntents::attached() {
  // The driver is back; an intent that cannot be removed only makes repair bind it again.
  (void)intent_.done();
}

std::vector<std::string> repair_left_behind(const std::string& sysfs_root, const std::string& dev_root,
                                            const std::string& state_dir) {
  std::vector<std::string> lines;
  LinuxEffects fx(sysfs_root, dev_root);
  timings::Scope timed("repair-first");
  auto items = repair_intents(state_dir, fx, Roots{sysfs_root, dev_root});
  if (!items) return {"cannot repair what an earlier run left off: " + items.error().message()};
  for (const auto& it : *items) {
    if (it.status == RepairItem::Status::Restored)
      lines.push_back("restored what an earlier run left off: " + it.device + ": " + it.undo);
    else if (it.status == RepairItem::Status::Failed)
      lines.push_back("could not restore what an earlier run left off: " + it.device + ": " +
                      it.error.message());
  }
  return lines;
}

RecoveryOutcome carry_out(const Snapshot& snap, const Plan& plan, SnapshotReader& reader,
                          const RecoveryRoots& roots, std::chrono::steady_clock::time_point deadline,
                          const StopCheck& stop, const std::vector<UsbId>& expect_ids) {
  RecoveryOutcome o;
  // Listen before acting, so the device's own events are never missed.
  auto verifier = [&] {
    timings::Scope timed("verification");
    o.events = udevd_running(roots.udev_control) ? EventSource::Udev : EventSource::Kernel;
    return Verifier::listen(o.events);
  }();
  if (!verifier) {
    o.error = verifier.error();
    return o;
  }
  LinuxEffects fx(roots.sysfs, roots.dev, [&] { return stop && stop().has_value(); });
  IntentJournal journal(roots.state_dir);
  o.run = execute(plan, fx, journal, device_label(snap.device), stop);
  if (!o.run.ok()) {
    Error e = *o.run.error;
    for (const Action& a : o.run.left_off)
      e.reason += "; left off: '" + to_string(a) + "' (run 'usbrecover repair')";
    o.error = e;
    return o;
  }
  auto read = [&](const std::string& path) { return reader.device(path); };
  timings::Scope timed("verification");
  auto after = snap.device_present
                   ? verifier->wait(snap.device, plan.reenumerates, deadline, read, stop)
                   : verifier->wait_enumerated(snap.device.syspath, expect_ids, deadline, read, stop);
  if (!after) {
    o.error = after.error();
    return o;
  }
  if (!after->authorized) {
    o.left_unauthorized = true;
    o.error = Error{.context = {},
                    .object = snap.device.sysname,
                    .reason =
                        "came back, left unauthorized by policy (authorized_default or a policy daemon); "
                        "usbrecover does not authorize it",
                    .errnum = 0};
    return o;
  }
  o.after = *after;
  return o;
}

std::string events_note(const RecoveryOutcome& o) {
  return o.events == EventSource::Kernel ? "udevd is not running: verified on the kernel's uevents" : "";
}

}  // namespace usbrecover
