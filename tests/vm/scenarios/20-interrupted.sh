# Interrupted runs: SIGKILL the helper while the port is off (port-power) and while the device
# is deauthorized (authorize); the state is left off; `usbrecover repair` restores it and the
# device comes back.
. /usr/lib/vm/lib.sh
need_helper

# Start clean: what an earlier scenario left behind is that scenario's failure, not this one's.
ur repair
if [ "$UR_RC" != 0 ]; then
  echo "note: an earlier run left intents that repair cannot restore; clearing /run/usbrecover"
  rm -rf /run/usbrecover/*
fi

# interrupt NAME METHOD FILE VALUE: SIGKILL the helper right after its write of VALUE to FILE
# returns (vmtool traces its write(2) calls; no polling window to miss).
interrupt() {
  dev=$(dev_of "$1")
  out=$(vmtool kill-when "$3" "$4" --timeout 15000 -- "$USBRECOVER" reset "$dev" --method "$2")
  case $out in
    killed=1*on=value*) ok "helper killed during $2 on $1 ($out)" ;;
    *) fail "could not catch the helper with $3 = $4 ($out)" ;;
  esac
  expect_eq "left off after SIGKILL: $3" "$4" "$(cat "$3" 2>/dev/null || echo absent)"
}

# port-power on kbd-pp: the port's disable attribute reads 1 while it is off.
port=$(port_dir "$(dev_of kbd-pp)")
interrupt kbd-pp port-power "$port/disable" 1
ur repair
expect_rc "repair after port-power" 0
expect_eq "port enabled by repair" 0 "$(cat "$port/disable")"
out=$(wait_back 1-1.1 "" 10000) || fail "kbd-pp not back after repair: $out"
expect_eq "kbd-pp back" 1-1.1 "$(dev_of kbd-pp)"

# authorize on the INNO gadget: authorized reads 0 in between.
dev=$(dev_of inno)
interrupt inno authorize "$SYS/$dev/authorized" 0
ur repair
expect_rc "repair after authorize" 0
expect_eq "authorized by repair" 1 "$(attr "$dev" authorized)"
out=$(wait_back "$dev" "" 10000) || fail "inno not back after repair: $out"
ok "inno back with drivers: $(drivers "$dev" | tr '\n' ' ')"

# Nothing left to repair: a second run succeeds and changes nothing.
old=$(devnum "$dev")
ur repair
expect_rc "second repair" 0
expect_eq "inno untouched by the second repair" "$old" "$(devnum "$dev")"
