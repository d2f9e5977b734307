# Scenario 5, a bystander on the same hub: a serial UPS behind an FTDI USB-to-serial cable on
# the per-port-power hub, next to a USB stick with a mounted filesystem. The UPS stops answering
# (nothing done to the USB side reaches it); NUT's driver dies and fails again after usbrecover's
# first method (device), and the next method on the table's ladder, a reset of the hub, would
# take the stick down with it. The table does not allow collateral: usbrecover refuses, says why
# in the journal, and the stick stays mounted and untouched.

without_watcher

SERIAL_UPS=serialups@localhost
serial_unit=nut-driver@serialups.service
serial_ok() { [ "$(upsc "$SERIAL_UPS" ups.status 2>/dev/null)" = OL ]; }
serial_stale() { upsc "$SERIAL_UPS" ups.status 2>&1 | grep -q 'Data stale\|Driver not connected'; }
find_usb() {  # find_usb VID PID SERIAL
  for _d in "$SYS"/*; do
    [ "$(cat "$_d/idVendor" 2>/dev/null):$(cat "$_d/idProduct" 2>/dev/null):$(cat "$_d/serial" 2>/dev/null)" = "$1:$2:$3" ] &&
      { echo "${_d##*/}"; return 0; }
  done
  return 1
}
cable=$(find_usb 0403 6001 ups-cable) || fail "the FTDI cable is not on the bus"
stick=$(find_usb 46f4 0001 bystander) || fail "the USB stick is not on the bus"
hub=${cable%.*}
expect_eq "the stick shares the cable's hub" "$hub" "${stick%.*}"

wait_until 30 test -b /dev/disk/by-label/BYSTANDER || fail "no /dev/disk/by-label/BYSTANDER"
mkdir -p /mnt/bystander
mount /dev/disk/by-label/BYSTANDER /mnt/bystander || fail "cannot mount the stick"
echo "written before the fault" >/mnt/bystander/witness
sync
ok "the stick ($stick) is mounted on /mnt/bystander"
stick_devnum=$(cat "$SYS/$stick/devnum")
hub_devnum=$(cat "$SYS/$hub/devnum")

wait_until 60 serial_ok || fail "NUT does not answer for the serial UPS: $(upsc "$SERIAL_UPS" ups.status 2>&1)"
mark=$(uptime_s)
t_fault=$(uptime_s)
printf 'USBRECOVER-HANG\r' >/dev/ttyUSB0
wait_until 60 serial_stale || fail "NUT never noticed the hung serial UPS"
ok "NUT reports the serial UPS stale after $(elapsed "$t_fault") s"
systemctl kill --signal=SIGKILL "$serial_unit"

refused() { journal_since "$mark" MESSAGE_ID="$MID_DECISION" -u "$serial_unit" | grep -q 'hub: would also disturb'; }
wait_until 240 refused || fail "usbrecover never refused the hub reset"
t_refused=$(uptime_s)
refusal=$(journal_since "$mark" MESSAGE_ID="$MID_DECISION" -u "$serial_unit" | grep 'refuse' | head -1)
echo "$refusal"
echo "$refusal" | grep -q "$stick" || fail "the refusal does not name the stick $stick"
echo "$refusal" | grep -q 'mounted on /mnt/bystander' || fail "the refusal does not name the mount"
ok "the refusal names $stick and its mount"
recovered=$(journal_since "$mark" MESSAGE_ID="$MID_RECOVERED" -u "$serial_unit")
echo "$recovered" | grep -q 'recovered with device' || fail "the first start did not try a device reset: '$recovered'"
echo "$recovered" | grep -q 'recovered with hub' && fail "the hub was reset: $recovered"

# The kernel: the cable was reset, the hub never was, and the stick never left.
journal_since "$mark" -k | grep -q "usb $cable: reset" || fail "the kernel logged no reset of the cable"
if journal_since "$mark" -k | grep -q "usb $hub: reset"; then fail "the kernel reset the hub $hub"; fi
expect_eq "hub device number" "$hub_devnum" "$(cat "$SYS/$hub/devnum")"
expect_eq "stick device number" "$stick_devnum" "$(cat "$SYS/$stick/devnum")"
grep -q ' /mnt/bystander ' /proc/mounts || fail "the stick is no longer mounted"
expect_eq "the stick's file" "written before the fault" "$(cat /mnt/bystander/witness)"
figure "fault to the refusal: $(elapsed "$t_fault" "$t_refused") s (device reset tried first; hub reset" \
  "refused: it would take down $stick, mounted); the stick stayed mounted, device number unchanged"

# The UPS answers again; the driver's next start (systemd keeps restarting it) finds it.
printf 'USBRECOVER-ANSWER\r' >/dev/ttyUSB0
umount /mnt/bystander
wait_until 60 serial_ok || fail "the serial UPS does not come back once it answers: $(upsc "$SERIAL_UPS" ups.status 2>&1)"
ok "the serial UPS answers again"
