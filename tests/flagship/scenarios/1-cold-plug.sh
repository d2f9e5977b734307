# Scenario 1, cold plug: the UPS was plugged in while the machine booted. The generated rule (with
# NUT's own rule before it) gives its node group nut and mode 0664 and turns runtime power
# management off; udev handed it to usbrecover@<device>.service, whose probe found it healthy and
# did nothing; nut-driver@myups started and upsd answers for it.

wait_until 30 ups_dev >/dev/null || fail "the simulated UPS is not on the bus"
dev=$(ups_dev)
devpath=$(readlink -f "$SYS/$dev")
devpath=${devpath#/sys}
node=$(printf '/dev/bus/usb/%03d/%03d' "$(cat "$SYS/$dev/busnum")" "$(cat "$SYS/$dev/devnum")")
expect_eq "node group and mode" "nut 664" "$(stat -c '%G %a' "$node")"
expect_eq "power/control" on "$(cat "$SYS/$dev/power/control")"
props=$(udevadm info --query=property --path="/sys$devpath")
echo "$props" | grep -qx 'USBRECOVER_PROBE=megatec-q1' || fail "the rule did not carry the policy: $props"
echo "$props" | grep -qx 'USBRECOVER_MAX_RESETS=4' || fail "the local table did not override the shipped entry: $props"
ok "the rule carries the local table's policy"

unit=usbrecover@$(systemd-escape --path "$devpath").service
# The oneshot has long finished (and systemd has unloaded it): its journal is the record.
ran() { journalctl -b -q -o cat -u "$unit" | grep -q 'Deactivated successfully'; }
wait_until 60 ran ||
  fail "$unit did not run to success: $(journalctl -b -q -o cat -u "$unit" | tail -3)"
decision=$(journalctl -b -q -o cat -u "$unit" MESSAGE_ID="$MID_DECISION")
echo "$decision" | grep -q 'leave' || fail "$unit did not decide to leave the UPS alone: '$decision'"
echo "$decision" | grep -q 'the probe answered' || fail "the decision does not say the probe answered: '$decision'"
ok "$unit: $decision"
expect_eq "USB resets since boot" 0 "$(journalctl -b -q -k -o cat | grep -c 'reset full-speed USB device' || true)"
expect_eq "cures the UPS needed" 0 "$(ups_state cures)"

wait_until 60 upsc_ok || fail "upsc $UPS ups.status: $(upsc_status)"
ok "upsc $UPS ups.status: OL"
expect_eq "NUT driver and UPS ids" "nutdrv_qx 0665 5161" \
  "$(upsc "$UPS" driver.name) $(upsc "$UPS" ups.vendorid) $(upsc "$UPS" ups.productid)"

# The boot's timeline, from the journal's monotonic timestamps.
at() { journalctl -b -q -o short-monotonic "$@" | head -1 | tr -d '[]' | awk '{ printf "%.1f", $1 }'; }
figure "UPS plugged in at $(at -u flagship-ups.service -g 'Finished') s after boot;" \
  "usbrecover checked it (healthy, no reset) at $(at -u "$unit" MESSAGE_ID="$MID_DECISION") s;" \
  "nut-driver@myups up at $(at -u "$driver_unit" -g '^Started') s"

# The watcher, enabled as a user would: up since boot, following the kernel log, and watching
# both NUT drivers once their devices are there (it looks again as devices come and go).
systemctl is-active --quiet "$watcher_unit" || fail "$watcher_unit is not running: $(systemctl status "$watcher_unit" | tail -3)"
journalctl -b -q -o cat -u "$watcher_unit" | grep -q "watch: following the kernel's log and USB uevents" ||
  fail "the watcher does not follow the kernel log: $(journalctl -b -q -o cat -u "$watcher_unit" | tail -3)"
watching() { journalctl -b -q -o cat -u "$watcher_unit" | grep 'watch: watching' | tail -1; }
both() { watching | grep -q 'watch: watching 2 NUT driver(s): myups, serialups$'; }
wait_until 30 both || fail "the watcher does not watch both drivers: '$(watching)'"
ok "$watcher_unit: $(watching)"

# What the watcher costs while nothing happens: its memory and how often it wakes, over 60 s.
pid=$(systemctl show -p MainPID --value "$watcher_unit")
switches() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status"; }
s0=$(switches)
sleep 60
s1=$(switches)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
figure "watcher idle (2 NUT drivers, the kernel log, uevents): RSS ${rss} kB (peak ${hwm} kB)," \
  "$((s1 - s0)) wake-ups in 60 s"
