#!/bin/bash
# Generates units from each table given and runs `systemd-analyze verify` on every one of them:
# usbrecover@.service as an instance, usbrecover-repair.service, the watcher, its hand-over socket
# and an instance of the hand-over service, and each drop-in applied to a
# stand-in for its service. Any warning fails the test. A deliberately broken unit must fail
# too, so this test cannot pass by accident.
# usage: verify-units.sh GENERATOR TABLE_OR_DIR...
set -euo pipefail
gen=$1
shift
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# systemd-analyze verify checks that executables exist; the helper is not installed here.
helper=/bin/true

verify() {  # verify UNITDIR UNIT: fails on a non-zero exit or any output
  local out
  if ! out=$(SYSTEMD_UNIT_PATH="$1:" systemd-analyze verify --man=no "$2" 2>&1) || [ -n "$out" ]; then
    echo "systemd-analyze verify $2: ${out:-failed}"
    return 1
  fi
}

n=0
for input in "$@"; do
  out=$work/out$n units=$work/units$n
  n=$((n + 1))
  args=()
  if [ -d "$input" ]; then args=(--table-dir "$input"); else args=(--table "$input"); fi
  "$gen" "${args[@]}" --output-dir "$out" --helper "$helper" --quiet
  mkdir -p "$units"
  cp -r "$out"/units/. "$units"/
  # An instance name as dispatch makes it, minus ':' which systemd-analyze misreads.
  verify "$units" 'usbrecover@devices-pci0000-usb1-1\x2d1.service'
  verify "$units" usbrecover-repair.service
  verify "$units" usbrecover-watch.service
  verify "$units" usbrecover-handover.socket
  verify "$units" 'usbrecover-handover@0-1.service'
  for d in "$units"/*.service.d; do
    [ -d "$d" ] || continue
    svc=$(basename "$d" .d)
    printf '[Unit]\nDescription=stand-in for %s\n[Service]\nType=oneshot\nExecStart=/bin/true\n' "$svc" \
      >"$units/$svc"
    case $svc in
      *@.service) verify "$units" "${svc%@.service}@test.service" ;;
      *) verify "$units" "$svc" ;;
    esac
    echo "ok: $svc with its usbrecover drop-in"
  done
  echo "ok: units generated from $input"
done

# Negative control: the same check must reject a broken unit.
mkdir -p "$work/bad"
printf '[Service]\nExecStart=/bin/true\nNoSuchKey=1\n' >"$work/bad/broken.service"
if verify "$work/bad" broken.service >/dev/null; then
  echo "the check accepted a broken unit"
  exit 1
fi
echo "ok: a broken unit is rejected"
