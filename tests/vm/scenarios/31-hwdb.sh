# The hwdb on a real udevd. An entry that matches on its ids alone reaches its device as
# properties from 70-usbrecover.hwdb, which 50-udev-default.rules imports, while the rules file
# names no id of it: the device gets its USBRECOVER_* policy, its node's group and mode, power
# kept on, the helper's dispatch on add, and the helper reads the entry. An entry with a product
# string stays a rule and wins whole over its vendor's wildcard in the hwdb (none of the
# wildcard's group leaks). With the hwdb file gone, the properties go: they came from it.
# udev's index of the table's ids (the tag "usbrecover"): every device whose ids an entry names is
# in it, the twin of an entry with a serial too, and `explain` by ids finds the devices there
# (both twins: ambiguous) and a device outside the table by reading every device's ids.
. /usr/lib/vm/lib.sh
need_helper
GEN=/usr/bin/usbrecover-gen
[ -x "$GEN" ] || skip "usbrecover-gen is not in this build"
command -v systemd-hwdb >/dev/null || skip "systemd-hwdb is not in the bed"

inno=$(dev_of inno)
phx=$(dev_of phoenixtec)
twin_a=$(dev_of twin-a)
twin_b=$(dev_of twin-b)
inno_path=$(readlink -f "$SYS/$inno")
phx_path=$(readlink -f "$SYS/$phx")
export USBRECOVER_STATE_DIR=/run/usbrecover-31
rm -rf "$USBRECOVER_STATE_DIR"

cat >/tmp/31.toml <<'TOML'
schema = 1
[[device]]
name = "INNO TECH bridge from the hwdb"
ids = ["0665:5161"]
group = "nut"
mode = "0660"
methods = ["device", "port-power"]
probe = "descriptor"
services = ["ups31.service"]

[[device]]
name = "Phoenixtec, any product"
ids = ["06da:*"]
group = "nut"
mode = "0660"

[[device]]
name = "Phoenixtec UPS by its product string"
ids = ["06da:0003"]
product = "USB UPS"
probe = "control"
keep_awake = false

[[device]]
name = "Twin A alone, by its serial"
ids = ["1d6b:0104"]
serial = "twin-a"
TOML
"$GEN" --table /tmp/31.toml --rules-dir /etc/udev/rules.d --unit-dir /tmp/31-units --helper "$USBRECOVER" ||
  fail "usbrecover-gen failed"
hwdb=/etc/udev/hwdb.d/70-usbrecover.hwdb
[ -f "$hwdb" ] || fail "usbrecover-gen wrote no $hwdb"
grep -q 'idVendor}=="0665"' /etc/udev/rules.d/70-usbrecover.rules && fail "the rules name 0665 (it belongs in the hwdb)"
grep -qx 'usb:v0665p5161\*' "$hwdb" || fail "no usb:v0665p5161* key in $hwdb"
ok "0665:5161 is in the hwdb and not in the rules"
systemd-hwdb --strict update 2>/tmp/31-hwdb.err || fail "systemd-hwdb update failed: $(cat /tmp/31-hwdb.err)"
[ -s /tmp/31-hwdb.err ] && fail "systemd-hwdb warned: $(cat /tmp/31-hwdb.err)"

printf '#!/bin/sh\necho "$*" >>/tmp/systemctl.log\n' >/usr/bin/systemctl
chmod 755 /usr/bin/systemctl
rm -f /tmp/systemctl.log
# The bed's udevd does not resolve names; GROUP="$env{USBRECOVER_GROUP}" needs them.
restart_udevd() {
  udevadm control --exit
  /bin/systemd-udevd --daemon --resolve-names="$1" || fail "systemd-udevd did not start"
}
restart_udevd early
cleanup() {
  rm -f /etc/udev/rules.d/70-usbrecover.rules "$hwdb" /usr/bin/systemctl
  systemd-hwdb update
  restart_udevd never
}
trap cleanup EXIT

echo auto >"$SYS/$inno/power/control"
echo auto >"$SYS/$phx/power/control"
udevadm trigger --action=add "$SYS/$inno" "$SYS/$phx"
udevadm settle --timeout=30

props=$(udevadm info --query=property --path="${inno_path#/sys}")
for want in 'USBRECOVER_SCHEMA=1' 'USBRECOVER_NAME=INNO TECH bridge from the hwdb' 'USBRECOVER_SOURCE=/tmp/31.toml:2' \
  'USBRECOVER_METHODS=device,port-power' 'USBRECOVER_PROBE=descriptor' 'USBRECOVER_SERVICES=ups31.service'; do
  echo "$props" | grep -qx "$want" || fail "$inno: no '$want' from the hwdb: $props"
