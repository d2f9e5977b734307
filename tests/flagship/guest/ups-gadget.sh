#!/bin/sh
# The simulated UPS bridge as a configfs gadget: 0665:5161 "INNO TECH" / "USB to Serial", no
# serial number, full speed, one FunctionFS function (ffs.ups) served by upssim.
#
#   ups-gadget.sh start UDC RUNDIR     make the gadget, start upssim, bind it to UDC
#   ups-gadget.sh stop RUNDIR          unbind, stop upssim, remove the gadget
#   ups-gadget.sh ctl RUNDIR LINE...   send upssim one control line (answer, hang reset,
#                                      hang power, storm K)
#
# RUNDIR holds the functionfs mount (ffs), upssim's control FIFO (control) and state file
# (state), its pid and the gadget's configfs path. upssim is $UPSSIM, else
# /usr/lib/usbrecover-flagship/upssim; its log goes to $UPSSIM_LOG when set, else to this
# script's stderr (the journal, under systemd). POSIX sh: busybox sh and dash.
set -u

UPSSIM=${UPSSIM:-/usr/lib/usbrecover-flagship/upssim}
CONFIGFS=/sys/kernel/config
FFS_NAME=ups

die() {
  echo "ups-gadget.sh: $*" >&2
  exit 1
}

alive() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

start() {
  udc=$1 run=$2
  [ -e "/sys/class/udc/$udc" ] || die "no UDC $udc"
  [ -x "$UPSSIM" ] || die "no upssim at $UPSSIM"
  grep -q " $CONFIGFS configfs " /proc/mounts || mount -t configfs configfs "$CONFIGFS" ||
    die "cannot mount configfs"
  g=$CONFIGFS/usb_gadget/ups-$udc
  [ -e "$g" ] && die "$g exists (stop the old one first)"
  mkdir -p "$run/ffs" || die "cannot create $run"
  echo "$g" >"$run/gadget"

  mkdir "$g" || die "cannot create $g (libcomposite loaded?)"
  echo 0x0665 >"$g/idVendor"
  echo 0x5161 >"$g/idProduct"
  echo 0x0110 >"$g/bcdUSB"
  echo 0x0001 >"$g/bcdDevice"
  # The real bridge is a full-speed-at-most chip; the host should see the same.
  echo full-speed >"$g/max_speed"
  mkdir "$g/strings/0x409"
  echo "INNO TECH" >"$g/strings/0x409/manufacturer"
  echo "USB to Serial" >"$g/strings/0x409/product"
  mkdir "$g/configs/c.1"
  echo 100 >"$g/configs/c.1/MaxPower"
  mkdir "$g/functions/ffs.$FFS_NAME" || die "cannot create ffs.$FFS_NAME (usb_f_fs loaded?)"
  mount -t functionfs "$FFS_NAME" "$run/ffs" || die "cannot mount functionfs at $run/ffs"

  rm -f "$run/state"
  # stdin and stdout closed: a caller reading this script's output through a pipe must not
  # wait for upssim to end.
  if [ -n "${UPSSIM_LOG:-}" ]; then
    "$UPSSIM" --ffs "$run/ffs" --control "$run/control" --state "$run/state" --udc "$udc" \
      </dev/null >/dev/null 2>>"$UPSSIM_LOG" &
  else
    "$UPSSIM" --ffs "$run/ffs" --control "$run/control" --state "$run/state" --udc "$udc" \
      </dev/null >/dev/null &
  fi
  echo $! >"$run/pid"
  # The state file appears once the descriptors are written; binding before that fails.
  i=0
  while [ ! -f "$run/state" ]; do
    alive "$run" || die "upssim exited before it was ready"
    i=$((i + 1))
    [ $i -le 100 ] || die "upssim not ready after 10 s"
    sleep 0.1
  done
  ln -s "$g/functions/ffs.$FFS_NAME" "$g/configs/c.1/" || die "cannot link the function"
  echo "$udc" >"$g/UDC" || die "cannot bind $udc"
}

stop() {
  run=$1
  [ -f "$run/gadget" ] || die "nothing started in $run"
  g=$(cat "$run/gadget")
  # Unbind first: the host sees a clean disconnect, and upssim's files are idle.
  [ -n "$(cat "$g/UDC" 2>/dev/null)" ] && echo "" >"$g/UDC"
  if alive "$run"; then
    kill "$(cat "$run/pid")"
    i=0
    while alive "$run" && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
    alive "$run" && kill -9 "$(cat "$run/pid")"
  fi
  grep -q " $run/ffs functionfs " /proc/mounts && umount "$run/ffs"
  rm -f "$g/configs/c.1/ffs.$FFS_NAME"
  for d in "$g/configs/c.1" "$g/functions/ffs.$FFS_NAME" "$g/strings/0x409" "$g"; do
    [ -d "$d" ] && rmdir "$d"
  done
  rm -f "$run/pid" "$run/gadget" "$run/control"
  [ ! -e "$g" ] || die "could not remove $g"
}

ctl() {
  run=$1
  shift
  # upssim keeps the FIFO open for reading; without it a write would block forever.
  alive "$run" || die "upssim is not running for $run"
  before=$(sed -n 's/^controls=//p' "$run/state")
  printf '%s\n' "$*" >"$run/control"
  # Return once upssim has taken the line, so what follows sees its effect.
  i=0
  while [ "$(sed -n 's/^controls=//p' "$run/state")" = "$before" ]; do
    i=$((i + 1))
    [ $i -le 50 ] || die "upssim did not take '$*' (see its log)"
    sleep 0.1
  done
}

case ${1:-} in
  start) [ $# -eq 3 ] || die "usage: ups-gadget.sh start UDC RUNDIR"; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || die "usage: ups-gadget.sh stop RUNDIR"; stop "$2" ;;
  ctl) [ $# -ge 3 ] || die "usage: ups-gadget.sh ctl RUNDIR LINE..."; shift; ctl "$@" ;;
  *) die "usage: ups-gadget.sh start UDC RUNDIR | stop RUNDIR | ctl RUNDIR LINE..." ;;
esac
