# Scenario 6, hot plug of a hung UPS: with NUT's driver stopped, the UPS is unplugged and comes
# back already hung, the kind of hang only a power cycle cures. udev's event starts
# usbrecover@<device>.service, the hardened unit (not a service's drop-in), whose probe gets no
# answer; from inside its sandbox it climbs the ladder (usbfs reset, sysfs writes) to a port
# power cycle, and verifies the device came back answering. The driver then starts against a
# UPS that answers.

without_watcher

wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
systemctl stop "$driver_unit"
gadget=$(cat "$UPS_RUN/gadget")
udc=$(cat "$gadget/UDC")
echo "" >"$gadget/UDC"
gone() { ! ups_dev >/dev/null; }
wait_until 30 gone || fail "the UPS did not leave the bus"
ok "the UPS is unplugged"
cures0=$(ups_state cures)
disables0=$(ups_state disables)
ups_ctl hang power
mark=$(uptime_s)
t_plug=$(uptime_s)
echo "$udc" >"$gadget/UDC"
recovered() { journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" -u 'usbrecover@*' | grep -q 'recovered with port-power'; }
wait_until 60 recovered || fail "usbrecover@ did not recover the hung UPS: $(journal_since "$mark" -u 'usbrecover@*' | tail -5)"
t_recovered=$(uptime_s)
dev=$(ups_dev) || fail "the UPS is not on the bus"
unit=usbrecover@$(systemd-escape --path "$(readlink -f "$SYS/$dev" | sed 's|^/sys||')").service
journal_since "$mark" -u "$unit" MESSAGE_ID="$MID_DECISION" | grep -q 'the probe failed' ||
  fail "$unit did not decide on a failed probe"
ok "$unit: $(journal_since "$mark" -u "$unit" MESSAGE_ID="$MID_RECOVERED" | sed 's/^.*usbrecover: //')"
# The rungs below port-power reached the device from inside the sandbox too: the kernel reset
# it, and the simulator saw it unconfigured by each before the power cycle.
[ "$(kernel_resets "$mark")" -ge 1 ] || fail "the kernel logged no device reset from usbrecover@"
[ "$(($(ups_state disables) - disables0))" -ge 3 ] ||
  fail "the simulator saw $(($(ups_state disables) - disables0)) re-enumerations; the lower rungs did not reach it"
# ...with no capability at all (the unit's CapabilityBoundingSet= is empty).
expect_eq "usbrecover@'s capabilities" "" "$(systemctl show -P CapabilityBoundingSet "$unit")"
expect_eq "simulator cured, by" "1 power" "$(($(ups_state cures) - cures0)) $(ups_state last_cure)"
systemctl start "$driver_unit"
wait_until 60 upsc_ok || fail "upsc does not answer after the driver's start: $(upsc_status)"
figure "plugged in hung; usbrecover@ recovered it $(elapsed "$t_plug" "$t_recovered") s after the plug" \
  "(the ladder up to port-power, inside the unit's sandbox); upsc answering $(elapsed "$t_plug") s after it"