done
ok "$inno has its entry's properties from the hwdb"
expect_eq "$inno power/control" on "$(attr "$inno" power/control)"
expect_eq "$inno node group and mode" "nut 660" "$(stat -c '%G %a' "$(node_of "$inno")")"
escaped=$(echo "${inno_path#/sys/}" | sed 's/-/\\x2d/g; s|/|-|g')
grep -qxF -- "--no-block start usbrecover@$escaped.service" /tmp/systemctl.log 2>/dev/null ||
  fail "no dispatch of usbrecover@$escaped.service: $(cat /tmp/systemctl.log 2>/dev/null)"
ok "the add event of $inno dispatched usbrecover@.service"
ur list
expect_rc "usbrecover list" 0
echo "$UR_OUT" | grep -F "$inno" | grep -qF "INNO TECH bridge from the hwdb" ||
  fail "usbrecover list does not show $inno's entry"

props=$(udevadm info --query=property --path="${phx_path#/sys}")
for want in 'USBRECOVER_NAME=Phoenixtec UPS by its product string' 'USBRECOVER_PROBE=control' 'USBRECOVER_KEEP_AWAKE=0'; do
  echo "$props" | grep -qx "$want" || fail "$phx: no '$want': $props"
done
echo "$props" | grep -q '^USBRECOVER_GROUP=' && fail "$phx: the wildcard's group leaked: $props"
ok "$phx has the product-string rule's properties, none of its vendor's wildcard"
expect_eq "$phx power/control" auto "$(attr "$phx" power/control)"
[ "$(stat -c '%G' "$(node_of "$phx")")" = nut ] && fail "$phx: node got the wildcard's group"

# udev's index of the table's ids, and the helper's lookup by ids through it.
udevadm trigger --action=change --settle "$SYS/$twin_a" "$SYS/$twin_b"
tag_id() { echo "c189:$(($(($(attr "$1" busnum) - 1)) * 128 + $(attr "$1" devnum) - 1))"; }
for d in "$inno" "$phx" "$twin_a" "$twin_b"; do
  [ -e "/run/udev/tags/usbrecover/$(tag_id "$d")" ] ||
    fail "$d is not in udev's index of the tag usbrecover: $(ls /run/udev/tags/usbrecover 2>&1)"
  udevadm info --query=property --path="$(readlink -f "$SYS/$d" | sed 's|^/sys||')" |
    grep -qx 'USBRECOVER_TABLE_IDS=1' || fail "$d has no USBRECOVER_TABLE_IDS=1"
done
udevadm info --query=property --path="$(readlink -f "$SYS/$twin_b" | sed 's|^/sys||')" | grep -q '^USBRECOVER_NAME=' &&
  fail "twin-b got the entry of twin-a's serial"
other=$(dev_of ftdi-pp)
[ -e "/run/udev/tags/usbrecover/$(tag_id "$other")" ] && fail "$other, outside the table, is in the index"
ok "udev tagged the table's devices and twin-b, whose ids an entry with a serial names"
ur explain 0665:5161
expect_rc "explain 0665:5161 through the index" 0
echo "$UR_OUT" | grep -qF "INNO TECH bridge from the hwdb" || fail "explain 0665:5161 did not find its entry"
ur explain 1d6b:0104
expect_rc "explain 1d6b:0104 (twins, both in the index)" 73
for d in "$twin_a" "$twin_b"; do
  grep -qF "$d" /tmp/ur.err || fail "the refusal does not name $d"
done
ok "explain by ids refuses the twins, both found through the index"
ur explain "$(attr "$other" idVendor):$(attr "$other" idProduct)"
expect_rc "explain of a device outside the table (every device's ids read)" 0
echo "$UR_OUT" | grep -qF "$other" || fail "explain did not find $other"
ok "explain by ids finds $other, outside the table, by reading every device's ids"

# Without the hwdb file, a change event leaves the device without the properties.
rm -f "$hwdb"
systemd-hwdb update
udevadm control --reload
udevadm trigger --action=change --settle "$SYS/$inno"
udevadm info --query=property --path="${inno_path#/sys}" | grep -q '^USBRECOVER_' &&
  fail "$inno kept USBRECOVER_* properties without the hwdb file"
ok "without the hwdb file $inno has no USBRECOVER_* properties"
unset USBRECOVER_STATE_DIR
