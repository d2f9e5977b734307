# The USB authorization policy is not usbrecover's to override. A table device whose authorized
# is 0 (as USBGuard, authorized_default=0 or an administrator leaves it) is never probed, reset
# or authorized, whatever the method or trigger; and a device that a port-power cycle brings back
# unauthorized (authorized_default=0 on its bus) is reported so, with nothing written to
# `authorized`. Checked from sysfs and the kernel's log.
. /usr/lib/vm/lib.sh
need_helper
GEN=/usr/bin/usbrecover-gen
[ -x "$GEN" ] || skip "usbrecover-gen is not in this build"

dev=$(dev_of ftdi-pp)
devpath=$(readlink -f "$SYS/$dev")
export USBRECOVER_STATE_DIR=/run/usbrecover-22
rm -rf "$USBRECOVER_STATE_DIR"

# The serial cable is a table device with every method and collateral allowed, so that nothing
# but the authorization policy stands in the way.
cat >/tmp/22.toml <<'TOML'
schema = 1
[[device]]
name = "FTDI cable in the VM"
ids = ["0403:6001"]
methods = ["device", "rebind", "authorize", "port-power", "hub", "controller"]
probe = "open"
cooldown = "0s"
allow_collateral = true
services = ["ups22.service"]
TOML
"$GEN" --table /tmp/22.toml --rules-dir /etc/udev/rules.d --unit-dir /tmp/22-units --helper "$USBRECOVER" ||
  fail "usbrecover-gen failed"
systemd-hwdb update || fail "systemd-hwdb update failed"  # the ids are in /etc/udev/hwdb.d
printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >/usr/bin/systemctl
chmod 755 /usr/bin/systemctl
udevadm control --reload
udevadm trigger --action=add "$devpath"
udevadm settle --timeout=30
udevadm info --query=property --path="$devpath" | grep -qx 'USBRECOVER_SCHEMA=1' || fail "the rule did not match $dev"

cleanup() {
  echo 1 >"$SYS/usb1/authorized_default"
  echo 1 >"$SYS/$dev/authorized" 2>/dev/null
  rm -f /etc/udev/rules.d/70-usbrecover.rules /etc/udev/hwdb.d/70-usbrecover.hwdb /usr/bin/systemctl
  systemd-hwdb update
  udevadm control --reload
}
trap cleanup EXIT

resets() { dmesg | grep -c "usb $dev: reset"; }
old=$(devnum "$dev")
resets_before=$(resets)

# Deauthorized by "the policy": the kernel unbinds its interfaces and keeps it so.
echo 0 >"$SYS/$dev/authorized"
expect_eq "$dev authorized" 0 "$(attr "$dev" authorized)"

for m in device warm-reset rebind authorize port-power hub controller; do
  ur reset "$dev" --method "$m" --allow-collateral
  expect_rc "reset --method $m of a deauthorized device" 73
  grep -q "blocked by the USB authorization policy" /tmp/ur.err || fail "$m: refusal does not name the policy"
  expect_eq "after $m: authorized" 0 "$(attr "$dev" authorized)"
  expect_eq "after $m: devnum" "$old" "$(devnum "$dev")"
done

ur handle --trigger add --syspath "$devpath"
expect_rc "handle add" 0
grep -q "leave it: $dev is not authorized (authorized = 0): blocked by the USB authorization policy" /tmp/ur.err ||
  fail "handle add does not say the device is blocked"

# A failed run of the service would make its next start recover the device: not this one.
export SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=1
ur handle --trigger service-stop --unit ups22.service --match 0403:6001 --serial ftdi-pp
unset SERVICE_RESULT EXIT_CODE EXIT_STATUS
ur handle --trigger service-start --unit ups22.service --match 0403:6001 --serial ftdi-pp
expect_rc "handle service-start" 0
grep -q "blocked by the USB authorization policy" /tmp/ur.err || fail "service-start does not say the device is blocked"

ur explain "$dev" --probe
expect_rc "explain --probe" 0
echo "$UR_OUT" | grep -q "not probed: not authorized" || fail "explain probed a deauthorized device"
echo "$UR_OUT" | grep -q "blocked by the USB authorization policy" || fail "explain does not say why"

expect_eq "authorized after every method and trigger" 0 "$(attr "$dev" authorized)"
expect_eq "devnum after every method and trigger" "$old" "$(devnum "$dev")"
expect_eq "kernel resets of $dev" "$resets_before" "$(resets)"
if grep -q '^attempt ' "$USBRECOVER_STATE_DIR"/history/* 2>/dev/null; then fail "an attempt was recorded"; fi

# Authorized again by the "administrator"; then the bus leaves new devices unauthorized, and a
# power cycle brings the cable back that way: reported, and left so.
echo 1 >"$SYS/$dev/authorized"
out=$(wait_back "$dev" "" 10000) || fail "$dev not back after authorizing it: $out"
echo 0 >"$SYS/usb1/authorized_default"
old=$(devnum "$dev")
ur reset "$dev" --method port-power
expect_rc "reset --method port-power under authorized_default=0" 1
grep -q "came back, left unauthorized by policy" /tmp/ur.err || fail "reset does not say it came back unauthorized"
[ "$(devnum "$dev")" != "$old" ] || fail "the port was not power cycled (devnum still $old)"
expect_eq "authorized after the power cycle" 0 "$(attr "$dev" authorized)"

# The same through the service's start: no further method (authorize would write 1).
echo 1 >"$SYS/$dev/authorized"
out=$(wait_back "$dev" "" 10000) || fail "$dev not back after authorizing it: $out"
rm -rf "$USBRECOVER_STATE_DIR"
cat >/tmp/22.toml <<'TOML'
schema = 1
[[device]]
name = "FTDI cable in the VM"
ids = ["0403:6001"]
methods = ["port-power", "authorize"]
probe = "open"
cooldown = "0s"
services = ["ups22.service"]
TOML
"$GEN" --table /tmp/22.toml --rules-dir /etc/udev/rules.d --unit-dir /tmp/22-units --helper "$USBRECOVER" ||
  fail "usbrecover-gen failed"
systemd-hwdb update || fail "systemd-hwdb update failed"  # the ids are in /etc/udev/hwdb.d
udevadm control --reload
udevadm trigger --action=add "$devpath"
udevadm settle --timeout=30
export SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=1
ur handle --trigger service-stop --unit ups22.service --match 0403:6001 --serial ftdi-pp
unset SERVICE_RESULT EXIT_CODE EXIT_STATUS
old=$(devnum "$dev")
ur handle --trigger service-start --unit ups22.service --match 0403:6001 --serial ftdi-pp
expect_rc "handle service-start under authorized_default=0" 0
grep -q "port-power: $dev: came back, left unauthorized by policy.*no further method" /tmp/ur.err ||
  fail "handle does not say it came back unauthorized and stopped"
[ "$(devnum "$dev")" != "$old" ] || fail "the port was not power cycled"
expect_eq "authorized after handle" 0 "$(attr "$dev" authorized)"
expect_eq "attempts recorded" 1 "$(cat "$USBRECOVER_STATE_DIR"/history/* | grep -c '^attempt ')"
unset USBRECOVER_STATE_DIR
