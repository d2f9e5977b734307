# A dead host controller, noticed by the watcher in the kernel's log and recovered by a rebind.
# hc_died.ko makes the xHCI controller die as the kernel handles it (usb_hc_died(): "HC died;
# cleaning up", root hubs marked not attached, every device disconnected). The watcher knows
# from before which table device was on it. The tablet's entry allows `controller` but not
# collateral: the watcher hands the death over and handle refuses (the controller stays dead
# until the scenario binds it). With collateral allowed, handle rebinds the controller and
# verifies the tablet back, with nobody else acting; a second hand-over finds nothing to do.
. /usr/lib/vm/lib.sh
need_helper
GEN=/usr/bin/usbrecover-gen
[ -x "$GEN" ] || skip "usbrecover-gen is not in this build"
[ -f /usr/lib/vm/hc_died.ko ] || fail "the bed has no hc_died.ko"

tablet=$(dev_of tablet-root)
pci=$(basename "$(readlink -f "$SYS/usb1/..")")
expect_eq "usb1's controller driver" xhci_hcd "$(basename "$(readlink "/sys/bus/pci/devices/$pci/driver")")"
export USBRECOVER_STATE_DIR=/run/usbrecover-19
rm -rf "$USBRECOVER_STATE_DIR"
log=/tmp/19-watch.log

restart_udevd() {
  udevadm control --exit
  /bin/systemd-udevd --daemon --resolve-names=never || fail "systemd-udevd did not start"
}
watcher=
start_watcher() {
  : >"$log"
  "$USBRECOVER" watch --ups-conf /nonexistent 2>>"$log" &
  watcher=$!
  wait_log "watch: following the kernel's log" 10 || fail "the watcher did not start: $(cat "$log")"
}
stop_watcher() {
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
  watcher=
}
# wait_log TEXT SECONDS: waits for TEXT in the watcher's log (its children's lines included).
wait_log() {
  _i=0
  while [ $_i -lt $(($2 * 10)) ]; do
    grep -qF -- "$1" "$log" && return 0
    sleep 0.1
    _i=$((_i + 1))
  done
  return 1
}
table() {  # table ALLOW_COLLATERAL: the tablet's entry, applied to the devices there
  cat >/tmp/19.toml <<TOML
schema = 1
[[device]]
name = "tablet on a controller that dies"
ids = ["0627:0001"]
serial = "tablet-root"
methods = ["device", "controller"]
allow_collateral = $1
TOML
  "$GEN" --table /tmp/19.toml --rules-dir /etc/udev/rules.d --unit-dir /tmp/19-units --helper "$USBRECOVER" ||
    fail "usbrecover-gen failed"
  udevadm control --reload
  udevadm trigger --action=change --settle "$SYS/$tablet"
  udevadm info --query=property --path="$(readlink -f "$SYS/$tablet" | sed 's|^/sys||')" |
    grep -qx "USBRECOVER_ALLOW_COLLATERAL=$([ "$1" = true ] && echo 1 || echo 0)" ||
    fail "$tablet did not get the entry's properties"
}
kill_controller() {
  insmod /usr/lib/vm/hc_died.ko controller="$pci" || fail "insmod hc_died.ko failed"
  rmmod hc_died
  dmesg | grep -qF "xhci_hcd $pci: HC died; cleaning up" || fail "the kernel did not log the death"
  wait_gone "$tablet" 10000 || fail "$tablet is still there after the controller died"
}
# usbfs opens a root hub unless the kernel marked it not attached (ENODEV), as a death does.
root_hub_answers() { cat /dev/bus/usb/001/001 >/dev/null 2>/tmp/19-open.err; }
printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >/usr/bin/systemctl
chmod 755 /usr/bin/systemctl
cleanup() {
  stop_watcher
  rm -f /etc/udev/rules.d/70-usbrecover.rules /etc/udev/hwdb.d/70-usbrecover.hwdb /usr/bin/systemctl
  restart_udevd
  # Whatever happened, the controller is bound again for the next scenario.
  if ! root_hub_answers; then
    echo "$pci" >/sys/bus/pci/drivers/xhci_hcd/unbind 2>/dev/null
    echo "$pci" >/sys/bus/pci/drivers/xhci_hcd/bind 2>/dev/null
  fi
}
trap cleanup EXIT
restart_udevd

# 1. The entry allows `controller` but not collateral: handed over, refused, left dead.
table false
start_watcher
kill_controller
wait_log "refuse" 20 || fail "handle did not decide: $(cat "$log")"
cat "$log"
grep -qF "host controller $pci died (kernel: xhci_hcd $pci: HC died; cleaning up)" "$log" || fail "the watcher did not report the death"
grep -qF "handing it to usbrecover handle for tablet on a controller that dies on port 1-3" "$log" ||
  fail "the watcher did not hand the death over"
grep -qF "the policy does not allow collateral" "$log" || fail "the refusal does not say why"
sleep 2
[ -e "$SYS/$tablet" ] && fail "$tablet came back although the policy refused a rebind"
root_hub_answers && fail "usb1's root hub answers"
grep -q "No such device" /tmp/19-open.err || fail "usb1's root hub: $(cat /tmp/19-open.err)"
ok "refused without collateral: the controller stays dead"
stop_watcher
echo "$pci" >/sys/bus/pci/drivers/xhci_hcd/unbind
echo "$pci" >/sys/bus/pci/drivers/xhci_hcd/bind
wait_topology 60 || fail "the controller's devices did not come back after a manual rebind"
tablet=$(dev_of tablet-root)

# 2. Collateral allowed: the watcher's hand-over rebinds the controller and verifies the tablet.
table true
start_watcher
before=$(devnum "$tablet")
kill_controller
wait_log "recovered with controller" 60 || fail "not recovered: $(cat "$log")"
cat "$log"
grep -qF "handing it to usbrecover handle for tablet on a controller that dies on port 1-3" "$log" ||
  fail "the watcher did not hand the death over"
wait_topology 60 || fail "not every device on the controller came back"
expect_eq "controller driver after" xhci_hcd "$(basename "$(readlink "/sys/bus/pci/devices/$pci/driver")")"
tablet=$(dev_of tablet-root)
ok "$tablet is back (devnum $before -> $(devnum "$tablet")), recovered by the watcher's hand-over"
grep -q '^attempt [0-9]* controller recovered ' "$USBRECOVER_STATE_DIR"/history/* ||
  fail "no recovered controller attempt in the history"

# 3. The same hand-over again: the controller answers, nothing is done.
props=$(udevadm info --query=property --path="$(readlink -f "$SYS/$tablet" | sed 's|^/sys||')" |
  grep '^USBRECOVER_' | sed "s/^/--property '/; s/\$/'/" | tr '\n' ' ')
eval "ur handle --trigger controller-died --controller '$pci' --port 1-3 $props"
expect_rc "a second hand-over" 0
grep -qF "nothing to do" /tmp/ur.err || fail "a second hand-over did something: $(cat /tmp/ur.err)"
ok "a second hand-over finds nothing to do"
unset USBRECOVER_STATE_DIR
