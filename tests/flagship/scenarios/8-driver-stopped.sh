# Scenario 8, the driver hangs, not the UPS: NUT's driver process is stopped (SIGSTOP: alive,
# its socket open, answering nothing). upsd serves stale data; systemd sees a running unit. The
# watcher's PING goes unanswered for --ping-timeout (10 s); it hands the driver over as hung; the
# restart (systemd sends SIGCONT with SIGTERM) brings a new driver process, and upsc answers.

systemctl is-active --quiet "$watcher_unit" || fail "$watcher_unit is not running"
wait_until 60 upsc_ok || fail "NUT does not answer before the fault: $(upsc_status)"
mark=$(uptime_s)
pid0=$(driver_pid)
t_fault=$(uptime_s)
systemctl kill --signal=SIGSTOP "$driver_unit"
ok "stopped $driver_unit (main PID $pid0)"
handed() { [ -n "$(handovers "$mark")" ]; }
# The watcher asks PING every 30 s and waits 10 s for PONG.
wait_until 90 handed || fail "the watcher never handed the silent driver over"
t_handover=$(uptime_s)
handovers "$mark" | grep -q 'no answer to PING' || fail "the handover does not say the driver hangs: '$(handovers "$mark")'"
ok "handover: $(handovers "$mark")"
# The restart is queued (--no-block) and upsd may still serve the last data for a while: wait for
# the new driver process first, then for upsc.
restarted() { pid1=$(driver_pid); [ "$pid1" != 0 ] && [ "$pid1" != "$pid0" ]; }
wait_until 60 restarted || fail "the driver was not restarted (main PID $pid0, now $(driver_pid))"
wait_until 120 upsc_ok || fail "upsc does not answer after the restart: $(upsc_status)"
t_back=$(uptime_s)
pid1=$(driver_pid)
ok "a new driver process ($pid1) serves the UPS"
expect_eq "handovers for one hang" 1 "$(handovers "$mark" | grep -c .)"
journal_since "$mark" USBRECOVER_TRIGGER=service-stop | grep -q "stopped for usbrecover watch's restart (no answer to PING" ||
  fail "ExecStopPost did not keep the watcher's verdict"
figure "driver stopped to the watcher's handover: $(elapsed "$t_fault" "$t_handover") s (PING every 30 s," \
  "10 s for PONG); to upsc answering: $(elapsed "$t_fault" "$t_back") s"
