# The `disable` attribute on a port whose hub cannot switch power loses the device until the
# hub is reset. Seen on qemu's xHCI root ports (HCCPARAMS1.PPC=0, so the root hub descriptor
# says "no power switching") and on qemu's usb-hub without port-power: the kernel disconnects the
# child in software, clears the connect-change bit, sends ClearPortFeature(PORT_POWER), which the
# hub ignores; the port keeps reporting "connected, enabled, powered" with no change bit, so on
# disable=0 nothing tells the hub driver to enumerate again. This scenario asserts that finding
# (tests/vm/README.md) and the ways back: a reset of the parent hub for an external hub, a rebind
# of the root hub's hub driver (the whole bus) for a root port.
. /usr/lib/vm/lib.sh

# lost NAME: disable cycle on NAME's port; asserts the device does not come back.
lost() {
  dev=$(dev_of "$1")
  port=$(port_dir "$dev")
  hubdev=${port%/*}
  hubdev=${hubdev##*/}
  hubdev=${hubdev%:*}
  case $hubdev in *-0) hubdev=usb${hubdev%-0} ;; esac
  desc=$(vmtool hubdesc "$hubdev")
  case $desc in *switching=none*) ok "$hubdev: $desc" ;; *) fail "$hubdev switches power: $desc" ;; esac
  echo 1 >"$port/disable"
  wait_gone "$dev" 5000 >/dev/null || fail "$1 still there after disable=1"
  st=$(vmtool portstatus "$hubdev" "${port##*port}")
  case $st in
    *connect=1*) ok "$1 removed, yet its port still reports a connection: $st" ;;
    *) fail "finding changed: the port reports '$st' while disabled; update tests/vm/README.md" ;;
  esac
  echo 0 >"$port/disable"
  if out=$(wait_back "$dev" "" 3000); then
    fail "finding changed: $1 came back after disable=0 ($out); update tests/vm/README.md"
  fi
  ok "$1 not back 3 s after disable=0, as documented"
}

# 1. An external hub without power switching; USBDEVFS_RESET on the hub brings it back.
lost mouse-plain
hub=$(dev_of plainhub)
usbreset "$(busdev_of "$hub")" >/dev/null || fail "usbreset of plainhub failed"
out=$(wait_back 1-2.1 "" 10000) || fail "mouse-plain not back after a reset of its hub: $out"
expect_eq "mouse-plain after hub reset" 1-2.1 "$(dev_of mouse-plain)"

# 2. An xHCI root port; only a new probe of the root hub (all of bus 1) brings it back.
lost tablet-root
echo 1-0:1.0 >/sys/bus/usb/drivers/hub/unbind || fail "cannot unbind the root hub's hub driver"
echo 1-0:1.0 >/sys/bus/usb/drivers/hub/bind || fail "cannot bind the root hub's hub driver"
wait_topology 30 || fail "the topology did not come back after the root hub rebind"
ok "tablet-root back on $(dev_of tablet-root) after the hub driver rebind of usb1 (every device on bus 1 re-enumerated)"
