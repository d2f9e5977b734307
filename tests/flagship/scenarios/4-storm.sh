# Scenario 4, a storm: the bridge hangs again after every recovery. The table's budget (a local
# table of the user's: max_resets = 2 per 10 minutes) stops the recoveries; the journal says why,
# the driver keeps being restarted by systemd, and no further reset happens.

without_watcher

wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
cat >"$local_tables/60-storm.toml" <<'TOML'
schema = 1
[[device]]
name = "INNO TECH UPS (simulated), storm budget"
ids = ["0665:5161"]
probe = "megatec-q1"
services = ["nut-driver@.service"]
methods = ["device", "rebind", "authorize", "port-power", "hub"]
max_resets = 2
window = "10m"
cooldown = "0s"
TOML
apply_tables  # as an administrator applies an edit (lib.sh)
[ -f /etc/udev/hwdb.d/70-usbrecover.hwdb ] || fail "--apply wrote no hwdb into /etc/udev/hwdb.d"
dev=$(ups_dev)
udevadm trigger --action=change --settle "$SYS/$dev"
udevadm info --query=property --path="$SYS/$dev" | grep -qx 'USBRECOVER_MAX_RESETS=2' ||
  fail "the new budget did not reach the device's udev properties"
ok "the storm table is in force"

mark=$(uptime_s)
cures0=$(ups_state cures)
t_fault=$(uptime_s)
# Every cure buys exactly one answer (usbrecover's own verification); NUT's driver then meets a
# hung UPS again, exits, and systemd restarts it.
ups_ctl storm 1
systemctl kill --signal=SIGKILL "$driver_unit"
refused_budget() { journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | grep -q 'max_resets = 2'; }
wait_until 240 refused_budget || fail "no refusal for the budget in the journal"
t_refused=$(uptime_s)
refusal=$(journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | head -1)
ok "journal: $refusal"
resets_then=$(ups_state cures)
starts_then=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start | grep -c .)
# Two more starts of the driver, both refused, and not one more reset.
more_starts() {
  [ "$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-start | grep -c .)" -ge $((starts_then + 2)) ]
}
wait_until 120 more_starts || fail "systemd did not restart the driver twice more"
# device first; the driver failed again after it, so the next start climbed above it.
expect_eq "recoveries in the storm, in order" "device authorize" \
  "$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" | sed -n 's/.*recovered with \([a-z-]*\):.*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "cures after the budget ran out" "$resets_then" "$(ups_state cures)"
expect_eq "simulator cures in the storm" 2 "$(($(ups_state cures) - cures0))"
ok "$(journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | grep -c .) starts refused, no reset after the budget"
figure "fault to the budget's refusal: $(elapsed "$t_fault" "$t_refused") s; 2 recoveries, then" \
  "$(journal_since "$mark" MESSAGE_ID="$MID_REFUSED" | grep -c .) refused starts and no reset"

# The runner takes the storm table away again (also when this scenario fails).
