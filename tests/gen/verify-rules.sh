#!/bin/bash
# Generates the udev rules from each table given and runs `udevadm verify` (udev >= 254) on
# them. Debian 12 ships udev 252, which has no verify; then udev 254 is unpacked from
# bookworm-backports into CACHE (nothing is installed on the host). Exits 77 (skip) with the
# reason only when no udevadm with verify can be had. A broken rule must fail the same check.
# usage: verify-rules.sh GENERATOR CACHE TABLE_OR_DIR...
set -euo pipefail
gen=$1 cache=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

udevadm=(udevadm)
if ! udevadm verify --help >/dev/null 2>&1; then
  root=$cache/root
  if [ ! -x "$root/bin/udevadm" ] && [ ! -x "$root/usr/bin/udevadm" ]; then
    apt=$cache/apt
    mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$root"
    echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main' \
      >"$apt/etc/sources.list"
    opts=(-o "Dir::Etc=$apt/etc" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
      -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d" -o "Dir::Etc::Preferences=$apt/etc/preferences.d"
      -o "Dir::State::status=/var/lib/dpkg/status" -o APT::Sandbox::User=root -q)
    if ! apt-get "${opts[@]}" update >"$work/apt.log" 2>&1 ||
      ! (cd "$apt/archives" && apt-get "${opts[@]}" download udev libsystemd-shared >>"$work/apt.log" 2>&1); then
      echo "skipping: no udevadm with 'verify' here and bookworm-backports could not be fetched:"
      tail -3 "$work/apt.log"
      exit 77
    fi
    for deb in "$apt"/archives/udev_*.deb "$apt"/archives/libsystemd-shared_*.deb; do dpkg-deb -x "$deb" "$root"; done
  fi
  bin=$root/bin/udevadm
  [ -x "$bin" ] || bin=$root/usr/bin/udevadm
  libdir=$(dirname "$(find "$root" -name 'libsystemd-shared-*.so' | head -n 1)")
  udevadm=(env "LD_LIBRARY_PATH=$libdir" "$bin")
fi
echo "using udevadm $("${udevadm[@]}" --version)"

n=0
for input in "$@"; do
  out=$work/out$n
  n=$((n + 1))
  args=()
  if [ -d "$input" ]; then args=(--table-dir "$input"); else args=(--table "$input"); fi
  "$gen" "${args[@]}" --output-dir "$out" --quiet
  # Groups are resolved on the target system, not on the build host.
  "${udevadm[@]}" verify --resolve-names=never "$out"/rules/*.rules
  echo "ok: rules generated from $input"
done

printf 'SUBSYSTEM=="usb", NO_SUCH_KEY="x"\n' >"$work/broken.rules"
if "${udevadm[@]}" verify --resolve-names=never "$work/broken.rules" >/dev/null 2>&1; then
  echo "the check accepted a broken rule"
  exit 1
fi
echo "ok: a broken rule is rejected"
