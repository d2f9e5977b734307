# The generated udev rule and the entry points on the real kernel and a real udevd.
# The rule must match the INNO TECH gadget, carry its policy in USBRECOVER_* properties, turn
# runtime power management off, and dispatch usbrecover@<escaped devpath>.service through
# `systemctl --no-block` (systemd is not in the bed: a stand-in systemctl records the call).
# Then `handle` for each trigger, checked from the kernel's log and the helper's history:
# `add` leaves a device that answers its probe; a failed service run makes the next start
# recover it with the first method; the start after that leaves it; twenty concurrent starts
# after another failure do exactly one recovery, and it climbs above `device`, which did not last.
. /usr/lib/vm/lib.sh
need_helper
GEN=/usr/bin/usbrecover-gen
[ -x "$GEN" ] || skip "usbrecover-gen is not in this build"

dev=$(dev_of inno)
devpath=$(readlink -f "$SYS/$dev")
devpath=${devpath#/sys}
export USBRECOVER_STATE_DIR=/run/usbrecover-30
rm -rf "$USBRECOVER_STATE_DIR"

cat >/tmp/30.toml <<'TOML'
schema = 1
[[device]]
name = "INNO TECH bridge in the VM"
ids = ["0665:5161"]
group = "nut"
mode = "0660"
methods = ["device", "authorize"]
probe = "descriptor"
cooldown = "0s"
services = ["upsdrv.service"]
TOML
"$GEN" --table /tmp/30.toml --rules-dir /etc/udev/rules.d --unit-dir /tmp/30-units --helper "$USBRECOVER" ||
  fail "usbrecover-gen failed"
systemd-hwdb update || fail "systemd-hwdb update failed"  # the ids are in /etc/udev/hwdb.d
printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >/usr/bin/systemctl
chmod 755 /usr/bin/systemctl
rm -f /tmp/systemctl.log
# The bed's udevd does not resolve names; GROUP="nut" needs them (glibc reads /etc/group).
restart_udevd() {
  udevadm control --exit
  /bin/systemd-udevd --daemon --resolve-names="$1" || fail "systemd-udevd did not start"
}
restart_udevd early

# The rule, through a real udevd.
echo auto >"$SYS/$dev/power/control"
udevadm trigger --action=add "$SYS/$dev"
udevadm settle --timeout=30
props=$(udevadm info --query=property --path="$devpath")
echo "$props" | grep -qx 'USBRECOVER_SCHEMA=1' || fail "no USBRECOVER_SCHEMA on $dev: $props"
echo "$props" | grep -qx 'USBRECOVER_METHODS=device,authorize' || fail "policy not carried: $props"
echo "$props" | grep -qx 'USBRECOVER_PROBE=descriptor' || fail "probe not carried: $props"
ok "the rule matched $dev and carried its policy"
expect_eq "power/control after the rule" on "$(attr "$dev" power/control)"
node=$(node_of "$dev")
expect_eq "node group and mode" "nut 660" "$(stat -c '%G %a' "$node")"
escaped=$(echo "${devpath#/}" | sed 's/-/\\x2d/g; s|/|-|g')
expect_eq "dispatch" "--no-block start usbrecover@$escaped.service" "$(cat /tmp/systemctl.log 2>/dev/null)"

# add: the device answers its probe, so it is left alone.
ur handle --trigger add --syspath "/sys$devpath"
expect_rc "handle add" 0
grep -q "leave it: the probe answered" /tmp/ur.err || fail "add did not leave a healthy device"

resets() { dmesg | grep -c "usb $dev: reset"; }
authorizations() { dmesg | grep -c "usb $dev: authorized to connect"; }
attempts() { cat "$USBRECOVER_STATE_DIR"/history/* 2>/dev/null | grep -c '^attempt '; }
record_failure() {
  export SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=1
  ur handle --trigger service-stop --unit upsdrv.service --match 0665:5161
  unset SERVICE_RESULT EXIT_CODE EXIT_STATUS
  expect_rc "handle service-stop" 0
}

# A failed run of the service: the next start recovers the device with the first method.
record_failure
before=$(resets)
ur handle --trigger service-start --unit upsdrv.service --match 0665:5161
expect_rc "handle service-start after a failure" 0
grep -q "recovered with device: verified" /tmp/ur.err || fail "no verified recovery"
expect_eq "kernel resets of $dev" $((before + 1)) "$(resets)"
all_bound "$dev" || fail "$dev: drivers not bound after the recovery"
expect_eq "attempts recorded" 1 "$(attempts)"

# Started again with nothing new: left alone.
ur handle --trigger service-start --unit upsdrv.service --match 0665:5161
expect_rc "handle service-start, nothing new" 0
grep -q "leave it" /tmp/ur.err || fail "a second start acted again"
expect_eq "kernel resets of $dev" $((before + 1)) "$(resets)"

# Twenty concurrent starts after another failure: one recovery, and since the service failed
# again after `device` recovered the device, it climbs to the next method, `authorize`.
record_failure
before=$(resets)
before_auth=$(authorizations)
i=0
while [ $i -lt 20 ]; do
  "$USBRECOVER" handle --trigger service-start --unit upsdrv.service --match 0665:5161 >/dev/null 2>&1 &
  i=$((i + 1))
done
wait
expect_eq "attempts recorded" 2 "$(attempts)"
expect_eq "kernel resets of $dev after 20 concurrent starts" "$before" "$(resets)"
expect_eq "authorizations of $dev after 20 concurrent starts" $((before_auth + 1)) "$(authorizations)"
grep -q '^attempt [0-9]* authorize recovered ' "$USBRECOVER_STATE_DIR"/history/* || fail "no authorize attempt recorded"
all_bound "$dev" || fail "$dev: drivers not bound after the recovery"

rm -f /etc/udev/rules.d/70-usbrecover.rules /etc/udev/hwdb.d/70-usbrecover.hwdb /usr/bin/systemctl
systemd-hwdb update
restart_udevd never
unset USBRECOVER_STATE_DIR
