# usbutils' usbreset (USBDEVFS_RESET) on a device: the kernel logs the reset, the device keeps
# its devnum (a reset is not a re-enumeration), and its drivers are bound again.
. /usr/lib/vm/lib.sh

# reset_one NAME SELECTOR-KIND
reset_one() {
  dev=$(dev_of "$1")
  old=$(devnum "$dev")
  case $2 in
    busdev) sel=$(busdev_of "$dev") ;;
    ids) sel=$(topo "$1" 2) ;;
  esac
  dmesg -c >/dev/null
  out=$(usbreset "$sel" 2>&1) || fail "usbreset $sel: $out"
  ok "usbreset $sel: $out"
  dmesg | grep -q "usb $dev: reset .* USB device number $old " ||
    fail "no reset of $dev in the kernel log: $(dmesg | tail -5)"
  ok "kernel log: $(dmesg | grep "usb $dev: reset" | tail -1 | sed 's/^\[[^]]*\] //')"
  out=$(wait_back "$dev" "" 5000) || fail "$1 not back: $out"
  expect_eq "$1 devnum after reset" "$old" "$(devnum "$dev")"
  ok "$1 drivers: $(drivers "$dev" | tr '\n' ' ')"
}

reset_one ftdi-pp busdev
reset_one inno busdev
reset_one twin-a busdev
