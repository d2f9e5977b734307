# `usbrecover tree --json` agrees with sysfs and with the hub descriptors: each hub's port count
# and power switching, each port's `disable` state and the device on it.
. /usr/lib/vm/lib.sh
need_helper

ur tree --json
expect_rc "tree --json" 0
echo "$UR_OUT" | jq -r '.buses[].root | recurse(.ports[]?.device // empty) | select(.hub != null)
  | .device.port_path as $h
  | "hub \($h) \(.hub.ports) \(.hub.power_switching)",
    (.ports[] | "port \($h) \(.port.number) \(.port.disabled) \(.device.device.port_path // "-")")' |
  sort >/tmp/tree.helper

for d in "$SYS"/*; do
  n=${d##*/}
  case $n in *:*) continue ;; esac
  [ "$(attr "$n" bDeviceClass)" = 09 ] || continue
  case $n in usb*) pp=${n#usb}-0 ;; *) pp=$n ;; esac
  sw=$(vmtool hubdesc "$n" | sed -n 's/.*switching=\([^ ]*\).*/\1/p')
  echo "hub $pp $(attr "$n" maxchild) $sw"
  iface=$(interfaces "$n" | head -1)
  for p in "$SYS/$n/$iface"/*-port*; do
    num=${p##*port}
    case $n in usb*) child=${n#usb}-$num ;; *) child=$n.$num ;; esac
    [ -e "$SYS/$child" ] || child=-
    dis=false
    [ "$(cat "$p/disable")" = 1 ] && dis=true
    echo "port $pp $num $dis $child"
  done
done | sort >/tmp/tree.sysfs

if ! diff -u /tmp/tree.sysfs /tmp/tree.helper; then
  fail "tree --json and sysfs disagree (- sysfs and hub descriptors, + helper)"
fi
ok "tree --json agrees on $(grep -c '^hub' /tmp/tree.sysfs) hubs and $(grep -c '^port' /tmp/tree.sysfs) ports"
