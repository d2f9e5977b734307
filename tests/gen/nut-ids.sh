#!/bin/bash
# Every USB id NUT 2.8.0's udev rules list (the vendored list) is covered by the shipped table:
# the rules generated from it match the id, with a probe and the nut-driver@ drop-in. Fails
# naming each id that is missing or uncovered. The same check must fail on a table with one id
# taken out, so it cannot pass by accident.
# usage: nut-ids.sh GENERATOR TABLE ID_LIST
set -euo pipefail
gen=$1 table=$2 list=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check TABLE: prints each id of the list the rules generated from TABLE do not cover properly.
check() {
  "$gen" --table "$1" --output-dir "$work/out" --quiet
  # One rule per id: its match line, then its assignments up to the GOTO.
  awk '
    match($0, /ATTR\{idVendor\}=="[0-9a-f]+", ATTR\{idProduct\}=="[0-9a-f]+"/) {
      split(substr($0, RSTART, RLENGTH), q, "\""); id = q[2] ":" q[4]; probe = ""; services = ""
    }
    id != "" && match($0, /ENV\{USBRECOVER_PROBE\}="[^"]*"/) { split(substr($0, RSTART, RLENGTH), q, "\""); probe = q[2] }
    id != "" && match($0, /ENV\{USBRECOVER_SERVICES\}="[^"]*"/) { split(substr($0, RSTART, RLENGTH), q, "\""); services = q[2] }
    id != "" && /GOTO="usbrecover_matched"/ { print id, probe, services; id = "" }
  ' "$work/out/rules/70-usbrecover.rules" >"$work/covered"
  grep -v '^#' "$list" | while read -r id; do
    line=$(awk -v id="$id" '$1 == id' "$work/covered")
    if [ -z "$line" ]; then
      echo "missing: $id"
      continue
    fi
    read -r _ probe services <<<"$line"
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
