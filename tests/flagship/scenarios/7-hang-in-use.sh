# Scenario 7, the UPS hangs while NUT's driver runs, and nobody acts: nutdrv_qx marks its data
# stale and keeps running (NUT 2.8.0 never exits for this, so systemd never restarts it). The
# watcher hears DATASTALE on the driver's socket; after the entry's stale_after (10 s, the
# default) it hands the driver to `usbrecover handle --trigger service-stale`, which records the
# run as failed and restarts the unit; the restart's ExecStartPre recovers the UPS (a device reset
# is enough for `hang reset`) and the driver starts on a UPS that answers.

systemctl is-active --quiet "$watcher_unit" || fail "$watcher_unit is not running"
wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
mark=$(uptime_s)
cures0=$(ups_state cures)
invocation0=$(driver_invocation)
t_fault=$(uptime_s)
ups_ctl hang reset
wait_until 60 upsc_stale || fail "NUT never noticed the hung UPS: $(upsc_status)"
t_stale=$(uptime_s)
ok "NUT reports '$(upsc_status)' after $(elapsed "$t_fault" "$t_stale") s, and its driver keeps running"
handed() { [ -n "$(handovers "$mark")" ]; }
wait_until 90 handed || fail "the watcher never handed the stale driver over"
t_handover=$(uptime_s)
ok "handover: $(handovers "$mark")"
handovers "$mark" | grep -q 'data stale for .*(stale_after 10s); recorded as a failed run, restarting it' ||
  fail "the handover does not say why: '$(handovers "$mark")'"
wait_until 120 upsc_ok || fail "upsc does not answer after the watcher's restart: $(upsc_status)"
t_back=$(uptime_s)
ok "upsc answers again after $(elapsed "$t_fault" "$t_back") s"

[ "$(driver_invocation)" != "$invocation0" ] || fail "$driver_unit was never restarted"
stop=$(journal_since "$mark" USBRECOVER_TRIGGER=service-stop)
echo "$stop" | grep -q "stopped for usbrecover watch's restart" ||
  fail "ExecStopPost did not keep the watcher's verdict: '$stop'"
recovered=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED")
echo "$recovered" | grep -q 'recovered with device' || fail "not recovered with a device reset: '$recovered'"
expect_eq "recoveries" 1 "$(echo "$recovered" | grep -c .)"
expect_eq "handovers for one hang" 1 "$(handovers "$mark" | grep -c .)"
expect_eq "simulator cured, by" "1 reset" "$(($(ups_state cures) - cures0)) $(ups_state last_cure)"
figure "hang to NUT reporting it: $(elapsed "$t_fault" "$t_stale") s; to the watcher's handover:" \
  "$(elapsed "$t_fault" "$t_handover") s; hang to upsc answering: $(elapsed "$t_fault" "$t_back") s" \
  "(nobody acting; the driver was never killed)"
