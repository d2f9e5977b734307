# `reset --method warm-reset` (issue 15) on the SuperSpeed stick on xHCI root port 2-4.
#
# First the finding the method is built on: a warm reset the kernel did not start
# (SetPortFeature(BH_PORT_RESET) through usbfs, hub driver bound) reaches xHCI's hub_control,
# which sets the port's Warm Port Reset bit; xHCI reports the port change with Warm Port Reset
# Change set (PORTSC bit 19, dynamic debug of xhci_hcd's handle_port_status); the hub driver sees
# the reset-change bits, clears them ("reset change", "warm reset change", dynamic debug of
# hub.c) and does nothing else: no reset of the device, no disconnect, no re-enumeration.
#
# Then the method: the same request, then USBDEVFS_RESET, which the kernel logs as its reset of
# the device at SuperSpeed, after xHCI's warm reset change; devnum and speed (5000) stay, the
# driver is bound again and the disk reads. Refused (73, nothing touched): a device on qemu's
# USB 2.0 hub, a USB 2.0 root port, the SuperSpeed root hub itself.
. /usr/lib/vm/lib.sh
need_helper

ctl=/sys/kernel/debug/dynamic_debug/control
[ -e "$ctl" ] || mount -t debugfs none /sys/kernel/debug || fail "cannot mount debugfs"
[ -w "$ctl" ] || fail "no dynamic debug control: the kernel's hub driver cannot be watched"
echo 'file drivers/usb/core/hub.c +p' >"$ctl" || fail "cannot turn on dynamic debug for hub.c"
echo 'func handle_port_status +p' >"$ctl" || fail "cannot turn on dynamic debug for xhci's port events"
trap 'echo "file drivers/usb/core/hub.c -p" >"$ctl"; echo "func handle_port_status -p" >"$ctl"' EXIT

# warm_change LOG: the line number of the first xHCI port change event of 2-$port whose PORTSC
# has Warm Port Reset Change (bit 19) set, or nothing.
warm_change() {
  grep -n "Port change event, 2-$port, " "$1" | while IFS= read -r _l; do
    _sc=${_l##*portsc: }
    [ $((_sc & 0x80000)) -ne 0 ] && { echo "${_l%%:*}"; break; }
  done
}

dev=$(dev_of ss-stick)
port=${dev#*-}
expect_eq "$dev speed" 5000 "$(attr "$dev" speed)"
expect_eq "$dev parent" usb2 "$(basename "$(readlink -f "$SYS/$dev/..")")"
disk=/dev/$(disk_of "$dev") || fail "no disk under $dev"
reads() { dd if="$disk" of=/dev/null bs=4096 count=4 skip="$1" iflag=direct 2>/dev/null; }

# --- The finding: an unsolicited warm reset.
old=$(devnum "$dev")
dmesg -c >/dev/null
vmtool port-feature usb2 "$port" set 28 || fail "SetPortFeature(BH_PORT_RESET) on usb2 port $port failed"
sleep 2  # whatever the hub driver does with the change bits, it does within milliseconds
dmesg >/tmp/18.unsolicited
sed 's/^/  | /' /tmp/18.unsolicited
[ -n "$(warm_change /tmp/18.unsolicited)" ] || fail "xHCI reported no warm reset change on 2-$port"
grep -q "usb usb2-port$port: warm reset change" /tmp/18.unsolicited ||
  fail "finding changed: the hub driver did not report the warm reset change; update tests/vm/README.md"
if grep -E "usb $dev: (reset|USB disconnect)|usb $dev: new " /tmp/18.unsolicited; then
  fail "finding changed: the kernel acted on the warm reset itself; update tests/vm/README.md and the method"
fi
expect_eq "unsolicited warm reset: devnum" "$old" "$(devnum "$dev")"
ok "the kernel only cleared the change bits: $(grep -c 'usb2-port' /tmp/18.unsolicited) hub.c lines, no reset"
reads 10 || fail "$disk does not read after the unsolicited warm reset"
# qemu's xHCI hands transfers to the device by slot, not by USB address, so the stick keeps
# answering here; a real device is at address 0 and unconfigured until the kernel resets it.
ok "$disk still reads (qemu routes by slot; see tests/vm/README.md)"

# --- The method.
ur explain "$dev"
expect_rc "explain $dev" 0
echo "$UR_OUT" | grep -q "try  warm-reset: disturbs no other device" || fail "explain does not offer warm-reset"
ur reset "$dev" --method warm-reset --dry-run
expect_rc "warm-reset --dry-run" 0
echo "$UR_OUT" | grep -q "warm-reset /dev/bus/usb/002/001 $port" || fail "dry run does not show the warm reset"
echo "$UR_OUT" | grep -q "reset $(node_of "$dev")" || fail "dry run does not show the device reset after it"

dmesg -c >/dev/null
reset_ok ss-stick warm-reset same
dmesg >/tmp/18.method
sed 's/^/  | /' /tmp/18.method
expect_eq "$dev speed after the warm reset" 5000 "$(attr "$dev" speed)"
# The kernel's own reset clears the change bits before the hub driver's event handler gets the
# port, so hub.c says nothing here; xHCI's port event still shows the warm reset.
warm=$(warm_change /tmp/18.method)
reset=$(grep -n "usb $dev: reset SuperSpeed USB device number $(devnum "$dev")" /tmp/18.method | head -1 |
  cut -d: -f1)
[ -n "$warm" ] || fail "xHCI reported no warm reset change on 2-$port"
[ -n "$reset" ] || fail "the kernel did not log its reset of $dev at SuperSpeed"
[ "$warm" -lt "$reset" ] || fail "the device reset came before the warm reset"
ok "kernel log: $(sed -n "${warm}p" /tmp/18.method | sed 's/^\[[^]]*\] //'), then: $(sed -n "${reset}p" \
  /tmp/18.method | sed 's/^\[[^]]*\] //')"
if grep -E "usb $dev: USB disconnect" /tmp/18.method; then fail "$dev was disconnected"; fi
reads 20 || fail "$disk does not read after the warm reset"
ok "$disk reads after the warm reset"

# --- Refusals: no warm reset on a USB 2.0 port; a root hub has no upstream port.
reset_refused ftdi-pp warm-reset 73
grep -q "is on port 2 of $(dev_of pphub), a USB 2.0 hub: a warm reset (BH_PORT_RESET) exists only on SuperSpeed ports" \
  /tmp/ur.err || fail "the refusal for ftdi-pp does not say why"
tablet=$(dev_of tablet-root)
old=$(devnum "$tablet")
ur reset "$tablet" --method warm-reset
expect_rc "warm-reset of $tablet on a USB 2.0 root port" 73
grep -q "$tablet is on port 3 of usb1, a USB 2.0 hub" /tmp/ur.err || fail "the refusal for $tablet does not say why"
expect_eq "$tablet untouched" "$old" "$(devnum "$tablet")"
ur reset usb2 --method warm-reset
expect_rc "warm-reset of the root hub usb2" 73
grep -q "usb2 is a root hub; it has no upstream port to reset" /tmp/ur.err || fail "the refusal for usb2 does not say why"
