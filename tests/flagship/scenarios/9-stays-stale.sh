# Scenario 9, a UPS that stays stale: every cure buys no answer at all (`storm 0`), so nothing
# usbrecover does brings the data back. With a budget of two recoveries per 10 minutes, the
# watcher's handover gets exactly two, then the budget holds: no further recovery, no restart by
# the watcher (one refusal line), whatever systemd's own restarts of a driver that cannot start do.

systemctl is-active --quiet "$watcher_unit" || fail "$watcher_unit is not running"
wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
cat >"$local_tables/60-stays-stale.toml" <<'TOML'
schema = 1
[[device]]
name = "INNO TECH UPS (simulated), stays stale"
ids = ["0665:5161"]
probe = "megatec-q1"
services = ["nut-driver@.service"]
methods = ["device", "port-power"]
max_resets = 2
window = "10m"
cooldown = "0s"
TOML
apply_tables  # as an administrator applies an edit (lib.sh)
dev=$(ups_dev)
udevadm trigger --action=change --settle "$SYS/$dev"
udevadm info --query=property --path="$SYS/$dev" | grep -qx 'USBRECOVER_MAX_RESETS=2' ||
  fail "the budget did not reach the device's udev properties"
ok "the table with a budget of 2 is in force"

mark=$(uptime_s)
cures0=$(ups_state cures)
t_fault=$(uptime_s)
ups_ctl storm 0
attempts() { journal_since "$mark" MESSAGE_ID="$MID_RECOVERED"; journal_since "$mark" MESSAGE_ID="$MID_FAILED"; }
budget_spent() { journal_since "$mark" MESSAGE_ID="$MID_FAILED" | grep -q 'could not recover: tried device .*port-power'; }
wait_until 150 budget_spent || fail "the two recoveries never ran: $(attempts)"
t_spent=$(uptime_s)
ok "recoveries: $(journal_since "$mark" MESSAGE_ID="$MID_FAILED" | tail -1)"
# Then 60 s more: whatever happens, no further recovery and no second handover.
sleep 60
expect_eq "handovers by the watcher" 1 "$(handovers "$mark" | grep -c .)"
expect_eq "simulator cures (one per recovery)" 2 "$(($(ups_state cures) - cures0))"
expect_eq "recovery runs that failed" 1 "$(journal_since "$mark" MESSAGE_ID="$MID_FAILED" | grep -c .)"
expect_eq "recoveries that worked" 0 "$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" | grep -c . || true)"
refusals=$(journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | grep -c . || true)
[ "$refusals" -ge 1 ] || fail "no refusal after the budget was spent"
ok "$refusals refusal(s) since, no recovery: $(journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | tail -1)"
watcher_refusals=$(journal_since "$mark" -u "$watcher_unit" MESSAGE_ID="$MID_REFUSED" | grep -c . || true)
[ "$watcher_refusals" -le 1 ] || fail "the watcher logged $watcher_refusals refusals for one episode"
ok "the watcher's refusal lines: $watcher_refusals"
figure "stays stale: 1 handover, 2 recoveries (device, port-power) $(elapsed "$t_fault" "$t_spent") s" \
  "after the fault, then $refusals refusal(s) and no recovery in the next 60 s"
# The runner takes the table away again and lets the UPS answer.
