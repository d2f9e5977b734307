# `reset --method port-power`: works on the hub with per-port power and on a dummy_hcd root port
# (new devnum, port enabled again); on a hub without power switching and on qemu's xHCI root
# ports (no power switching either) the helper must say so and exit non-zero, and the device
# must still be there: `disable` on such a port loses it (05-disable-no-power-switching).
. /usr/lib/vm/lib.sh
need_helper

reset_ok kbd-pp port-power new
expect_eq "kbd-pp port enabled again" 0 "$(cat "$(port_dir "$(dev_of kbd-pp)")/disable")"
reset_ok inno port-power new
expect_eq "inno port enabled again" 0 "$(cat "$(port_dir "$(dev_of inno)")/disable")"

for name in mouse-plain tablet-root; do
  dev=$(dev_of "$name")
  old=$(devnum "$dev")
  ur reset "$dev" --method port-power
  case $UR_RC in 0) fail "port-power on $name (no power switching) claimed success" ;; esac
  ok "$name: refused with exit $UR_RC"
  expect_eq "$name untouched" "$old" "$(devnum "$dev")"
  all_bound "$dev" || fail "$name: drivers not bound"
  expect_eq "$name: port not left disabled" 0 "$(cat "$(port_dir "$dev")/disable")"
done
