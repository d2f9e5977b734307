# Verification without udevd (an initramfs, a container, an mdev system): nobody sends udev's
# events, so the helper must notice that udevd does not run and wait on the kernel's uevents
# instead, saying so. With udevd stopped, `reset --method port-power` and `--method hub` verify
# the device back; before, they waited for udev until their timeout and reported a failure.
. /usr/lib/vm/lib.sh
need_helper

restart() {
  /bin/systemd-udevd --daemon --resolve-names=never || echo "systemd-udevd did not start again"
  udevadm settle --timeout=30
}
udevadm control --exit || fail "cannot stop udevd"
trap restart EXIT
i=0
while grep -qx systemd-udevd /proc/[0-9]*/comm 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 50 ] || fail "udevd still runs"
  sleep 0.1
done
ok "udevd stopped"

dev=$(dev_of ftdi-pp)
reset_ok ftdi-pp port-power new --timeout 20s
expect_eq "port-power: verified on" kernel "$(json '.events')"
ur reset "$dev" --method port-power --timeout 20s
expect_rc "reset --method port-power, text" 0
echo "$UR_OUT" | grep -q "udevd is not running: verified on the kernel's uevents" ||
  fail "the text output does not say udevd is not running"

reset_ok ftdi-pp hub new --allow-collateral --timeout 20s
expect_eq "hub: verified on" kernel "$(json '.events')"
# Everything behind the hub came back too.
for name in kbd-pp stick-pp; do
  out=$(wait_back "$(dev_of "$name")" "" 10000) || fail "$name not back: $out"
done
