# `reset --method authorize`: authorized 0 then 1. The interfaces are destroyed and created
# again (a new HID instance), devnum stays, authorized is 1 afterwards.
. /usr/lib/vm/lib.sh
need_helper

for name in phoenixtec mouse-plain; do
  dev=$(dev_of "$name")
  before=$(hid_instance "$dev")
  reset_ok "$name" authorize same
  expect_eq "$name authorized" 1 "$(attr "$dev" authorized)"
  after=$(hid_instance "$dev")
  [ -n "$after" ] && [ "$after" != "$before" ] || fail "$name: HID instance $before -> $after (not re-authorized)"
  ok "$name: HID instance $before -> $after"
done
