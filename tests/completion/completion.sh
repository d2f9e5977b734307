#!/bin/bash
# The bash completions of usbrecover and usbrecover-gen: subcommands, options, methods and
# triggers, and selectors from the devices `usbrecover list --json` lists (a stand-in prints two
# devices). Every option a command's --help names is offered, and nothing --help does not name,
# so the completion cannot drift from the programs.
# usage: completion.sh COMPLETIONS_DIR HELPER GENERATOR
set -uo pipefail
export LC_ALL=C
dir=$1 helper=$2 gen=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A stand-in usbrecover on PATH: `list --json` prints two devices as the helper prints them.
mkdir -p "$work/bin"
cat >"$work/bin/usbrecover" <<'STANDIN'
#!/bin/sh
[ "$1 $2" = "list --json" ] || exit 64
cat <<'JSON'
{
  "devices": [
    {
      "port_path": "1-1.2",
      "sysname": "1-1.2",
      "syspath": "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2",
      "bus": 1,
      "dev": 7,
      "devnode": "/dev/bus/usb/001/007",
      "vendor": "0665",
      "product": "5161",
      "manufacturer": "INNO TECH"
    },
    {
      "port_path": "2-3",
      "sysname": "2-3",
      "syspath": "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-3",
      "bus": 2,
      "dev": 12,
      "devnode": "/dev/bus/usb/002/012",
      "vendor": "051d",
      "product": "0002",
      "manufacturer": "American Power Conversion"
    }
  ]
}
JSON
STANDIN
chmod +x "$work/bin/usbrecover"
export PATH="$work/bin:$PATH"

. "$dir/usbrecover"
. "$dir/usbrecover-gen"

# complete FUNCTION WORD...: the candidates for the last word, sorted, on one line.
complete_words() {
  local fn=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  "$fn"
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {  # expect WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "ok: $1"; else fail "$1: got '$2', want '$3'"; fi
}

expect "subcommands" "$(complete_words _usbrecover usbrecover '')" \
  "--help --version dispatch explain handle handover list repair reset tree watch"
expect "subcommands by prefix" "$(complete_words _usbrecover usbrecover re)" "repair reset"
expect "methods" "$(complete_words _usbrecover usbrecover reset 1-1.2 --method '')" \
  "authorize controller device hub port-power rebind warm-reset"
expect "handle's triggers" "$(complete_words _usbrecover usbrecover handle --trigger '')" \
  "add controller-died port-failed service-stale service-start service-stop"
expect "explain's triggers" "$(complete_words _usbrecover usbrecover explain 1-1.2 --trigger '')" \
  "add service-start service-stop"
expect "selectors of the devices present" "$(complete_words _usbrecover usbrecover reset '')" \
  "001/007 002/012 051d:0002 0665:5161 1-1.2 2-3"
expect "selectors by prefix" "$(complete_words _usbrecover usbrecover explain 06)" "0665:5161"
expect "after the selector, options" "$(complete_words _usbrecover usbrecover reset 2-3 --d)" "--dry-run"
expect "--syspath" "$(complete_words _usbrecover usbrecover handle --trigger add --syspath /sys/devices/pci0000:00/0000:00:14.0/usb2)" \
  "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-3"
expect "--port" "$(complete_words _usbrecover usbrecover handle --port '')" "1-1.2 2-3"
expect "gen's options" "$(complete_words _usbrecover_gen usbrecover-gen --a)" "--apply"

# Every option of --help, and only those: the options of the usage lines (up to the first empty
# line) and of the option list (lines that start with one), not those named in the prose.
help_options() {
  { "$@" --help 2>&1; echo --help; } |
    awk 'NF == 0 { body = 1 } !body || /^ *--/ { print }' | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
for sub in list tree reset repair explain handle dispatch watch handover; do
  expect "usbrecover $sub: the options --help names" "$(complete_words _usbrecover usbrecover "$sub" --)" \
    "$(help_options "$helper" "$sub")"
done
expect "usbrecover-gen: the options --help names" "$(complete_words _usbrecover_gen usbrecover-gen --)" \
  "$( (help_options "$gen"; echo; echo --version) | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')"

# Negative control: a completion missing an option must fail the comparison above.
broken=$(complete_words _usbrecover usbrecover reset -- | sed 's/--allow-collateral //')
[ "$broken" != "$(help_options "$helper" reset)" ] || fail "the comparison cannot tell a missing option"

echo "$fails failed"
[ $fails -eq 0 ]
