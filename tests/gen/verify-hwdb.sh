#!/bin/bash
# The hwdb file usbrecover-gen writes, compiled and queried by systemd-hwdb as udev uses it:
# - `systemd-hwdb --strict update` prints nothing (its --strict only warns, so any line on its
#   stderr fails the test);
# - a device with each key's id gets that very entry (USBRECOVER_NAME and USBRECOVER_SOURCE as
#   the entry's comment names them), a vendor's wildcard included;
# - of two entries for one device, the one the table means wins whole: a product's entry over its
#   vendor's wildcard (no group leaks from the wildcard), a later file's over an earlier one's.
# Negative controls: a hwdb with a broken line, and one with the wildcard after the product, must
# fail the same checks.
# usage: verify-hwdb.sh GENERATOR TABLE_OR_DIR...
set -euo pipefail
gen=$1
shift
command -v systemd-hwdb >/dev/null || { echo "skipping: no systemd-hwdb (package udev)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# compile HWDB_FILE: a root with only that file, compiled; fails on any warning.
compile() {
  rm -rf "$work/root"
  mkdir -p "$work/root/etc/udev/hwdb.d"
  cp "$1" "$work/root/etc/udev/hwdb.d/70-usbrecover.hwdb"
  if ! systemd-hwdb --root="$work/root" --strict update 2>"$work/stderr" || [ -s "$work/stderr" ]; then
    echo "systemd-hwdb --strict update complained about $1:"
    cat "$work/stderr"
    return 1
  fi
}

# query VVVV PPPP: the properties a USB device with that id gets (as udev composes its key).
query() { systemd-hwdb --root="$work/root" query "usb:v$1p$2:UPS"; }

# each_key_gets_its_entry HWDB_FILE: every key, queried, gives the entry the comment above it names.
each_key_gets_its_entry() {
  local comment="" line want got vendor product fails=0 n=0
  while IFS= read -r line; do
    case $line in
      "# "*) comment=${line#\# } ;;
      usb:v*)
        vendor=${line:5:4} product=${line:10:4}
        [ "$product" = "*" ] && product=ZZZZ  # no product key matches; only the wildcard does
        want=$comment
        got=$(query "$vendor" "$product" | sed -n 's/^USBRECOVER_NAME=//p; s/^USBRECOVER_SOURCE=/(/p' |
          paste -sd ' ')
        got="$got)"
        n=$((n + 1))
        if [ "$got" != "$want" ]; then
          echo "$line: got '$got', want '$want'"
          fails=$((fails + 1))
        fi
        ;;
    esac
  done <"$1"
  [ "$n" -gt 0 ] || { echo "no key in $1"; return 1; }
  [ "$fails" -eq 0 ] && echo "ok: each of the $n keys of $1 gives its own entry"
}

n=0
for input in "$@"; do
  out=$work/out$n
  n=$((n + 1))
  if [ -d "$input" ]; then args=(--table-dir "$input"); else args=(--table "$input"); fi
  "$gen" "${args[@]}" --output-dir "$out" --quiet
  compile "$out/hwdb/70-usbrecover.hwdb"
  echo "ok: systemd-hwdb --strict compiles the hwdb generated from $input without a word"
  each_key_gets_its_entry "$out/hwdb/70-usbrecover.hwdb"
done

# Two entries for one device.
mkdir -p "$work/tables"
cat >"$work/tables/10-vendor.toml" <<'TOML'
schema = 1
[[device]]
name = "Phoenixtec, any product"
ids = ["06da:*"]
group = "nut"
mode = "0660"
probe = "open"
[[device]]
name = "Ippon"
ids = ["06da:0003"]
probe = "megatec-q1"
[[device]]
name = "shipped INNO TECH"
ids = ["0665:5161"]
TOML
cat >"$work/tables/20-local.toml" <<'TOML'
schema = 1
[[device]]
name = "local INNO TECH"
ids = ["0665:5161"]
probe = "none"
TOML
"$gen" --table-dir "$work/tables" --output-dir "$work/pair" --quiet
hwdb=$work/pair/hwdb/70-usbrecover.hwdb
compile "$hwdb"
expect() {  # expect VVVV PPPP PROPERTY=VALUE...
  local vendor=$1 product=$2 props
  shift 2
  props=$(query "$vendor" "$product")
  for p in "$@"; do
    grep -qx -- "$p" <<<"$props" || { echo "usb:v${vendor}p$product: no '$p' in: $(paste -sd ' ' <<<"$props")"; return 1; }
  done
}
expect 06DA 0003 "USBRECOVER_NAME=Ippon" "USBRECOVER_PROBE=megatec-q1" "USBRECOVER_GROUP=" "USBRECOVER_MODE="
expect 06DA 0002 "USBRECOVER_NAME=Phoenixtec, any product" "USBRECOVER_GROUP=nut" "USBRECOVER_MODE=0660"
expect 0665 5161 "USBRECOVER_NAME=local INNO TECH" "USBRECOVER_PROBE=none"
echo "ok: a product's entry wins whole over its vendor's wildcard, a later file's over an earlier one's"

# Negative controls.
{ cat "$hwdb"; printf '\nusb:v1234p5678*\n USBRECOVER_NAME\n'; } >"$work/broken.hwdb"
if compile "$work/broken.hwdb" >/dev/null; then
  echo "a hwdb with a property line without '=' compiled without a warning"
  exit 1
fi
echo "ok: a hwdb with a broken line fails the check"
# The wildcard's block moved after the product's: the product would get the wildcard's name.
awk 'BEGIN { RS = ""; ORS = "\n\n" } /\nusb:v06DAp\*\n/ { moved = $0; next } { print } END { print moved }' \
  "$hwdb" >"$work/reordered.hwdb"
compile "$work/reordered.hwdb"
if each_key_gets_its_entry "$work/reordered.hwdb" >/dev/null; then
  echo "the check did not notice a wildcard after its vendor's product"
  exit 1
fi
echo "ok: a wildcard after its vendor's product fails the check"
