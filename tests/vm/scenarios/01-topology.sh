# The topology is there and sysfs agrees with it: ids, serials and port paths of every device,
# drivers bound, hub port directories with `disable` attributes, USB3 `peer` links on the xHCI
# root ports, each hub's power switching (from its hub descriptor), a mountable usb-storage, and
# a usb-storage at SuperSpeed on the SuperSpeed root hub.
. /usr/lib/vm/lib.sh

for name in $(awk '!/^#/ && NF { print $1 }' "$TOPOLOGY"); do
  dev=$(dev_of "$name")
  expect_eq "$name port path" "$(topo "$name" 4)" "$dev"
  all_bound "$dev" || fail "$name ($dev): interfaces not all bound: $(drivers "$dev" | tr '\n' ' ')"
  ok "$name drivers: $(drivers "$dev" | tr '\n' ' ')"
done

# hub_ports HUB NPORTS SWITCHING: port directories, `disable`, and the descriptor's switching mode.
hub_ports() {
  hub=$1
  expect_eq "$hub maxchild" "$2" "$(attr "$hub" maxchild)"
  iface=$(interfaces "$hub" | head -1)
  n=$(ls -d "$SYS/$hub/$iface"/*-port* 2>/dev/null | wc -l)
  expect_eq "$hub port directories" "$2" "$n"
  for p in "$SYS/$hub/$iface"/*-port*; do
    [ -f "$p/disable" ] || fail "no disable attribute in $p"
    [ "$(cat "$p/disable")" = 0 ] || fail "$p/disable is $(cat "$p/disable")"
  done
  ok "$hub: every port has disable=0"
  desc=$(vmtool hubdesc "$hub") || fail "cannot read the hub descriptor of $hub"
  expect_eq "$hub power switching ($desc)" "$3" "$(echo "$desc" | sed -n 's/.*switching=\([^ ]*\).*/\1/p')"
}
hub_ports usb1 4 none
hub_ports usb2 4 none
hub_ports "$(dev_of pphub)" 8 per-port
hub_ports "$(dev_of plainhub)" 8 none
for b in 3 4 5 6; do hub_ports "usb$b" 1 per-port; done

# xHCI root ports pair with their SuperSpeed peers; external USB 2 hubs have none.
for i in 1 2 3 4; do
  p1=$SYS/usb1/1-0:1.0/usb1-port$i
  p2=$SYS/usb2/2-0:1.0/usb2-port$i
  expect_eq "usb1-port$i peer" "$(readlink -f "$p2")" "$(readlink -f "$p1/peer")"
  expect_eq "usb2-port$i peer" "$(readlink -f "$p1")" "$(readlink -f "$p2/peer")"
done
[ -e "$SYS/1-1/1-1:1.0/1-1-port1/peer" ] && fail "1-1-port1 has a peer link"
ok "external hub ports have no peer"

# The port link of a device leads to its hub's port directory.
expect_eq "kbd-pp port" "$(readlink -f "$SYS/1-1/1-1:1.0/1-1-port1")" "$(port_dir "$(dev_of kbd-pp)")"
expect_eq "tablet-root port" "$(readlink -f "$SYS/usb1/1-0:1.0/usb1-port3")" \
  "$(port_dir "$(dev_of tablet-root)")"

# qemu's port 4 is shared by xHCI port 4 (USB 2.0) and port 8 (SuperSpeed); usb-storage has a
# SuperSpeed configuration, so it connects on the SuperSpeed root hub, and the USB 2.0 half of
# the connector stays empty.
ss=$(dev_of ss-stick)
expect_eq "ss-stick port" "$(readlink -f "$SYS/usb2/2-0:1.0/usb2-port4")" "$(port_dir "$ss")"
expect_eq "ss-stick speed" 5000 "$(attr "$ss" speed)"
expect_eq "ss-stick bcdUSB" 3.00 "$(attr "$ss" version | tr -d ' ')"
[ -e "$SYS/1-4" ] && fail "something is on 1-4, the USB 2.0 half of ss-stick's connector"
ok "1-4, the USB 2.0 half of ss-stick's connector, is empty"

# usb-storage: its disk is there and its vfat filesystem mounts, takes a write, unmounts.
stick=$(dev_of stick-pp)
blk=$(ls -d "$SYS/$stick/$stick:1.0"/host*/target*/*/block/* 2>/dev/null | head -1)
[ -n "$blk" ] || fail "no block device under $stick"
disk=/dev/${blk##*/}
ok "usb-storage disk $disk"
mkdir -p /mnt/stick
check "mount $disk" mount -t vfat "$disk" /mnt/stick
echo hello >/mnt/stick/hello.txt
check "write to the stick" grep -q hello /mnt/stick/hello.txt
check "umount" umount /mnt/stick
