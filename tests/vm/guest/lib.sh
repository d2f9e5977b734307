# Shell helpers for the scenarios (busybox sh). Every fact a scenario asserts is read here from
# sysfs, never taken from the program under test.
#
# A scenario exits 0 to pass, 77 to skip, anything else to fail; `fail` and `skip` print the
# one-line reason that tests/vm/run shows.

SYS=/sys/bus/usb/devices
TOPOLOGY=/etc/vm/topology
USBRECOVER=/usr/sbin/usbrecover

fail() {
  echo "FAIL: $*"
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit 77
}

ok() { echo "ok: $*"; }

# check DESCRIPTION COMMAND...: runs COMMAND, fails the scenario with DESCRIPTION if it fails.
check() {
  _desc=$1
  shift
  if "$@"; then ok "$_desc"; else fail "$_desc"; fi
}

# expect_eq DESCRIPTION WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: want '$2', got '$3'"; fi
}

attr() { cat "$SYS/$1/$2" 2>/dev/null; }            # attr DEV NAME
devnum() { attr "$1" devnum; }
node_of() { printf '/dev/bus/usb/%03d/%03d' "$(attr "$1" busnum)" "$(attr "$1" devnum)"; }
busdev_of() { printf '%03d/%03d' "$(attr "$1" busnum)" "$(attr "$1" devnum)"; }

# find_dev VID PID [SERIAL]: the sysfs names of matching devices, one a line ("-" = any serial).
find_dev() {
  for _d in "$SYS"/*; do
    _n=${_d##*/}
    case $_n in *:*) continue ;; esac
    [ "$(cat "$_d/idVendor" 2>/dev/null)" = "$1" ] || continue
    [ "$(cat "$_d/idProduct" 2>/dev/null)" = "$2" ] || continue
    if [ $# -ge 3 ] && [ "$3" != - ]; then
      [ "$(cat "$_d/serial" 2>/dev/null)" = "$3" ] || continue
    fi
    echo "$_n"
  done
}

# topo NAME FIELD: a field of the topology line NAME (2 vid:pid, 3 serial, 4 port path).
topo() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$TOPOLOGY"; }

# dev_of NAME: the sysfs name of the topology entry NAME, found by ids and serial; fails the
# scenario unless exactly one device matches.
dev_of() {
  _id=$(topo "$1" 2)
  [ -n "$_id" ] || fail "no '$1' in $TOPOLOGY"
  _m=$(find_dev "${_id%:*}" "${_id#*:}" "$(topo "$1" 3)")
  [ "$(echo "$_m" | grep -c .)" = 1 ] || fail "'$1' ($_id): want one device, found: $(echo $_m)"
  echo "$_m"
}

# interfaces DEV: the sysfs names of the device's interfaces.
interfaces() {
  case $1 in usb*) _p=${1#usb}-0 ;; *) _p=$1 ;; esac  # a root hub's interface is "N-0:1.0"
  for _i in "$SYS/$1/$_p":*; do [ -e "$_i" ] && echo "${_i##*/}"; done
}

# drivers DEV: "IFACE=DRIVER" for each interface, "IFACE=-" when unbound.
drivers() {
  for _i in $(interfaces "$1"); do
    if [ -e "$SYS/$1/$_i/driver" ]; then
      echo "$_i=$(basename "$(readlink "$SYS/$1/$_i/driver")")"
    else
      echo "$_i=-"
    fi
  done
}

# all_bound DEV: true when the device is there, authorized, and every interface has a driver.
all_bound() {
  [ "$(attr "$1" authorized)" = 1 ] || return 1
  _ifs=$(interfaces "$1")
  [ -n "$_ifs" ] || return 1
  for _i in $_ifs; do [ -e "$SYS/$1/$_i/driver" ] || return 1; done
}

# disk_of DEV: the name of the first block device below DEV's first interface ("sda").
disk_of() {
  _b=$(ls -d "$SYS/$1/$1:1.0"/host*/target*/*/block/* 2>/dev/null | head -1)
  [ -n "$_b" ] && echo "${_b##*/}"
}

# port_dir DEV: the sysfs directory of the hub port the device is plugged into.
port_dir() { readlink -f "$SYS/$1/port"; }

# wait_back DEV [OLD_DEVNUM] [TIMEOUT_MS]: waits (on uevents) until DEV is back with its
# drivers bound and, when OLD_DEVNUM is given, a different devnum.
wait_back() {
  if [ -n "${2:-}" ]; then
    vmtool wait "$1" --devnum-not "$2" --timeout "${3:-10000}"
  else
    vmtool wait "$1" --timeout "${3:-10000}"
  fi
}

wait_gone() { vmtool wait "$1" --gone --timeout "${2:-10000}"; }

