# `reset --method device` (USBDEVFS_RESET): the kernel logs a reset of that device, the devnum
# stays, the drivers are bound again. A root hub is refused by the kernel: the helper must fail.
. /usr/lib/vm/lib.sh
need_helper

for name in ftdi-pp inno twin-a; do
  dev=$(dev_of "$name")
  dmesg -c >/dev/null
  reset_ok "$name" device same
  dmesg | grep -q "usb $dev: reset .* USB device number" ||
    fail "no reset of $dev in the kernel log"
  ok "kernel log: $(dmesg | grep "usb $dev: reset" | tail -1 | sed 's/^\[[^]]*\] //')"
done

ur reset usb1 --method device
[ "$UR_RC" != 0 ] || fail "reset of a root hub with --method device claimed success"
ok "root hub: refused with exit $UR_RC"
