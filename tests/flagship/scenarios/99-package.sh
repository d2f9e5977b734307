# Scenario 99, the package's life on a running NUT system: usbrecover was installed from its .deb
# when the system was built; upgrade it to a rebuilt package (the same files under a higher
# version), remove it, purge it, and install it again. After every step NUT's driver restarts and
# upsd answers, and the units are what the package says: usbrecover-watch enabled and running,
# usbrecover-repair enabled, nothing of the package's left after a purge but what an
# administrator made (the local table and the files generated from it into /etc).

DEBS=$SIM/debs
installed_version() { dpkg-query -W -f='${Status} ${Version}' usbrecover 2>/dev/null; }
apt_do() { DEBIAN_FRONTEND=noninteractive apt-get "$@" -y -q -o Dpkg::Use-Pty=0 >/tmp/99-apt.log 2>&1 ||
  fail "apt-get $*: $(tail -5 /tmp/99-apt.log)"; }
# NUT's driver restarts (its drop-in's ExecStartPre runs usbrecover, or fails harmlessly when it is
# gone) and upsd answers for the UPS.
nut_works() {
  systemctl restart "$driver_unit" || fail "$1: $driver_unit does not restart: $(systemctl status --no-pager "$driver_unit" | tail -5)"
  wait_until 60 upsc_ok || fail "$1: upsc does not answer: $(upsc_status)"
  systemctl is-active --quiet "$driver_unit" || fail "$1: $driver_unit is not active"
  ok "$1: $driver_unit restarted, upsc says $(upsc_status)"
}
t0=$(uptime_s)

expect_eq "installed" "install ok installed $deb_version" "$(installed_version)"
expect_eq "usbrecover-watch.service" "enabled active" \
  "$(systemctl is-enabled usbrecover-watch.service) $(systemctl is-active usbrecover-watch.service)"
expect_eq "usbrecover-repair.service" enabled "$(systemctl is-enabled usbrecover-repair.service)"
[ -f /lib/udev/rules.d/70-usbrecover.rules ] || fail "the package's rules are not in /lib/udev/rules.d"
# The catalog came through systemd's dpkg trigger: journalctl knows the decision's text.
journalctl --list-catalog "$MID_DECISION" 2>/dev/null | grep -q "$MID_DECISION" ||
  fail "the journal catalog has no entry for usbrecover's decision"
ok "the journal catalog has usbrecover's entries"
nut_works "installed"

# Upgrade.
watch_pid=$(systemctl show -p MainPID --value usbrecover-watch.service)
apt_do install "$DEBS/usbrecover_${deb_upgrade_version}.deb"
expect_eq "after the upgrade" "install ok installed $deb_upgrade_version" "$(installed_version)"
systemctl is-active --quiet usbrecover-watch.service || fail "the watcher does not run after the upgrade"
[ "$(systemctl show -p MainPID --value usbrecover-watch.service)" != "$watch_pid" ] ||
  fail "the upgrade did not restart the watcher"
ok "the upgrade restarted the watcher"
nut_works "upgraded"

# Remove: the program, the packaged rules and units go; the administrator's files stay.
apt_do remove usbrecover
expect_eq "after remove" "deinstall ok config-files $deb_upgrade_version" "$(installed_version)"
[ ! -e "$usbrecover" ] || fail "$usbrecover is still there"
[ ! -e /lib/udev/rules.d/70-usbrecover.rules ] || fail "the packaged rules are still there"
[ ! -e /lib/systemd/system/usbrecover-watch.service ] || fail "the packaged units are still there"
systemctl is-active --quiet usbrecover-watch.service && fail "the watcher still runs after remove"
[ -f "$local_tables/50-flagship-ups.toml" ] || fail "remove took the administrator's table"
[ -f /etc/systemd/system/nut-driver@.service.d/10-usbrecover.conf ] || fail "remove took the drop-in generated into /etc"
ok "remove left the administrator's table and the files generated into /etc"
nut_works "removed (the drop-in in /etc runs a helper that is gone)"
# The units generated into /etc do nothing without the helper (ConditionFileIsExecutable=).
systemctl start usbrecover-watch.service || true
expect_eq "usbrecover-watch.service without the helper" "inactive" "$(systemctl is-active usbrecover-watch.service)"
systemctl show -p ConditionResult --value usbrecover-watch.service | grep -qx no ||
  fail "the watcher's condition did not stop it"
ok "usbrecover-watch.service in /etc is skipped by its condition"

# Purge: the state directory and the enablement go (both there before it, or the checks below
# would prove nothing).
[ -d /run/usbrecover ] || fail "no /run/usbrecover before the purge"
[ -n "$(find /etc/systemd/system -path '*.wants/usbrecover*' 2>/dev/null)" ] ||
  fail "no unit links before the purge"
apt_do purge usbrecover
expect_eq "after purge" "" "$(installed_version | grep -v '^unknown ok not-installed' || true)"
[ ! -e /run/usbrecover ] || fail "purge left /run/usbrecover"
leftover=$(find /etc/systemd/system -path '*.wants/usbrecover*' 2>/dev/null)
[ -z "$leftover" ] || fail "purge left unit links: $leftover"
[ -f "$local_tables/50-flagship-ups.toml" ] || fail "purge took the administrator's table"
ok "purge removed /run/usbrecover and the unit links, kept the administrator's table"
nut_works "purged"

# Install again, as it was: the rest of the runner's machine has usbrecover.
apt_do install "$DEBS/usbrecover_${deb_version}.deb"
expect_eq "installed again" "install ok installed $deb_version" "$(installed_version)"
wait_until 30 systemctl is-active --quiet usbrecover-watch.service || fail "the watcher does not run after the new install"
nut_works "installed again"
figure "install, upgrade to $deb_upgrade_version, remove, purge and install again with NUT answering after each:" \
  "$(elapsed "$t0") s"
