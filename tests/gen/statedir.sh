#!/bin/bash
# A build configured with its state directory on disk (-Dstatedir=/var/lib/usbrecover) generates
# units that make that directory writable (StateDirectory=) and verify; a state directory
# outside /run and /var/lib is refused when the build is configured, naming the option.
# usage: statedir.sh SOURCE_ROOT
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
if ! meson setup "$work/disk" "$src" -Dstatedir=/var/lib/usbrecover -Dvm_tests=disabled >"$work/setup.log" 2>&1; then
  cat "$work/setup.log"
  exit 1
fi
ninja -C "$work/disk" gen/usbrecover-gen >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; exit 1; }
# systemd-analyze verify checks that executables exist; the helper is not installed here.
"$work/disk/gen/usbrecover-gen" --table "$src/data/devices.toml" --output-dir "$work/out" --helper /bin/true --quiet
for unit in usbrecover@.service usbrecover-repair.service; do
  f=$work/out/units/$unit
  for line in StateDirectory=usbrecover StateDirectoryMode=0755; do
    if grep -qx "$line" "$f"; then echo "ok: $unit has $line"; else echo "FAIL: $unit lacks $line"; fail=1; fi
  done
  if grep -q RuntimeDirectory "$f"; then echo "FAIL: $unit still has RuntimeDirectory"; fail=1; fi
done
for unit in 'usbrecover@devices-pci0000-usb1-1\x2d1.service' usbrecover-repair.service; do
  if ! out=$(SYSTEMD_UNIT_PATH="$work/out/units:" systemd-analyze verify --man=no "$unit" 2>&1) || [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify $unit: ${out:-failed}"
    fail=1
  else
    echo "ok: systemd-analyze verify $unit"
  fi
done
if meson setup "$work/elsewhere" "$src" -Dstatedir=/etc/usbrecover -Dvm_tests=disabled >"$work/bad.log" 2>&1; then
  echo "FAIL: -Dstatedir=/etc/usbrecover was accepted"
  fail=1
elif grep -q "statedir must be a directory below /run/ (lost at reboot, the default) or /var/lib/ (kept), not '/etc/usbrecover'" "$work/bad.log"; then
  echo "ok: -Dstatedir=/etc/usbrecover refused"
else
  echo "FAIL: no clear message for a bad statedir:"
  tail -n 5 "$work/bad.log"
  fail=1
fi
exit $fail
