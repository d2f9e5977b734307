# Shell helpers for the flagship scenarios (dash). Every fact a scenario asserts is read from the
# kernel, systemd's journal, NUT's upsc or the simulator's own state, never from what usbrecover
# says about itself alone. A scenario exits 0 to pass, anything else to fail; `fail` prints the
# one-line reason that tests/flagship/run shows.

. /usr/lib/usbrecover-flagship/run.conf
SIM=/usr/lib/usbrecover-flagship
UPS_RUN=/run/upssim
SYS=/sys/bus/usb/devices
UPS=myups@localhost

fail() {
  echo "FAIL: $*"
  exit 1
}

ok() { echo "ok: $*"; }

expect_eq() {  # expect_eq DESCRIPTION WANT GOT
  if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: want '$2', got '$3'"; fi
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# elapsed FROM [TO]: seconds between two uptimes, one decimal.
elapsed() { awk -v a="$1" -v b="${2:-$(uptime_s)}" 'BEGIN { printf "%.1f", b - a }'; }

# figure TEXT: one line of the scenario's figures, printed by tests/flagship/run.
figure() {
  echo "figure: $*"
  echo "FIGURE $SCENARIO $*" >&3
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s; fails when it never succeeds.
wait_until() {
  _limit=$1
  shift
  _t0=$(uptime_s)
  while ! "$@"; do
    if [ "$(elapsed "$_t0" | cut -d. -f1)" -ge "$_limit" ]; then return 1; fi
    sleep 0.2
  done
}

ups_ctl() { "$SIM/ups-gadget.sh" ctl "$UPS_RUN" "$*"; }
ups_state() { sed -n "s/^$1=//p" "$UPS_RUN/state"; }

# apply_tables: what an administrator runs after editing a local table: usbrecover-gen --apply
# (validate, write into /etc with the ids into /etc/udev/hwdb.d, compile the hwdb, reload udev
# and systemd, trigger the table's devices). Fails the scenario with the generator's last words.
apply_tables() {
  "$usbrecover_gen" --apply >/tmp/apply.log 2>&1 ||
    fail "usbrecover-gen --apply failed: $(tail -5 /tmp/apply.log)"
}

# ups_dev: the sysfs name of the simulated UPS on the host side (empty while it is away).
ups_dev() {
  for _d in "$SYS"/*; do
    [ "$(cat "$_d/idVendor" 2>/dev/null):$(cat "$_d/idProduct" 2>/dev/null)" = 0665:5161 ] &&
      { echo "${_d##*/}"; return 0; }
  done
  return 1
}

# upsc_status: what NUT's upsd says the UPS's status is, or its error.
upsc_status() { upsc "$UPS" ups.status 2>&1; }
upsc_ok() { [ "$(upsc "$UPS" ups.status 2>/dev/null)" = OL ]; }
upsc_stale() { upsc "$UPS" ups.status 2>&1 | grep -q 'Data stale\|Driver not connected'; }

driver_unit=nut-driver@myups.service
watcher_unit=usbrecover-watch.service

# without_watcher: scenarios 2 to 6 prove the paths that need no watcher (udev, the drop-in's
# ExecStartPre and ExecStopPost); the watcher would act on the same fault and race them. The
# runner starts it again after the scenario.
without_watcher() { systemctl stop "$watcher_unit"; }

# journal_since UPTIME [journalctl args]: this boot's journal entries from that uptime on, one a
# line ("[ 12.345678] host ident[pid]: message"). By time rather than by cursor: a cursor names
# an entry in one journal file, and the runtime journal rotates its files during a long run.
journal_since() {
  _since=$1
  shift
  journalctl -b -q --no-pager -o short-monotonic "$@" |
    awk -v s="$_since" '{ l = $0; sub(/^\[ */, "", l); if (l + 0 >= s) print }'
}

# kernel_resets UPTIME: how many USB device resets the kernel logged since then.
kernel_resets() { journal_since "$1" -k | grep -c 'reset full-speed USB device' || true; }

MID_DECISION=4f9e1c2a7b3d4e5f8a6b9c0d1e2f3a4b
MID_RECOVERED=8c2d6e0f4a1b4c3d9e7f5a2b6c8d0e1f
MID_FAILED=d1e3f5a7b9c24d6e8f0a1b3c5d7e9f20
MID_REFUSED=a7b9c1d3e5f74a8b9c0d2e4f6a8b0c1d
MID_NO_ENUMERATION=5c7e9a1b3d5f4b2c8e0a2c4e6a8c0e79

# driver_pid: the main PID of NUT's driver unit (0 when it does not run).
driver_pid() { systemctl show -p MainPID --value "$driver_unit"; }
# driver_invocation: the unit's invocation id, new on every start (systemd's or anyone's).
driver_invocation() { systemctl show -p InvocationID --value "$driver_unit"; }
# handovers SINCE: the watcher's handovers since that uptime (handle --trigger service-stale
# recording the driver's run as failed and restarting it), one line each.
handovers() { journal_since "$1" MESSAGE_ID="$MID_DECISION" USBRECOVER_TRIGGER=service-stale; }
