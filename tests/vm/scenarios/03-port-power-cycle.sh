# Port power cycles that work: the `disable` attribute and hub class PORT_POWER requests on the
# hub with per-port power switching, and `disable` on a dummy_hcd root port (whose root hub
# switches power per port). Each time the same device comes back on the same port with a new
# devnum and its drivers bound.
. /usr/lib/vm/lib.sh

# same_device NAME DEV OLD_DEVNUM: back on the same port, same ids and serial, new devnum.
same_device() {
  out=$(wait_back "$2" "$3" 10000) || fail "$1 did not come back on $2: $out"
  expect_eq "$1 found again by ids and serial" "$2" "$(dev_of "$1")"
  ok "$1 back on $2 with devnum $3 -> $(devnum "$2") ($out)"
}

# 1. `disable` on the per-port-power hub.
kbd=$(dev_of kbd-pp)
port=$(port_dir "$kbd")
old=$(devnum "$kbd")
echo 1 >"$port/disable" || fail "cannot write 1 to $port/disable"
out=$(wait_gone "$kbd" 5000) || fail "kbd-pp still there after disable=1"
ok "kbd-pp gone after disable=1 ($out)"
st=$(vmtool portstatus "$(dev_of pphub)" 1)
case $st in *connect=0*power2=0*) ok "port reports off: $st" ;; *) fail "port not off: $st" ;; esac
echo 0 >"$port/disable" || fail "cannot write 0 to $port/disable"
same_device kbd-pp "$kbd" "$old"

# 2. ClearPortFeature/SetPortFeature(PORT_POWER) through usbfs on the same hub. qemu's hub does
# not report the disconnect while the port is off: the device stays in sysfs until power returns.
ftdi=$(dev_of ftdi-pp)
hub=$(dev_of pphub)
n=${ftdi##*.}
old=$(devnum "$ftdi")
vmtool port-power "$hub" "$n" off || fail "ClearPortFeature(PORT_POWER) failed"
st=$(vmtool portstatus "$hub" "$n")
case $st in *connect=0*power2=0*) ok "port $n off: $st" ;; *) fail "port $n not off: $st" ;; esac
sleep 0.2
vmtool port-power "$hub" "$n" on || fail "SetPortFeature(PORT_POWER) failed"
same_device ftdi-pp "$ftdi" "$old"

# 3. `disable` on a dummy_hcd root port.
inno=$(dev_of inno)
port=$(port_dir "$inno")
old=$(devnum "$inno")
echo 1 >"$port/disable"
wait_gone "$inno" 5000 >/dev/null || fail "inno still there after disable=1"
echo 0 >"$port/disable"
same_device inno "$inno" "$old"
expect_eq "gadget side after" configured "$(cat /sys/class/udc/dummy_udc.0/state)"
