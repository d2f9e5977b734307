// SPDX-License-Identifier: MIT
// `usbrecover explain SELECTOR [--trigger T] [--probe] [--json]`: the decision and its reasons,
// acting on nothing.

#include <cerrno>
#include <ostream>

#include "act/interrupt.hpp"
#include "act/recovery.hpp"
#include "commands/entry.hpp"
#include "decide/state_store.hpp"
#include "snapshot/probe.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

void explain_usage(std::ostream& os) {
  os << "usage: usbrecover explain SELECTOR [--serial S] [--trigger T] [--probe] [--json]\n"
        "       usbrecover explain (--syspath PATH | --nut-instance NAME [--ups-conf PATH]) ...\n"
        "\n"
        "Shows what usbrecover would decide for the device, and why: the policy its table entry\n"
        "carries, its history, whether it may act, and the ladder of methods with the steps of\n"
        "each and every other device each would disturb. It starts at the method that cured the\n"
        "device the last times, when its history remembers one, and says so. Nothing is changed.\n"
        "\n"
        "  --trigger T   decide as for T: add, service-start, service-stop (default: manual)\n"
        "  --probe       run the device's probe first; without it the probe is taken as failed,\n"
        "                so explain shows what a recovery would do\n"
        "  --json        print the decision as JSON\n";
}

}  // namespace

int cmd_explain(const Args& args, Context& ctx) {
  EntryOptions o;
  if (auto bad = parse_entry_options(args, o, true); !bad.empty()) {
    ctx.err << "usbrecover: explain: " << bad << "\n";
    explain_usage(ctx.err);
    return kExitUsage;
  }
  if (o.help) {
    explain_usage(ctx.out);
    return kExitOk;
  }
  if (o.controller || !o.properties.empty() || o.trigger == Trigger::ControllerDied) {
    ctx.err << "usbrecover: explain: '--controller', '--property' and '--trigger controller-died' are "
               "handle's (the watcher's hand-over of a dead controller)\n";
    return kExitUsage;
  }
  auto prepared = prepare_device(o, ctx, false, [&](Priority, const std::string& msg) {
    ctx.err << "usbrecover: explain: " << terminal_safe(msg) << "\n";
  });
  if (const int* rc = std::get_if<int>(&prepared)) return *rc;
  const DeviceContext* dc = &std::get<PreparedDevice>(prepared).context;
  Policy policy = dc->table ? dc->table->policy : Policy{};
  StateStore store(ctx.state_dir);
  auto history = store.load(dc->key);
  if (!history) {
    ctx.err << "usbrecover: explain: " << terminal_safe(history.error().message()) << ", ignoring\n";
    history = History{};
  }
  ProbeResult probe{ProbeResult::State::Failed, "assumed: explain does not probe without --probe"};
  if (!dc->snapshot.device.authorized) {
    probe = ProbeResult{ProbeResult::State::NotConfigured, "not probed: not authorized"};
  } else if (o.probe) {
    // Probing talks to the device (the megatec probe even detaches its driver for a moment):
    // guarded like handle's probe, and never beside a recovery of the same connector.
    auto lock = store.lock(dc->key, false);
    if (!lock) {
      ctx.err << "usbrecover: explain: " << terminal_safe(lock.error().message()) << "; not probing\n";
      return lock.error().errnum == EWOULDBLOCK ? kExitTempFail : kExitSoftware;
    }
    InterruptGuard guard;
    ProbeIntents intents(ctx.sysfs_root, ctx.state_dir);
    probe = run_probe(policy.probe, dc->snapshot.device, ProbeOptions{.journal = &intents});
  }
  Trigger trigger = o.trigger.value_or(Trigger::Manual);
  Decision d = decide(PlannerInput{dc->snapshot, policy, *history, trigger, probe, epoch_now(),
                                   PlanOptions{.sysfs_root = ctx.sysfs_root, .off_time = policy.off_time}});
  if (o.json)
    decision_json(ctx.out, *dc, policy, trigger, probe, d);
  else
    decision_text(ctx.out, *dc, policy, trigger, probe, d);
  return kExitOk;
}

}  // namespace usbrecover