# need_helper: skips the scenario when usbrecover is not in this build.
need_helper() {
  [ -x "$USBRECOVER" ] ||
    skip "usbrecover is not in this build (BUILD/helper/usbrecover missing when the bed was made)"
}

# ur ARGS...: runs usbrecover, shows the command, its output and status; sets UR_RC, UR_OUT.
ur() {
  echo "+ usbrecover $*"
  UR_OUT=$("$USBRECOVER" "$@" 2>/tmp/ur.err)
  UR_RC=$?
  [ -n "$UR_OUT" ] && echo "$UR_OUT" | sed 's/^/  > /'
  [ -s /tmp/ur.err ] && sed 's/^/  2> /' /tmp/ur.err
  echo "  exit $UR_RC"
  return 0
}

# expect_rc DESCRIPTION WANT: the status of the last `ur`.
expect_rc() { expect_eq "$1 (exit status)" "$2" "$UR_RC"; }

# json EXPR: evaluates a jq expression on the output of the last `ur`.
json() { echo "$UR_OUT" | jq -r "$1"; }

# wait_topology SECONDS: waits until every device in the topology is there with drivers bound.
wait_topology() {
  _end=$(($(cut -d. -f1 /proc/uptime) + $1))
  while :; do
    _missing=
    for _name in $(awk '!/^#/ && NF { print $1 }' "$TOPOLOGY"); do
      _id=$(topo "$_name" 2)
      _m=$(find_dev "${_id%:*}" "${_id#*:}" "$(topo "$_name" 3)")
      if [ "$(echo "$_m" | grep -c .)" != 1 ] || ! all_bound "$_m"; then
        _missing="$_missing $_name"
      fi
    done
    [ -z "$_missing" ] && return 0
    if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
      echo "init: still missing or unbound after $1 s:$_missing"
      lsusb -t 2>&1
      return 1
    fi
    sleep 0.2
  done
}

# hid_instance DEV: the name of the HID device under DEV's first interface
# ("0003:0665:5161.0004"); the kernel numbers each new one, so a changed name proves that the
# driver was unbound and bound again.
hid_instance() {
  for _h in "$SYS/$1/$1:1.0"/0003:*; do [ -e "$_h" ] && echo "${_h##*/}"; done
}

# reset_ok NAME METHOD new|same [ARGS...]: `usbrecover reset SELECTOR --method METHOD --json
# ARGS` (SELECTOR: the variable if set, else the device's port path); expects exit 0 and
# ok/verified in the JSON, then checks from sysfs that the same device (ids, serial) is back on
# the same port with its drivers bound, with a new devnum (new) or the same one (same), and that
# the JSON's "after" agrees with sysfs.
reset_ok() {
  _name=$1 _method=$2 _devnum=$3
  shift 3
  _dev=$(dev_of "$_name")
  _old=$(devnum "$_dev")
  ur reset "${SELECTOR:-$_dev}" --method "$_method" --json "$@"
  expect_rc "reset $_name --method $_method" 0
  expect_eq "$_method: ok" true "$(json '.ok')"
  expect_eq "$_method: verified" true "$(json '.verified')"
  _out=$(wait_back "$_dev" "" 5000) || fail "$_name not back with drivers bound on $_dev: $_out"
  expect_eq "$_name found again by ids and serial" "$_dev" "$(dev_of "$_name")"
  if [ "$_devnum" = new ]; then
    [ "$(devnum "$_dev")" != "$_old" ] || fail "$_method: devnum still $_old (no re-enumeration)"
    ok "$_method: devnum $_old -> $(devnum "$_dev")"
  else
    expect_eq "$_method: devnum kept" "$_old" "$(devnum "$_dev")"
  fi
  expect_eq "$_method: JSON device (before) devnum" "$_old" "$(json '(.before // .device) | .devnum // .dev')"
  expect_eq "$_method: JSON after.devnum agrees with sysfs" "$(devnum "$_dev")" \
    "$(json '.after | .devnum // .dev')"
  expect_eq "$_method: JSON after.port_path" "$_dev" "$(json '.after.port_path')"
  ok "$_method on $_name: $(json '.elapsed_ms') ms by the helper's clock"
}

# reset_refused NAME METHOD WANT_RC [ARGS...]: the helper refuses or cannot do the method; the
# device is untouched (same devnum, drivers bound, port not left disabled).
reset_refused() {
  _name=$1 _method=$2 _want=$3
  shift 3
  _dev=$(dev_of "$_name")
  _old=$(devnum "$_dev")
  ur reset "$_dev" --method "$_method" "$@"
  expect_rc "reset $_name --method $_method $*" "$_want"
  expect_eq "$_name untouched: devnum" "$_old" "$(devnum "$_dev")"
  all_bound "$_dev" || fail "$_name: drivers not bound after the refusal"
  expect_eq "$_name: port disable" 0 "$(cat "$(port_dir "$_dev")/disable")"
}
