#!/bin/bash
# Every USB id NUT 2.8.0's udev rules list (the vendored list) is covered by the shipped table:
# the hwdb generated from it gives a device with the id its properties, with a probe and the
# nut-driver@ drop-in (systemd-hwdb compiles and queries it as udev would). Fails
# naming each id that is missing or uncovered. The same check must fail on a table with one id
# taken out, so it cannot pass by accident.
# usage: nut-ids.sh GENERATOR TABLE ID_LIST
set -euo pipefail
gen=$1 table=$2 list=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v systemd-hwdb >/dev/null || { echo "skipping: no systemd-hwdb (package udev)"; exit 77; }

# check TABLE: prints each id of the list that a USB device with that id, looked up in the hwdb
# generated from TABLE as udev looks it up, does not get with a probe and the nut-driver@ drop-in.
check() {
  "$gen" --table "$1" --output-dir "$work/out" --quiet
  rm -rf "$work/root"
  mkdir -p "$work/root/etc/udev/hwdb.d"
  cp "$work/out/hwdb/70-usbrecover.hwdb" "$work/root/etc/udev/hwdb.d/"
  systemd-hwdb --root="$work/root" update
  grep -v '^#' "$list" | while read -r id; do
    vendor=${id%%:*} product=${id#*:}
    # udev's hwdb builtin looks up "usb:v<VVVV>p<PPPP>:<product string>" for a USB device.
    props=$(systemd-hwdb --root="$work/root" query "usb:v${vendor^^}p${product^^}:UPS")
    if ! grep -qx 'USBRECOVER_SCHEMA=1' <<<"$props"; then
      echo "missing: $id"
      continue
    fi
    probe=$(sed -n 's/^USBRECOVER_PROBE=//p' <<<"$props")
    services=$(sed -n 's/^USBRECOVER_SERVICES=//p' <<<"$props")
    case $probe in "" | none) echo "no probe: $id" ;; esac
    case " $services " in *" nut-driver@.service "*) ;; *) echo "no nut-driver@ drop-in: $id" ;; esac
  done
  rm -rf "$work/out"
}

total=$(grep -vc '^#' "$list")
problems=$(check "$table")
if [ -n "$problems" ]; then
  echo "$problems"
  echo "$(echo "$problems" | wc -l) of NUT 2.8.0's $total ids are not covered by $table"
  exit 1
fi
echo "ok: all $total ids of NUT 2.8.0's udev rules are covered, each with a probe and the nut-driver@ drop-in"

# Negative control: the table without one of the ids must fail the same check.
drop=$(grep -v '^#' "$list" | sed -n '50p')
sed "s/\"$drop\", //; s/, \"$drop\"//; s/\"$drop\"//" "$table" >"$work/short.toml"
if ! check "$work/short.toml" | grep -qx "missing: $drop"; then
  echo "the check did not notice $drop taken out of the table"
  exit 1
fi
echo "ok: a table without $drop fails the check"
