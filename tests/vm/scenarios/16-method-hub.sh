# `reset --method hub` (USBDEVFS_RESET on the parent hub) disturbs every device behind the hub:
# refused without --allow-collateral (exit 73, nothing touched), even more so with a mounted
# filesystem behind the hub; with it, every device behind the hub comes back.
. /usr/lib/vm/lib.sh
need_helper

# Without a mount: plainhub's mouse and keyboard.
reset_refused mouse-plain hub 73
sib=$(dev_of kbd-plain)
old_sib=$(devnum "$sib")
reset_ok mouse-plain hub new --allow-collateral
out=$(wait_back "$sib" "$old_sib" 10000) || fail "kbd-plain (collateral) not back: $out"
ok "kbd-plain back too, devnum $old_sib -> $(devnum "$sib")"

# With the stick behind pphub mounted.
stick=$(dev_of stick-pp)
blk=$(ls -d "$SYS/$stick/$stick:1.0"/host*/target*/*/block/* | head -1)
mkdir -p /mnt/stick
mount -t vfat "/dev/${blk##*/}" /mnt/stick || fail "cannot mount the stick"
reset_refused kbd-pp hub 73
echo "$UR_OUT" | grep -q /mnt/stick || grep -q /mnt/stick /tmp/ur.err ||
  fail "the refusal does not name the mounted filesystem /mnt/stick"
ok "the refusal names /mnt/stick"
grep -q ' /mnt/stick ' /proc/mounts || fail "/mnt/stick no longer mounted"

before=""
for n in ftdi-pp stick-pp; do before="$before $n=$(devnum "$(dev_of "$n")")"; done
reset_ok kbd-pp hub new --allow-collateral
for pair in $before; do
  n=${pair%%=*}
  d=$(topo "$n" 4)
  out=$(wait_back "$d" "${pair#*=}" 15000) || fail "$n (collateral) not back: $out"
  ok "$n back, devnum ${pair#*=} -> $(devnum "$d")"
done
umount -l /mnt/stick
wait_topology 20 || fail "topology incomplete after the hub reset"
