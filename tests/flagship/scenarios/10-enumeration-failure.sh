# Scenario 10, a port that stops enumerating: a device at a table port fails every descriptor
# request until its port has been without power for longer than the kernel's own cycle. The
# kernel retries, power-cycles the port itself, gives up and says so only in its log;
# usbrecover watch reads it there and hands the port to `usbrecover handle --trigger
# port-failed`, which powers the port off for the entry's off_time and verifies that the
# entry's device enumerates there.
#
# The device is enumsim, our own USB/IP device behind vhci_hcd's root hub (the kernel's USB/IP
# client; dummy_hcd cannot fail an enumeration). Real: the kernel's enumeration, its errors and
# retries and its own power cycle, its log lines, the port's `disable` attribute and the root
# hub requests it makes, the watcher, the helper and the new enumeration. Emulated: what power
# does to the device (enumsim reads the port's PORT_POWER requests through usbmon; after more
# than its hold-up time without power it disconnects and connects anew, answering; see
# tests/flagship/enumsim.c).

vhci=/sys/devices/platform/vhci_hcd.0
run=/run/enumsim
hold_up_ms=1000
off_time_ms=2000

modprobe -a vhci-hcd usbmon || fail "cannot load vhci-hcd and usbmon"
wait_until 10 test -e "$vhci/attach" || fail "vhci_hcd.0 has no attach attribute"
bus=
for d in "$vhci"/usb*; do
  [ "$(cat "$d/speed")" = 480 ] && bus=${d##*/usb}
done
[ -n "$bus" ] || fail "vhci_hcd.0 has no USB 2.0 root hub"
port=$bus-1
port_dir=$SYS/usb$bus/$bus-0:1.0/usb$bus-port1
[ -e "$port_dir/disable" ] || fail "$port_dir has no disable attribute"
ok "vhci_hcd's USB 2.0 root hub is usb$bus; the device goes on port $port"

# The user's local table: the device's ids at that port, recovered by a port power cycle.
cat >"$local_tables/60-enumeration.toml" <<TOML
schema = 1
[[device]]
name = "Flaky device at a vhci_hcd port (simulated)"
ids = ["1209:0001"]
port = "$port"
probe = "descriptor"
methods = ["port-power"]
off_time = "${off_time_ms}ms"
max_resets = 2
window = "10m"
cooldown = "0s"
TOML
apply_tables  # as an administrator applies an edit (lib.sh)
udevadm trigger --action=change --settle "$SYS/usb$bus"
expect_eq "the port entry on the root hub" "1209:0001" \
  "$(udevadm info --query=property --path="$SYS/usb$bus" | sed -n 's/^USBRECOVER_PORT1_IDS=//p')"

# The watcher, as the boot (or the runner) started it. It reads /dev/kmsg from its end, so it
# must be reading before the failure.
systemctl is-active --quiet "$watcher_unit" || fail "$watcher_unit is not running"
watcher_ready() {
  _pid=$(systemctl show -P MainPID "$watcher_unit")
  [ "$_pid" -gt 0 ] && journalctl -b -q --no-pager -u "$watcher_unit" _PID="$_pid" | grep -q 'watch: watching'
}
wait_until 30 watcher_ready || fail "usbrecover watch is not watching: $(journalctl -b -q -u "$watcher_unit" | tail -3)"
ok "usbrecover watch runs (pid $(systemctl show -P MainPID "$watcher_unit"))"

# The device appears, wedged.
mkdir -p "$run"
rm -f "$run/state"
mark=$(uptime_s)
systemd-run --quiet --unit=flagship-scenario-enumsim "$SIM/enumsim" --state "$run/state" --wedged --hold-up "$hold_up_ms" ||
  fail "cannot start enumsim"
sim() { sed -n "s/^$1=//p" "$run/state" 2>/dev/null; }
wait_until 10 test -f "$run/state" || fail "enumsim did not attach: $(journalctl -b -q -u flagship-scenario-enumsim | tail -3)"
t_plug=$(uptime_s)
expect_eq "enumsim's port" "$port" "$(sim port_path)"

gave_up() { journal_since "$mark" -k | grep -q "usb usb$bus-port1: unable to enumerate USB device"; }
wait_until 90 gave_up || fail "the kernel did not give up on port $port: $(journal_since "$mark" -k | tail -5)"
ok "kernel: $(journal_since "$mark" -k | grep "unable to enumerate" | head -1 | sed 's/^.*kernel: //')"
recovered() { journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" USBRECOVER_TRIGGER=port-failed | grep -q .; }
wait_until 90 recovered ||
  fail "no recovery of port $port: $(journal_since "$mark" -u usbrecover-watch.service | tail -5)"
back() { [ "$(cat "$SYS/$port/idVendor" 2>/dev/null):$(cat "$SYS/$port/idProduct" 2>/dev/null)" = 1209:0001 ]; }
wait_until 30 back || fail "no 1209:0001 at $port"
# One failure, one recovery: once the helper the watcher handed the port to has ended (no
# usbrecover-handover@ unit runs), nothing more may follow from the lines the kernel logged.
handed_over_done() {
  ! systemctl list-units --no-legend --state=activating,active 'usbrecover-handover@*' | grep -q .
}
wait_until 60 handed_over_done || fail "the helper the watcher handed the port to did not end"

stamp_of() { sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' | head -1; }
klog=$(journal_since "$mark" -k)
t_gave_up=$(echo "$klog" | grep "usb usb$bus-port1: unable to enumerate USB device" | stamp_of)
t_back=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" USBRECOVER_TRIGGER=port-failed | stamp_of)

# The kernel's own words: descriptor reads that failed with -EPROTO, its own power cycle half
# way through, and its last word, once.
reads=$(echo "$klog" | grep -c "usb $port: device descriptor read/[0-9a-z]*, error -71" || true)
[ "$reads" -ge 2 ] || fail "the kernel logged $reads failed descriptor reads on $port"
ok "kernel: $reads failed descriptor reads, e.g. '$(echo "$klog" | grep "usb $port: device descriptor read" | head -1 | sed 's/^.*kernel: //')'"
# Each enumeration round of the kernel cycles the port once, half way, and ends with "unable to
# enumerate". The first round is the failure; the helper's opening of the suspended root hub
# (to keep it resumed while the port is off) makes the hub driver try the port once more.
cycles=$(echo "$klog" | grep -c "usb usb$bus-port1: attempt power cycle" || true)
gave_ups=$(echo "$klog" | grep -c "usb usb$bus-port1: unable to enumerate USB device" || true)
[ "$cycles" -ge 1 ] || fail "the kernel did not cycle the port itself"
[ "$gave_ups" -le 2 ] || fail "the kernel gave up on $port $gave_ups times"
ok "kernel: $gave_ups rounds ended in 'unable to enumerate', $cycles with 'attempt power cycle'"

# The watcher handed the port over once (a round that ends while the helper runs is logged as
# such), and the helper decided and recovered once.
no_enum=$(journal_since "$mark" MESSAGE_ID="$MID_NO_ENUMERATION" USBRECOVER_PORT="$port")
expect_eq "the watcher's lines on $port" "$gave_ups" "$(echo "$no_enum" | grep -c .)"
handover=$(echo "$no_enum" | grep "handing it to usbrecover handle" || true)
expect_eq "the watcher's handovers" 1 "$(echo "$handover" | grep -c .)"
ok "journal: $(echo "$handover" | sed 's/^.*usbrecover\[[0-9]*\]: //')"
[ "$gave_ups" -eq 1 ] || expect_eq "the watcher's other line" 1 \
  "$(echo "$no_enum" | grep -c "usbrecover handle is recovering it already")"
decisions=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=port-failed)
expect_eq "decisions on port $port" 1 "$(echo "$decisions" | grep -c .)"
ok "journal: $(echo "$decisions" | sed 's/^.*usbrecover\[[0-9]*\]: //')"
recovery=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" USBRECOVER_TRIGGER=port-failed)
expect_eq "recoveries of port $port" 1 "$(echo "$recovery" | grep -c .)"
echo "$recovery" | grep -q "recovered with port-power" || fail "not recovered with port-power: '$recovery'"
ok "journal: $(echo "$recovery" | sed 's/^.*usbrecover\[[0-9]*\]: //')"
[ -z "$(journal_since "$mark" MESSAGE_ID="$MID_FAILED")$(journal_since "$mark" MESSAGE_ID="$MID_REFUSED")" ] ||
  fail "a failure or refusal was logged: $(journal_since "$mark" MESSAGE_ID="$MID_FAILED" MESSAGE_ID="$MID_REFUSED")"

# sysfs: the device with its ids at the port, configured, and the port's power on.
expect_eq "the device at $port" "1209:0001 enumsim-1" \
  "$(cat "$SYS/$port/idVendor"):$(cat "$SYS/$port/idProduct") $(cat "$SYS/$port/serial")"
expect_eq "its configuration" 1 "$(cat "$SYS/$port/bConfigurationValue")"
expect_eq "$port_dir/disable" 0 "$(cat "$port_dir/disable")"

# The device's side: the kernel's own power cuts (shorter than the hold-up time: still wedged),
# then usbrecover's (off_time); cured by the last, and attached anew.
offs=$(sim offs_ms)
expect_eq "power cuts enumsim saw" "$((cycles + 1))" "$(sim power_offs)"
kernel_offs=${offs% *}
helper_off=${offs##* }
kernel_off=0
for k in $kernel_offs; do
  [ "$k" -lt "$hold_up_ms" ] || fail "the kernel's own cycle kept the port off $k ms"
  [ "$k" -le "$kernel_off" ] || kernel_off=$k
done
[ "$helper_off" -ge "$off_time_ms" ] || fail "usbrecover kept the port off $helper_off ms, less than off_time"
expect_eq "enumsim cured by" "1 $helper_off" "$(sim cures) $(sim cured_by_off_ms)"
expect_eq "enumsim's state" "healthy 2 1" "$(sim state) $(sim attaches) $(sim configured)"
ok "enumsim: $(sim failed) transfers failed while wedged; port off ${kernel_off} ms (kernel), ${helper_off} ms (usbrecover)"

figure "plugged in wedged; the kernel gave up $(elapsed "$t_plug" "$t_gave_up") s later ($reads descriptor" \
  "reads failed, its own power cycle at most ${kernel_off} ms); failure to recovered: $(elapsed "$t_gave_up" "$t_back") s" \
  "(one handover, port-power with the port off ${helper_off} ms, 1209:0001 verified at $port)"

# The runner stops enumsim and takes the table away.
