#!/bin/bash
# Rates every generated service with `systemd-analyze security --offline=yes` and fails above 1.5:
# usbrecover@.service, usbrecover-repair.service, usbrecover-watch.service (its own user, only
# reading) and usbrecover-handover@.service (root, what the watcher hands over). A unit without
# the sandbox must fail the same check, so it cannot pass by accident.
# usage: units-security.sh GENERATOR TABLE
set -euo pipefail
gen=$1 table=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" --table "$table" --output-dir "$work/out" --quiet
units=$work/out/units
cp "$units/usbrecover@.service" "$units/usbrecover@1-1.service"
cp "$units/usbrecover-handover@.service" "$units/usbrecover-handover@0-1.service"

rate() {  # rate UNIT_FILE: the overall exposure level, e.g. 1.4
  systemd-analyze security --offline=yes --no-pager "$1" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
check() {  # check UNIT_FILE LIMIT: prints the rating, fails above LIMIT
  local level
  level=$(rate "$1")
  [ -n "$level" ] || { echo "$(basename "$1"): systemd-analyze gave no rating"; return 1; }
  if awk -v l="$level" -v m="$2" 'BEGIN { exit !(l > m) }'; then
    echo "$(basename "$1"): exposure $level, above $2"
    systemd-analyze security --offline=yes --no-pager "$1" 2>/dev/null | grep '✗' | sed 's/^/    /'
    return 1
  fi
  echo "ok: $(basename "$1"): exposure $level (at most $2)"
}

rc=0
check "$units/usbrecover@1-1.service" 1.5 || rc=1
check "$units/usbrecover-repair.service" 1.5 || rc=1
check "$units/usbrecover-watch.service" 1.5 || rc=1
check "$units/usbrecover-handover@0-1.service" 1.5 || rc=1

# Negative control: the repair unit without its sandbox.
sed -n '1,/^\[Service\]/p' "$units/usbrecover-repair.service" >"$work/bare.service"
grep -E '^(Type|ExecStart)=' "$units/usbrecover-repair.service" >>"$work/bare.service"
if check "$work/bare.service" 1.5 >/dev/null; then
  echo "the check passed a unit without any sandbox"
  rc=1
else
  echo "ok: a unit without the sandbox rates $(rate "$work/bare.service") and fails"
fi
exit $rc
