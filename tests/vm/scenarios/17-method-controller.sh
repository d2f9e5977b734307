# `reset --method controller` (unbind and bind the xHCI PCI driver): refused without
# --allow-collateral; with it, the device and everything else on the controller come back.
. /usr/lib/vm/lib.sh
need_helper

reset_refused tablet-root controller 73
pci=$(basename "$(readlink -f "$SYS/usb1/..")")
expect_eq "usb1's controller driver" xhci_hcd "$(basename "$(readlink "/sys/bus/pci/devices/$pci/driver")")"
reset_ok tablet-root controller new --allow-collateral
wait_topology 30 || fail "not every device on the controller came back"
ok "every device is back after the controller rebind"
expect_eq "controller driver after" xhci_hcd "$(basename "$(readlink "/sys/bus/pci/devices/$pci/driver")")"
