// SPDX-License-Identifier: MIT
// usbrecover-gen end to end: golden outputs, exit codes, and "nothing on disk changes".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "render.hpp"
#include "run.hpp"

namespace usbrecover::gen {
namespace {

namespace fs = std::filesystem;

const Defaults kDefaults{"/nonexistent/devices.toml", "/nonexistent/devices.d", "/usr/sbin/usbrecover",
                         "/run/usbrecover"};

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome gen(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = run(args, kDefaults, out, err);
  return {code, out.str(), err.str()};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// Every regular file below `root` with its content, by relative path.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> files;
  if (!fs::exists(root)) return files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = slurp(e.path());
  }
  return files;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "usbrecover-gen-test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Runs in a directory for the scope, so tables are named relative to it in the output.
class InDirectory {
 public:
  explicit InDirectory(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~InDirectory() { fs::current_path(old_); }

 private:
  fs::path old_;
};

constexpr const char* kTable =
    "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\nservices = [\"nut-driver@.service\"]\n";

// Golden cases: tests/gen/golden/CASE/*.toml (read in name order) -> CASE/expected/.
// USBRECOVER_UPDATE_GOLDEN=1 rewrites the expected files instead of comparing.
class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, OutputMatchesByteForByte) {
  fs::path dir = fs::path(GOLDEN_DIR) / GetParam();
  std::vector<std::string> args;
  std::vector<std::string> tables;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".toml") tables.push_back(e.path().filename().string());
  std::sort(tables.begin(), tables.end());
  for (const auto& t : tables) args.insert(args.end(), {"--table", t});
  TempDir out;
  args.insert(args.end(), {"--output-dir", out.path().string(), "--quiet"});
  Outcome o;
  {
    InDirectory in(dir);
    o = gen(args);
  }
  ASSERT_EQ(o.code, 0) << o.err;
  auto actual = tree(out.path());
  if (std::getenv("USBRECOVER_UPDATE_GOLDEN")) {
    fs::remove_all(dir / "expected");
    for (const auto& [name, text] : actual) spit(dir / "expected" / name, text);
    GTEST_SKIP() << "rewrote " << (dir / "expected");
  }
  auto expected = tree(dir / "expected");
  ASSERT_FALSE(expected.empty());
  std::vector<std::string> actual_names, expected_names;
  for (const auto& [name, text] : actual) actual_names.push_back(name);
  for (const auto& [name, text] : expected) expected_names.push_back(name);
  ASSERT_EQ(actual_names, expected_names);
  for (const auto& [name, text] : expected) EXPECT_EQ(actual[name], text) << name;
}

INSTANTIATE_TEST_SUITE_P(Gen, Golden, ::testing::Values("shipped", "full"));

TEST(Run, TwoRunsGiveIdenticalBytesAndTheSecondTouchesNothing) {
  TempDir d;
  spit(d.path() / "t.toml", kTable);
  auto out = (d.path() / "out").string();
  ASSERT_EQ(gen({"--table", (d.path() / "t.toml").string(), "--output-dir", out}).code, 0);
  auto first = tree(out);
  auto mtime = fs::last_write_time(d.path() / "out/rules/70-usbrecover.rules");
  Outcome again = gen({"--table", (d.path() / "t.toml").string(), "--output-dir", out});
  ASSERT_EQ(again.code, 0);
  EXPECT_EQ(tree(out), first);
  EXPECT_EQ(fs::last_write_time(d.path() / "out/rules/70-usbrecover.rules"), mtime);
  EXPECT_THAT(again.out, ::testing::HasSubstr("  unchanged " + out + "/rules/70-usbrecover.rules\n"));
  EXPECT_THAT(again.out, ::testing::Not(::testing::HasSubstr("created")));
}

TEST(Run, ABrokenTableChangesNothingOnDisk) {
  TempDir d;
  spit(d.path() / "good.toml", kTable);
  auto out = (d.path() / "out").string();
  ASSERT_EQ(gen({"--table", (d.path() / "good.toml").string(), "--output-dir", out}).code, 0);
  auto before = tree(d.path());
  spit(d.path() / "bad.toml",
       "schema = 1\n[[device]]\nname = \"x\"\nids = [\"0665:5161\"]\nmethods = [\"reboot\"]\n");
  before["bad.toml"] = slurp(d.path() / "bad.toml");
  Outcome o = gen({"--table", (d.path() / "good.toml").string(), "--table", (d.path() / "bad.toml").string(),
                   "--output-dir", out});
  EXPECT_EQ(o.code, 65);
  EXPECT_EQ(o.err,
            (d.path() / "bad.toml").string() +
                ":5:12: unknown method 'reboot' (expected one of: device, warm-reset, rebind, authorize, "
                "port-power, hub, controller)\n");
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(tree(d.path()), before);
}

TEST(Run, RefusesAnOversizedTableBeforeParsingIt) {
  TempDir d;
  std::string big = std::string(kTable) + "# " + std::string(4 * 1024 * 1024, 'x') + "\n";
  spit(d.path() / "big.toml", big);
  Outcome o = gen({"--table", (d.path() / "big.toml").string(), "--check"});
  EXPECT_EQ(o.code, 65);
  EXPECT_EQ(o.err, (d.path() / "big.toml").string() + ":1:1: file is " + std::to_string(big.size()) +
                       " bytes, over the 4194304-byte limit for a table\n");
}

TEST(Run, AFailureHalfWayPutsEveryEarlierFileBack) {
  TempDir d;
  spit(d.path() / "t.toml", kTable);
  auto out = d.path() / "out";
  spit(out / "rules/70-usbrecover.rules", "old rules\n");
  // The last file to be replaced is usbrecover@.service; make its target a non-empty
  // directory so the rename fails after the rules and two units were already swapped in.
  spit(out / "units/usbrecover@.service/blocker", "x");
  auto before = tree(d.path());
  Outcome o = gen({"--table", (d.path() / "t.toml").string(), "--output-dir", out.string()});
  EXPECT_EQ(o.code, 73);
  EXPECT_EQ(o.err, "usbrecover-gen: " + (out / "units/usbrecover@.service").string() +
                       ": cannot keep a backup: Operation not permitted (nothing was changed)\n");
  EXPECT_EQ(tree(d.path()), before);
  // No staging or backup files are left behind either.
  for (const auto& e : fs::recursive_directory_iterator(d.path()))
    EXPECT_EQ(e.path().filename().string().find(".usbrecover-"), std::string::npos) << e.path();
  EXPECT_FALSE(fs::exists(out / "units/nut-driver@.service.d"));
}

TEST(Run, RemovesDropInsItMadeForServicesNoLongerInTheTable) {
  TempDir d;
  spit(d.path() / "a.toml",
       "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\nservices = [\"upsmon-x.service\"]\n");
  spit(d.path() / "b.toml", "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\n");
  auto out = d.path() / "out";
  spit(out / "units/other.service.d/10-usbrecover.conf", "# written by hand\n");
  ASSERT_EQ(gen({"--table", (d.path() / "a.toml").string(), "--output-dir", out.string()}).code, 0);
  ASSERT_TRUE(fs::exists(out / "units/upsmon-x.service.d/10-usbrecover.conf"));
  Outcome o = gen({"--table", (d.path() / "b.toml").string(), "--output-dir", out.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_FALSE(fs::exists(out / "units/upsmon-x.service.d/10-usbrecover.conf"));
  EXPECT_THAT(o.out, ::testing::HasSubstr("  removed " +
                                          (out / "units/upsmon-x.service.d/10-usbrecover.conf").string()));
  EXPECT_EQ(slurp(out / "units/other.service.d/10-usbrecover.conf"), "# written by hand\n");
}

// The drop-in was called usbrecover.conf before it sorted ahead of an administrator's: a file of
// that name that an earlier version generated goes, one written by hand stays.
TEST(Run, RemovesTheDropInItGeneratedUnderItsOldName) {
  TempDir d;
  spit(d.path() / "a.toml",
       "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\nservices = "
       "[\"nut-driver@.service\"]\n");
  auto out = d.path() / "out";
  spit(out / "units/nut-driver@.service.d/usbrecover.conf",
       "# generated by usbrecover-gen from x; do not edit\n");
  spit(out / "units/other.service.d/usbrecover.conf", "# written by hand\n");
  Outcome o = gen({"--table", (d.path() / "a.toml").string(), "--output-dir", out.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_FALSE(fs::exists(out / "units/nut-driver@.service.d/usbrecover.conf"));
  EXPECT_TRUE(fs::exists(out / "units/nut-driver@.service.d/10-usbrecover.conf"));
  EXPECT_EQ(slurp(out / "units/other.service.d/usbrecover.conf"), "# written by hand\n");
}

// An administrator's mask (a link to /dev/null) is left as it is and reported; any other link is
// neither followed nor replaced, and then nothing at all is written.
TEST(Run, LeavesAMaskAloneAndRefusesToFollowOtherLinks) {
  TempDir d;
  spit(d.path() / "a.toml",
       "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\nservices = "
       "[\"nut-driver@.service\"]\n");
  auto out = d.path() / "out";
  fs::create_directories(out / "units");
  fs::create_symlink("/dev/null", out / "units/usbrecover-repair.service");
  Outcome o = gen({"--table", (d.path() / "a.toml").string(), "--output-dir", out.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, ::testing::HasSubstr("  masked (a link to /dev/null), left as it is: " +
                                          (out / "units/usbrecover-repair.service").string()));
  EXPECT_EQ(fs::read_symlink(out / "units/usbrecover-repair.service"), "/dev/null");
  EXPECT_TRUE(fs::exists(out / "units/usbrecover@.service"));

  spit(d.path() / "elsewhere", "precious\n");
  fs::remove(out / "units/usbrecover@.service");
  fs::create_symlink(d.path() / "elsewhere", out / "units/usbrecover@.service");
  const std::string rules_before = slurp(out / "rules/70-usbrecover.rules");
  const std::string hwdb_before = slurp(out / "hwdb/70-usbrecover.hwdb");
  ASSERT_THAT(hwdb_before, ::testing::HasSubstr("usb:v0665p5161*"));
  // The new id changes the hwdb, written before the units: it must be put back too.
  spit(d.path() / "a.toml", "schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5162\"]\n");
  o = gen({"--table", (d.path() / "a.toml").string(), "--output-dir", out.string()});
  EXPECT_EQ(o.code, 73);
  EXPECT_EQ(o.err, "usbrecover-gen: " + (out / "units/usbrecover@.service").string() +
                       ": is a symbolic link to '" + (d.path() / "elsewhere").string() +
                       "'; refusing to follow or replace it (nothing was changed)\n");
  EXPECT_EQ(slurp(d.path() / "elsewhere"), "precious\n");
  EXPECT_EQ(slurp(out / "rules/70-usbrecover.rules"), rules_before);
  EXPECT_EQ(slurp(out / "hwdb/70-usbrecover.hwdb"), hwdb_before);
}

TEST(Run, TableDirIsReadInVersionOrderAndOverrides) {
  TempDir d;
  spit(d.path() / "dir/10-a.toml", "schema = 1\n[[device]]\nname = \"ten\"\nids = [\"0665:5161\"]\n");
  spit(d.path() / "dir/9-a.toml", "schema = 1\n[[device]]\nname = \"nine\"\nids = [\"0665:5161\"]\n");
  spit(d.path() / "dir/README", "not a table");
  Outcome o = gen({"--table-dir", (d.path() / "dir").string(), "--output-dir", (d.path() / "out").string()});
  ASSERT_EQ(o.code, 0) << o.err;
  auto hwdb = slurp(d.path() / "out/hwdb/70-usbrecover.hwdb");
  EXPECT_THAT(hwdb, ::testing::HasSubstr("\n USBRECOVER_NAME=ten\n"));
  EXPECT_THAT(hwdb, ::testing::Not(::testing::HasSubstr("nine")));
  auto rules = slurp(d.path() / "out/rules/70-usbrecover.rules");
  EXPECT_THAT(rules, ::testing::StartsWith("# generated by usbrecover-gen from " +
                                           (d.path() / "dir/9-a.toml").string() + ", " +
                                           (d.path() / "dir/10-a.toml").string() + "; do not edit\n"));
}

TEST(Run, TheHwdbGoesIntoTheHwdbDNextToRulesDOrWhereHwdbDirSays) {
  TempDir d;
  spit(d.path() / "t.toml", kTable);
  const std::string table = (d.path() / "t.toml").string();
  const fs::path udev = d.path() / "udev";
  Outcome o = gen({"--table", table, "--rules-dir", (udev / "rules.d/").string(), "--unit-dir",
                   (d.path() / "units").string(), "--quiet"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_TRUE(fs::exists(udev / "hwdb.d/70-usbrecover.hwdb"));
  EXPECT_TRUE(fs::exists(udev / "rules.d/70-usbrecover.rules"));

  const std::string odd = (d.path() / "rules").string();
  o = gen({"--table", table, "--rules-dir", odd, "--unit-dir", (d.path() / "units").string()});
  EXPECT_EQ(o.code, 64);
  EXPECT_EQ(
      o.err,
      "usbrecover-gen: '--rules-dir' '" + odd +
          "' does not end in rules.d; give --hwdb-dir for the hwdb file\n(see usbrecover-gen --help)\n");
  EXPECT_FALSE(fs::exists(odd)) << "a usage error writes nothing";
  o = gen({"--table", table, "--rules-dir", odd, "--hwdb-dir", (d.path() / "hw").string(), "--unit-dir",
           (d.path() / "units").string(), "--quiet"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_TRUE(fs::exists(d.path() / "hw/70-usbrecover.hwdb"));
}

TEST(Run, UsageErrorsNameTheArgument) {
  Outcome o = gen({"--tabel", "x"});
  EXPECT_EQ(o.code, 64);
  EXPECT_EQ(o.err, "usbrecover-gen: unknown argument '--tabel'\n(see usbrecover-gen --help)\n");
  o = gen({"--table"});
  EXPECT_EQ(o.code, 64);
  EXPECT_EQ(o.err, "usbrecover-gen: '--table' needs a file\n(see usbrecover-gen --help)\n");
  o = gen({"--table", "t.toml"});
  EXPECT_EQ(o.code, 64);
  EXPECT_EQ(o.err,
            "usbrecover-gen: nothing to do: give --output-dir DIR, both --rules-dir and --unit-dir, --check "
            "or --apply\n"
            "(see usbrecover-gen --help)\n");
  o = gen({"--check", "--helper", "relative/usbrecover"});
  EXPECT_EQ(o.code, 64);
  o = gen({"--check", "--helper", "/usr/sbin/usb recover"});
  EXPECT_EQ(o.code, 64);
  EXPECT_EQ(o.err,
            "usbrecover-gen: '--helper' needs an absolute path of letters, digits and / . _ + -\n"
            "(see usbrecover-gen --help)\n");
  EXPECT_EQ(gen({"--check", "--helper", "/opt/$x/usbrecover"}).code, 64);
  EXPECT_EQ(gen({"--help"}).code, 0);
}

TEST(Run, AMissingTableIsNoInput) {
  Outcome o = gen({"--table", "/nonexistent/t.toml", "--check"});
  EXPECT_EQ(o.code, 66);
  EXPECT_EQ(o.err, "usbrecover-gen: cannot read '/nonexistent/t.toml': No such file or directory\n");
  // Without --table, the shipped table is required; the local directory may be missing.
  o = gen({"--check"});
  EXPECT_EQ(o.code, 66);
  EXPECT_EQ(o.err, "usbrecover-gen: cannot read '/nonexistent/devices.toml': No such file or directory\n");
}

TEST(Run, RefusesTablePathsThatWouldBreakTheOutput) {
  TempDir d;
  auto path = (d.path() / "a\nRUN+=.toml").string();
  spit(path, kTable);
  Outcome o = gen({"--table", path, "--check"});
  EXPECT_EQ(o.code, 66);
  EXPECT_EQ(o.err, "usbrecover-gen: table path '" + d.path().string() +
                       "/a\\x0aRUN+=.toml' contains a control character (U+000A)\n");
}

TEST(Run, CheckValidatesAndWritesNothing) {
  TempDir d;
  spit(d.path() / "t.toml", kTable);
  Outcome o = gen({"--table", (d.path() / "t.toml").string(), "--check"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "usbrecover-gen: 1 device ids from " + (d.path() / "t.toml").string() + ": no problems\n");
  EXPECT_EQ(tree(d.path()).size(), 1u);
}

// Regression: with the state directory on disk (-Dstatedir=/var/lib/usbrecover), ProtectSystem=
// strict left the units unable to write it. Each unit makes its own state directory writable.
TEST(Render, UnitsMakeTheirStateDirectoryWritable) {
  Table t;
  for (const auto& [dir, lines] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"/run/usbrecover",
            {"RuntimeDirectory=usbrecover", "RuntimeDirectoryPreserve=yes", "RuntimeDirectoryMode=0755"}},
           {"/var/lib/usbrecover", {"StateDirectory=usbrecover", "StateDirectoryMode=0755"}},
           {"/var/lib/usbrecover/state", {"StateDirectory=usbrecover/state", "StateDirectoryMode=0755"}},
           {"/srv/usbrecover", {"ReadWritePaths=/srv/usbrecover"}}}) {
    for (const auto& f : render(t, RenderOptions{"/usr/sbin/usbrecover", dir})) {
      if (f.dir != OutputFile::Dir::Units) continue;
      // The watcher runs as its own user and only reads the state directory: were it to name it,
      // systemd would hand the directory (intents that root replays) to that user.
      if (f.name == "usbrecover-watch.service" || f.name == "usbrecover-handover.socket") {
        for (const char* never : {"RuntimeDirectory", "StateDirectory", "ReadWritePaths=/srv"})
          EXPECT_THAT(f.content, ::testing::Not(::testing::HasSubstr(never))) << f.name << " for " << dir;
        continue;
      }
      for (const auto& line : lines)
        EXPECT_THAT(f.content, ::testing::HasSubstr("\n" + line + "\n")) << f.name << " for " << dir;
      if (!dir.starts_with("/run/")) {
        EXPECT_THAT(f.content, ::testing::Not(::testing::HasSubstr("RuntimeDirectory"))) << f.name;
      }
    }
  }
}

// --apply with stand-ins for udevadm and systemctl that log their arguments (and fail when told
// to), and a fake sysfs with one covered and one uncovered device plugged in.
class Apply : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path root = dir_.path();
    log_ = root / "commands.log";
    for (const char* tool : {"systemd-hwdb", "udevadm", "systemctl"}) {
      const fs::path p = root / "bin" / tool;
      spit(p, std::string("#!/bin/sh\necho \"") + tool + " $*\" >>" + log_.string() + "\n[ ! -e " +
                  (root / "fail-").string() + tool + " ]\n");
      fs::permissions(p, fs::perms::owner_all);
    }
    plug("1-1.2", "0665", "5161");
    plug("1-3", "046d", "c52b");
    defaults_.tools = {(root / "bin/systemd-hwdb").string(), (root / "bin/udevadm").string(),
                       (root / "bin/systemctl").string(), (root / "sys").string()};
    defaults_.apply_rules_dir = (root / "etc/udev/rules.d").string();
    defaults_.apply_unit_dir = (root / "etc/systemd/system").string();
  }
  void plug(const std::string& name, const std::string& vendor, const std::string& product) {
    const fs::path d = dir_.path() / "sys/bus/usb/devices" / name;
    spit(d / "idVendor", vendor + "\n");
    spit(d / "idProduct", product + "\n");
  }
  Outcome apply(const std::string& table_text) {
    spit(dir_.path() / "t.toml", table_text);
    InDirectory here(dir_.path());
    std::ostringstream out, err;
    const int code = run({"--apply", "--table", "t.toml"}, defaults_, out, err);
    return {code, out.str(), err.str()};
  }
  std::string commands() const { return fs::exists(log_) ? slurp(log_) : ""; }
  std::string device(const std::string& name) const {
    return (dir_.path() / "sys/bus/usb/devices" / name).string();
  }

  TempDir dir_;
  fs::path log_;
  Defaults defaults_ = kDefaults;
};

const char* const kTwoEntries = R"(schema = 1
[[device]]
name = "INNO TECH"
ids = ["0665:5161"]
[[device]]
name = "Ippon"
ids = ["06da:0003"]
)";

TEST_F(Apply, WritesIntoEtcReloadsAndTriggersTheDevicesTheTableCovers) {
  const Outcome r = apply(kTwoEntries);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(fs::exists(dir_.path() / "etc/udev/rules.d/70-usbrecover.rules"));
  EXPECT_TRUE(fs::exists(dir_.path() / "etc/udev/hwdb.d/70-usbrecover.hwdb"));
  EXPECT_TRUE(fs::exists(dir_.path() / "etc/systemd/system/usbrecover@.service"));
  EXPECT_EQ(commands(),
            "systemd-hwdb --usr update\nudevadm control --reload\nsystemctl daemon-reload\n"
            "udevadm trigger --action=change --settle " +
                device("1-1.2") + "\n");
  EXPECT_THAT(r.out,
              ::testing::HasSubstr("  created " + defaults_.apply_rules_dir + "/70-usbrecover.rules\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("  device 1-1.2 (0665:5161)\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("  ran " + defaults_.tools.systemctl + " daemon-reload\n"));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("046d:c52b")));
}

TEST_F(Apply, ATableWithErrorsChangesNothingAndRunsNothing) {
  const Outcome r = apply("schema = 1\n[[device]]\nname = \"x\"\nids = [\"0665:5161\"]\nprobe = \"ping\"\n");
  EXPECT_EQ(r.code, kExitData);
  EXPECT_THAT(r.err, ::testing::HasSubstr("t.toml:5:9: unknown probe 'ping'"));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(commands(), "");
  EXPECT_TRUE(tree(dir_.path() / "etc").empty());
}

TEST_F(Apply, SaysWhatChangedAndTriggersADeviceTakenOutOfTheTable) {
  plug("2-1", "06da", "0003");
  ASSERT_EQ(apply(kTwoEntries).code, kExitOk);
  fs::remove(log_);
  // The same tables again: no file changes, the devices are triggered all the same.
  Outcome r = apply(kTwoEntries);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("  no file changed in "));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("unchanged")));
  fs::remove(log_);
  // The Ippon entry taken out: its device still gets the change event that drops its properties.
  r = apply("schema = 1\n[[device]]\nname = \"INNO TECH\"\nids = [\"0665:5161\"]\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("  updated " + (dir_.path() / "etc/udev/hwdb.d").string() +
                                          "/70-usbrecover.hwdb\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("  device 2-1 (06da:0003)\n"));
  EXPECT_THAT(commands(), ::testing::HasSubstr("--settle " + device("1-1.2") + " " + device("2-1") + "\n"));
}

TEST_F(Apply, AFailingSystemctlIsReportedAndTheRestStillRuns) {
  spit(dir_.path() / "fail-systemctl", "");
  const Outcome r = apply(kTwoEntries);
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.err,
            "usbrecover-gen: '" + defaults_.tools.systemctl + " daemon-reload' exited with status 1\n");
  EXPECT_THAT(commands(), ::testing::HasSubstr("udevadm trigger --action=change"));
  EXPECT_TRUE(fs::exists(dir_.path() / "etc/udev/rules.d/70-usbrecover.rules"));
}

TEST_F(Apply, NothingPluggedInIsSaidAndNothingIsTriggered) {
  fs::remove_all(dir_.path() / "sys/bus/usb/devices/1-1.2");
  const Outcome r = apply(kTwoEntries);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("  no device the tables cover is plugged in\n"));
  EXPECT_EQ(commands(), "systemd-hwdb --usr update\nudevadm control --reload\nsystemctl daemon-reload\n");
}

TEST_F(Apply, UsageErrors) {
  std::ostringstream out, err;
  EXPECT_EQ(run({"--apply", "--check"}, defaults_, out, err), kExitUsage);
  EXPECT_THAT(err.str(), ::testing::HasSubstr("'--apply' and '--check' exclude each other"));
  EXPECT_EQ(run({"--apply", "--rules-dir", "/tmp/x"}, defaults_, out, err), kExitUsage);
  EXPECT_THAT(err.str(), ::testing::HasSubstr("'--apply' takes both --rules-dir and --unit-dir, or neither"));
  const fs::path elsewhere = dir_.path() / "elsewhere";
  EXPECT_EQ(run({"--apply", "--output-dir", elsewhere.string()}, defaults_, out, err), kExitUsage);
  EXPECT_THAT(err.str(), ::testing::HasSubstr("'--apply' and '--output-dir' exclude each other"));
  EXPECT_FALSE(fs::exists(elsewhere)) << "a usage error writes nothing";
  EXPECT_EQ(commands(), "");
}

TEST(RuleTargets, ReadsIdsWildcardsAndPortHubs) {
  const std::string rules =
      "# ATTR{idVendor}==\"dead\", ATTR{idProduct}==\"beef\" in a comment\n"
      "KERNEL==\"1-1\", ENV{USBRECOVER_PORT2_SCHEMA}=\"1\"\n"
      "ATTR{idVendor}==\"0665\", ATTR{idProduct}==\"5161\", \\\n"
      "ATTR{idVendor}==\"06da\", \\\n";
  const RuleTargets t = rule_targets(rules);
  EXPECT_EQ(t.ids, (std::vector<std::string>{"0665:5161", "06da:*"}));
  EXPECT_EQ(t.hubs, (std::vector<std::string>{"1-1"}));
}

TEST(RuleTargets, ReadsHwdbKeysInUpperCase) {
  const std::string hwdb =
      "# usb:vDEADpBEEF* in a comment\n"
      "usb:v0665p5161*\n"
      " USBRECOVER_NAME=usb:v1111p2222*\n"
      "usb:v06DAp*\n"
      "usb:v12345p*\n";
  const RuleTargets t = rule_targets(hwdb);
  EXPECT_EQ(t.ids, (std::vector<std::string>{"0665:5161", "06da:*"}));
  EXPECT_TRUE(t.hubs.empty());
}

}  // namespace
}  // namespace usbrecover::gen
