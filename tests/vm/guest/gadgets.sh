# The bed's gadgets: configfs USB devices on dummy_hcd, one per dummy_hcd instance, with the
# identities of the UPS bridges usbrecover is for. Sourced by /init after lib.sh.

GADGETS=/sys/kernel/config/usb_gadget

# A vendor-defined HID report descriptor with 8-byte input and output reports, the shape of the
# cheap UPS bridges' HID interface (octal escapes: busybox printf).
hid_report_desc() {
  # 06 00 ff  09 01  a1 01  15 00  26 ff 00  75 08  95 08  09 01  81 02  09 01  91 02  c0
  printf '\006\000\377\011\001\241\001\025\000\046\377\000\165\010\225\010\011\001\201\002\011\001\221\002\300'
}

# make_gadget NAME UDC VID PID MANUFACTURER PRODUCT SERIAL FUNCTION (hid or acm; SERIAL - = none)
make_gadget() {
  _g=$GADGETS/$1
  mkdir "$_g" || return 1
  echo "0x$3" >"$_g/idVendor"
  echo "0x$4" >"$_g/idProduct"
  echo 0x0200 >"$_g/bcdUSB"
  echo 0x0100 >"$_g/bcdDevice"
  mkdir "$_g/strings/0x409"
  echo "$5" >"$_g/strings/0x409/manufacturer"
  echo "$6" >"$_g/strings/0x409/product"
  [ "$7" != - ] && echo "$7" >"$_g/strings/0x409/serialnumber"
  mkdir -p "$_g/configs/c.1/strings/0x409"
  echo "$8" >"$_g/configs/c.1/strings/0x409/configuration"
  echo 100 >"$_g/configs/c.1/MaxPower"
  case $8 in
    hid)
      mkdir "$_g/functions/hid.0"
      echo 0 >"$_g/functions/hid.0/protocol"
      echo 0 >"$_g/functions/hid.0/subclass"
      echo 8 >"$_g/functions/hid.0/report_length"
      hid_report_desc >"$_g/functions/hid.0/report_desc"
      ln -s "$_g/functions/hid.0" "$_g/configs/c.1/"
      ;;
    acm)
      mkdir "$_g/functions/acm.0"
      ln -s "$_g/functions/acm.0" "$_g/configs/c.1/"
      ;;
    *) echo "make_gadget: unknown function '$8'"; return 1 ;;
  esac
  echo "$2" >"$_g/UDC"
}

setup_gadgets() {
  make_gadget inno dummy_udc.0 0665 5161 "INNO TECH" "USB to Serial" - hid &&
    make_gadget phoenixtec dummy_udc.1 06da 0003 "Phoenixtec" "USB UPS" - hid &&
    make_gadget twin-a dummy_udc.2 1d6b 0104 "usbrecover" "twin" twin-a acm &&
    make_gadget twin-b dummy_udc.3 1d6b 0104 "usbrecover" "twin" twin-b acm
}
