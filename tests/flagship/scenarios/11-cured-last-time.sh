# Scenario 11, cured last time (issue 14): the bridge hangs twice the way only a power cycle
# cures, more than a window apart. The first time the start climbs the ladder (device, rebind,
# authorize, port-power) as in scenario 3; the second time it starts at port-power, because the
# history remembers that port-power cured this device and the rungs below it did not, and the
# kernel resets nothing before the power cycle. The window is one minute here so the second fault
# is not taken for a cure that did not last (the service failing again within the window climbs
# above the method that recovered it).

without_watcher

wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
cat >"$local_tables/60-cured-last-time.toml" <<'TOML'
schema = 1
[[device]]
name = "INNO TECH UPS (simulated), one-minute window"
ids = ["0665:5161"]
probe = "megatec-q1"
services = ["nut-driver@.service"]
methods = ["device", "rebind", "authorize", "port-power", "hub"]
max_resets = 4
window = "1m"
cooldown = "10s"
TOML
apply_tables  # as an administrator applies an edit (lib.sh)
dev=$(ups_dev)
udevadm trigger --action=change --settle "$SYS/$dev"
udevadm info --query=property --path="$SYS/$dev" | grep -qx 'USBRECOVER_WINDOW_MS=60000' ||
  fail "the window did not reach the device's udev properties"
ok "the table with a one-minute window is in force"

# The monotonic time of a journal line (journal_since prints short-monotonic).
line_time() { sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }

# One fault: the bridge hangs until a power cycle, NUT notices, the driver dies, systemd's
# restart recovers it. Sets mark, t_kill, t_back, climbed (re-enumerations the simulator saw) and
# took (from the start's decision to the device verified: usbrecover's own part).
fault() {
  mark=$(uptime_s)
  cures0=$(ups_state cures)
  disables0=$(ups_state disables)
  t_fault=$(uptime_s)
  ups_ctl hang power
  wait_until 60 upsc_stale || fail "NUT never noticed the hung UPS: $(upsc_status)"
  t_kill=$(uptime_s)
  systemctl kill --signal=SIGKILL "$driver_unit"
  wait_until 240 upsc_ok || fail "upsc does not answer after the driver's restart: $(upsc_status)"
  t_back=$(uptime_s)
  recovered=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED")
  echo "$recovered" | grep -q 'recovered with port-power' || fail "not recovered with port-power: '$recovered'"
  expect_eq "recoveries" 1 "$(echo "$recovered" | grep -c .)"
  t_decided=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start | tail -1 | line_time)
  [ -n "$t_decided" ] || fail "no decision of the driver's start in the journal"
  took=$(elapsed "$t_decided" "$(echo "$recovered" | line_time)")
  expect_eq "simulator cured, by" "1 power" "$(($(ups_state cures) - cures0)) $(ups_state last_cure)"
  climbed=$(($(ups_state disables) - disables0))
}

fault
t_first=$(elapsed "$t_kill" "$t_back")
took_first=$took
[ "$climbed" -ge 3 ] || fail "the simulator saw $climbed re-enumerations; the ladder did not climb"
[ "$(kernel_resets "$mark")" -ge 1 ] || fail "the kernel logged no device reset before the power cycle"
ok "first fault: recovered $took_first s after the decision, upsc answers $t_first s after the kill;" \
  "the ladder climbed ($climbed re-enumerations) to port-power"
climbed_first=$climbed

# Past the window of the first recovery, so that only the remembered cure decides where to start.
sleep 65

fault
t_second=$(elapsed "$t_kill" "$t_back")
decision=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start)
echo "$decision" | grep -q 'start with port-power .*start at port-power: it cured this device at ' ||
  fail "the second recovery did not start at port-power: '$decision'"
ok "decision: $decision"
expect_eq "device resets before the power cycle" 0 "$(kernel_resets "$mark")"
expect_eq "re-enumerations the simulator saw" 1 "$climbed"
ok "second fault: recovered $took s after the decision, upsc answers $t_second s after the kill," \
  "straight to port-power"
figure "decision to recovered: first $took_first s (the ladder climbed to port-power, $climbed_first" \
  "re-enumerations), second $took s (started at port-power, which cured it the first time;" \
  "1 re-enumeration); driver killed to upsc answering: $t_first s, then $t_second s" \
  "(both include nut-driver@'s RestartSec=15s)"
