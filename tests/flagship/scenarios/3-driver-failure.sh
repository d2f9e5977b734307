# Scenario 3, driver failure and escalation: the bridge hangs while the driver runs, and this
# time a device reset does not help: only a power cycle of its port does (the simulator ignores
# resets). NUT's driver reports the data stale, then dies (SIGKILL, as a crash would);
# ExecStopPost records the failure; systemd restarts it, and the start climbs the ladder
# (device, rebind, authorize, port-power) and stops at the first method that works.

without_watcher

wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
mark=$(uptime_s)
cures0=$(ups_state cures)
disables0=$(ups_state disables)
t_fault=$(uptime_s)
ups_ctl hang power
wait_until 60 upsc_stale || fail "NUT never noticed the hung UPS: $(upsc_status)"
t_stale=$(uptime_s)
ok "NUT reports '$(upsc_status)' after $(elapsed "$t_fault" "$t_stale") s"
systemctl kill --signal=SIGKILL "$driver_unit"
wait_until 240 upsc_ok || fail "upsc does not answer after the driver's restart: $(upsc_status)"
t_back=$(uptime_s)
ok "upsc answers again after $(elapsed "$t_fault" "$t_back") s"

stop=$(journal_since "$mark" USBRECOVER_TRIGGER=service-stop)
echo "$stop" | grep -q 'stopped: signal' || fail "ExecStopPost did not record the failure: '$stop'"
ok "ExecStopPost: $stop"
echo "$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start)"
recovered=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED")
echo "$recovered" | grep -q 'recovered with port-power' || fail "not recovered with port-power: '$recovered'"
expect_eq "recoveries" 1 "$(echo "$recovered" | grep -c .)"
ok "journal: $recovered"
expect_eq "simulator cured, by" "1 power" "$(($(ups_state cures) - cures0)) $(ups_state last_cure)"
# Each method below port-power reached the simulator (it saw the device unconfigured) and left
# it hung; the power cycle was the last re-enumeration.
climbed=$(($(ups_state disables) - disables0))
[ "$climbed" -ge 3 ] || fail "the simulator saw $climbed re-enumerations; the ladder did not climb"
ok "the simulator saw $climbed re-enumerations, the last one a power cycle"
resets=$(kernel_resets "$mark")
[ "$resets" -ge 1 ] || fail "the kernel logged no device reset before the power cycle"
ok "the kernel logged $resets device reset(s) before the power cycle"
figure "fault to NUT reporting it: $(elapsed "$t_fault" "$t_stale") s; fault to upsc answering:" \
  "$(elapsed "$t_fault" "$t_back") s (includes nut-driver@'s RestartSec=15s; $climbed re-enumerations," \
  "the ladder stopped at port-power)"
