# The benchmark, run by /init in bench mode: usbrecover against the tools people use today, on
# the same device and port, alternating A B A B; and on the SuperSpeed stick, the warm reset
# next to the device (hot) reset, alternating with it. Every time is measured by vmtool from the
# start of the command until the device is back in sysfs with its drivers bound (and, for power
# cycles, with a new devnum) -- never from the tools' own claims.
#
# Prints "BENCH ..." lines: one per (pair, tool) with n, median, min, max in ms, and the ratios.
. /usr/lib/vm/lib.sh

rounds=${1:-10}
dev=$(dev_of ftdi-pp)   # the FTDI USB-serial bridge on pphub port 2
hub=$(dev_of pphub)
port=${dev##*.}
pdir=$(port_dir "$dev")
ss=$(dev_of ss-stick)    # usb-storage at SuperSpeed on xHCI root port 2-4
have_helper=0
[ -x "$USBRECOVER" ] && have_helper=1
mkdir -p /tmp/bench
rm -f /tmp/bench/*

# run KEY [--new-devnum] -- COMMAND...: one measured run on $on (default: the FTDI bridge); its
# time is appended to /tmp/bench/KEY.
run() {
  key=$1
  shift
  out=$(vmtool measure "${on:-$dev}" --timeout 20000 "$@" 2>/tmp/bench.err)
  echo "  $key: $out"
  sed 's/^/    2> /' /tmp/bench.err
  case $out in
    ok=1*rc=0*) echo "$out" | sed -n 's/^ok=1 ms=\([0-9.]*\).*/\1/p' >>"/tmp/bench/$key" ;;
    *) echo "BENCH FAILED $key: $out" ;;
  esac
}

i=0
while [ $i -lt "$rounds" ]; do
  i=$((i + 1))
  echo "round $i"
  [ $have_helper = 1 ] && run A-device -- "$USBRECOVER" reset "$dev" --method device
  run B-device -- usbreset "$(busdev_of "$dev")"
  [ $have_helper = 1 ] && run A-power --new-devnum -- "$USBRECOVER" reset "$dev" --method port-power
  run B-power --new-devnum -- uhubctl -l "$hub" -p "$port" -a cycle
  # The two kernel paths for a power cycle, each with the same 100 ms off time: the port's
  # `disable` attribute against hub class PORT_POWER requests through usbfs.
  run C-disable --new-devnum -- sh -c "echo 1 >$pdir/disable && sleep 0.1 && echo 0 >$pdir/disable"
  run D-portpower --new-devnum -- sh -c \
    "vmtool port-power $hub $port off && sleep 0.1 && vmtool port-power $hub $port on"
  # The SuperSpeed stick: hot reset (device) against warm reset, and usbreset's hot reset.
  on=$ss
  [ $have_helper = 1 ] && run E-ss-device -- "$USBRECOVER" reset "$ss" --method device
  [ $have_helper = 1 ] && run E-ss-warm -- "$USBRECOVER" reset "$ss" --method warm-reset
  run F-ss-usbreset -- usbreset "$(busdev_of "$ss")"
  # What the method does, without the helper: the warm reset request, then usbreset.
  run G-ss-kernel -- sh -c "vmtool port-feature usb2 ${ss#*-} set 28 && usbreset $(busdev_of "$ss")"
  on=
done

# stats FILE: "n median min max" of the numbers in FILE.
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "0 - - -"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%d %.0f %.0f %.0f\n", NR, m, v[1], v[NR] }'
}

row() {  # row LABEL TOOL KEY
  if [ -s "/tmp/bench/$3" ]; then
    set -- "$1" "$2" $(stats "/tmp/bench/$3")
    printf 'BENCH | %-26s | %-38s | %3s | %7s | %7s | %7s |\n' "$@"
  else
    printf 'BENCH | %-26s | %-38s | %3s | %7s | %7s | %7s |\n' "$1" "$2" 0 "not run" - -
  fi
}

ratio() {  # ratio LABEL KEY_A KEY_B
  [ -s "/tmp/bench/$2" ] && [ -s "/tmp/bench/$3" ] || return 0
  a=$(stats "/tmp/bench/$2" | cut -d' ' -f2)
  b=$(stats "/tmp/bench/$3" | cut -d' ' -f2)
  awk -v l="$1" -v a="$a" -v b="$b" 'BEGIN { printf "BENCH %s: %.2f (median %s ms / %s ms)\n", l, a / b, a, b }'
}

echo "BENCH rounds: $rounds, device $dev (ftdi-pp) on $hub port $port, SuperSpeed rows on $ss (ss-stick);" \
  "qemu TCG, so absolute times are slow"
echo "BENCH | what                       | command                                |   n |  median |     min |     max |"
echo "BENCH |----------------------------|----------------------------------------|-----|---------|---------|---------|"
row "device reset" "usbrecover reset --method device" A-device
row "device reset" "usbreset BBB/DDD" B-device
row "port power cycle" "usbrecover reset --method port-power" A-power
row "port power cycle" "uhubctl -a cycle (default delay)" B-power
row "kernel path, 100 ms off" "port disable attribute 1, 0" C-disable
row "kernel path, 100 ms off" "PORT_POWER clear, set (usbfs)" D-portpower
row "SuperSpeed: device reset" "usbrecover reset --method device" E-ss-device
row "SuperSpeed: warm reset" "usbrecover reset --method warm-reset" E-ss-warm
row "SuperSpeed: device reset" "usbreset BBB/DDD" F-ss-usbreset
row "SuperSpeed: kernel path" "BH_PORT_RESET (usbfs), then usbreset" G-ss-kernel
ratio "ratio usbrecover device / usbreset" A-device B-device
ratio "ratio usbrecover port-power / uhubctl" A-power B-power
ratio "ratio usbrecover port-power / disable path" A-power C-disable
ratio "ratio disable / PORT_POWER" C-disable D-portpower
ratio "ratio usbrecover warm-reset / device (SuperSpeed)" E-ss-warm E-ss-device
# Where one more device reset's time goes, by the helper's own account (reset --timings).
if [ $have_helper = 1 ]; then
  "$USBRECOVER" reset "$dev" --method device --timings >/dev/null 2>/tmp/bench.timings || true
  sed 's/^/BENCH timings (device reset): /' /tmp/bench.timings
  "$USBRECOVER" reset "$dev" --method port-power --timings >/dev/null 2>/tmp/bench.timings || true
  sed 's/^/BENCH timings (port-power): /' /tmp/bench.timings
fi
[ $have_helper = 1 ] || echo "BENCH usbrecover halves not run: usbrecover is not in this build"
