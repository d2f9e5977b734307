# Twins: two gadgets with the same VID:PID and strings, different serials. A VID:PID selector is
# refused as ambiguous naming both; --serial picks the right one and leaves the other alone.
. /usr/lib/vm/lib.sh
need_helper

a=$(dev_of twin-a)
b=$(dev_of twin-b)
dmesg -c >/dev/null
ur reset 1d6b:0104 --method device
case $UR_RC in 0 | 1) fail "ambiguous selector not refused (exit $UR_RC)" ;; esac
ok "ambiguous 1d6b:0104 refused with exit $UR_RC"
all="$UR_OUT $(cat /tmp/ur.err)"
for d in "$a" "$b"; do
  case $all in *"$d"*) ok "the refusal lists $d" ;; *) fail "the refusal does not list candidate $d" ;; esac
done
dmesg | grep -q 'reset .* USB device' && fail "a device was reset despite the refusal"

old_a=$(devnum "$a")
dmesg -c >/dev/null
SELECTOR=1d6b:0104
reset_ok twin-b device same --serial twin-b
SELECTOR=
dmesg | grep -q "usb $b: reset" || fail "no reset of $b (twin-b) in the kernel log"
dmesg | grep -q "usb $a: reset" && fail "twin-a ($a) was reset too"
expect_eq "twin-a untouched" "$old_a" "$(devnum "$a")"
ok "--serial twin-b reset $b only"
