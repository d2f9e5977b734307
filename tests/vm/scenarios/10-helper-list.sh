# `usbrecover list --json` agrees with sysfs for every device: port path, ids, bus/devnum,
# serial, authorized, and the driver of each interface.
. /usr/lib/vm/lib.sh
need_helper

ur list --json
expect_rc "list --json" 0
echo "$UR_OUT" | jq -e '.devices | length > 0' >/dev/null || fail "no .devices array in the output"
echo "$UR_OUT" | jq -r '.devices[] | [.port_path, .vendor + ":" + .product,
    "\(.bus)/\(.dev)", (.serial // ""), (if .authorized then 1 else 0 end),
    ([.interfaces[]? | .sysname + "=" + (if (.driver // "") == "" then "-" else .driver end)]
     | sort | join(","))] | join(" ")' | sort >/tmp/list.helper

for d in "$SYS"/*; do
  n=${d##*/}
  case $n in *:*) continue ;; usb*) pp=${n#usb}-0 ;; *) pp=$n ;; esac
  echo "$pp $(attr "$n" idVendor):$(attr "$n" idProduct) $(attr "$n" busnum)/$(attr "$n" devnum) $(attr "$n" serial) $(attr "$n" authorized) $(drivers "$n" | sort | tr '\n' ',' | sed 's/,$//')"
done | sort >/tmp/list.sysfs

if ! diff -u /tmp/list.sysfs /tmp/list.helper; then
  fail "list --json and sysfs disagree (- sysfs, + helper)"
fi
ok "list --json agrees with sysfs on $(wc -l </tmp/list.sysfs) devices"

# The gadgets' identities as the helper reports them.
expect_eq "inno strings" "INNO TECH/USB to Serial" \
  "$(echo "$UR_OUT" | jq -r '.devices[] | select(.vendor == "0665" and .product == "5161") | .manufacturer + "/" + .product_name')"
