# The dummy_hcd gadgets enumerate with the identities of the UPS bridges, and the twins differ
# only by serial.
. /usr/lib/vm/lib.sh

inno=$(dev_of inno)
expect_eq "inno ids" "0665:5161" "$(attr "$inno" idVendor):$(attr "$inno" idProduct)"
expect_eq "inno manufacturer" "INNO TECH" "$(attr "$inno" manufacturer)"
expect_eq "inno product" "USB to Serial" "$(attr "$inno" product)"
[ -e "$SYS/$inno/serial" ] && fail "inno has a serial ('$(attr "$inno" serial)'); the real one has none"
ok "inno has no serial, like the real bridge"
expect_eq "inno interface class" "03" "$(attr "$inno:1.0" bInterfaceClass)"
expect_eq "inno driver" "$inno:1.0=usbhid" "$(drivers "$inno")"

ph=$(dev_of phoenixtec)
expect_eq "phoenixtec ids" "06da:0003" "$(attr "$ph" idVendor):$(attr "$ph" idProduct)"
expect_eq "phoenixtec manufacturer" "Phoenixtec" "$(attr "$ph" manufacturer)"
expect_eq "phoenixtec driver" "$ph:1.0=usbhid" "$(drivers "$ph")"

a=$(dev_of twin-a)
b=$(dev_of twin-b)
expect_eq "twins by ids" "2" "$(find_dev 1d6b 0104 | wc -l)"
expect_eq "twin-a serial" "twin-a" "$(attr "$a" serial)"
expect_eq "twin-b serial" "twin-b" "$(attr "$b" serial)"
expect_eq "twin-a drivers" "$(printf '%s\n' "$a:1.0=cdc_acm" "$a:1.1=cdc_acm")" "$(drivers "$a")"
expect_eq "twin-b drivers" "$(printf '%s\n' "$b:1.0=cdc_acm" "$b:1.1=cdc_acm")" "$(drivers "$b")"
[ "$(attr "$a" product)" = "$(attr "$b" product)" ] || fail "twins' products differ"
ok "twins: same ids and strings, different serials, on $a and $b"

# The gadget side agrees: every UDC is configured by its host.
for u in 0 1 2 3; do
  expect_eq "dummy_udc.$u state" configured "$(cat /sys/class/udc/dummy_udc.$u/state)"
done
