# Scenario 2, wedged at start: the UPS's bridge hangs (the simulator stops answering until the
# host resets it). `systemctl restart nut-driver@myups`: the drop-in's ExecStartPre runs
# usbrecover, which probes, finds it hung, resets the device, verifies it came back and answers,
# and the driver starts; upsc answers again. The journal has the decision and its reasons.

without_watcher

wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
mark=$(uptime_s)
cures0=$(ups_state cures)
dev=$(ups_dev)
devnum0=$(cat "$SYS/$dev/devnum")
t_fault=$(uptime_s)
ups_ctl hang reset
expect_eq "simulator" hung "$(ups_state state)"
systemctl restart "$driver_unit" || true
wait_until 120 upsc_ok || fail "upsc does not answer after the restart: $(upsc_status)"
t_back=$(uptime_s)
ok "upsc answers again after $(elapsed "$t_fault" "$t_back") s"

expect_eq "simulator cured, by" "1 reset" "$(($(ups_state cures) - cures0)) $(ups_state last_cure)"
expect_eq "USB resets the kernel logged" 1 "$(kernel_resets "$mark")"
decision=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start)
echo "$decision"
echo "$decision" | grep -q 'recover' || fail "no decision to recover in the journal"
echo "$decision" | grep -q 'probe failed (Q1 got no reply' || fail "the decision does not give the failed probe as its reason"
expect_eq "the same device back (device number)" "$devnum0" "$(cat "$SYS/$dev/devnum")"
recovered=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" USBRECOVER_METHOD=device)
[ -n "$recovered" ] || fail "no 'recovered with device' in the journal"
ok "journal: $recovered"
# The journal's catalog explains the entry (journalctl -x).
journalctl -b -q -x --no-pager MESSAGE_ID="$MID_RECOVERED" | grep -q 'verified that the same device came back' ||
  fail "journalctl -x shows no catalog text for the recovery"
ok "journalctl -x explains it from the catalog"
figure "fault to upsc answering: $(elapsed "$t_fault" "$t_back") s (restart, probe, device reset, verify, driver start)"
