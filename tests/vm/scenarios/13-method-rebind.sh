# `reset --method rebind`: each interface's driver unbound and bound again. The kernel gives
# the HID device a new instance number, which proves the rebind happened; devnum stays.
. /usr/lib/vm/lib.sh
need_helper

for name in inno kbd-plain; do
  dev=$(dev_of "$name")
  before=$(hid_instance "$dev")
  reset_ok "$name" rebind same
  after=$(hid_instance "$dev")
  [ -n "$after" ] && [ "$after" != "$before" ] || fail "$name: HID instance $before -> $after (no rebind)"
  ok "$name: HID instance $before -> $after"
done

# twin-b: two cdc_acm interfaces, both bound again.
reset_ok twin-b rebind same
