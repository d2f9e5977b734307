// SPDX-License-Identifier: MIT
// `usbrecover watch` end to end under umockdev: the kernel log read from a file, an over-current
// uevent, and NUT drivers watched through a fake driver socket and a fake upsd (NUT 2.8.0's
// protocol). The live watcher runs as a child process (it blocks signals for its signalfd), with
// --dry-run where it would act, and for a bounded --duration.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "commands/commands.hpp"
#include "commands/entry.hpp"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "fake_udevd.hpp"
#include "testbed.hpp"

extern char** environ;

namespace usbrecover {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HubSpec;
using testing::Testbed;
using namespace std::chrono_literals;

std::vector<std::pair<std::string, std::string>> ups_props() {
  return {{"USBRECOVER_SCHEMA", "1"},           {"USBRECOVER_NAME", "INNO TECH UPS"},
          {"USBRECOVER_SOURCE", "t.toml:3"},    {"USBRECOVER_METHODS", "device,port-power"},
          {"USBRECOVER_MAX_RESETS", "3"},       {"USBRECOVER_WINDOW_MS", "3600000"},
          {"USBRECOVER_COOLDOWN_MS", "0"},      {"USBRECOVER_PROBE", "none"},
          {"USBRECOVER_ALLOW_COLLATERAL", "0"}, {"USBRECOVER_SERVICES", "nut-driver@.service"},
          {"USBRECOVER_STALE_AFTER_MS", "400"}};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// controller / usb1 / hub 1-1 (per-port, a port entry for its port 2) / UPS 1-1.1; ups.conf
/// with the UPS as [myups]; a state dir; NUT's state path.
struct Bed {
  Bed() {
    bed = std::make_unique<Testbed>();
    auto pci = bed->add_pci_controller("0000:00:14.0", "xhci_hcd");
    usb1 = bed->add_root_hub(pci, 1, HubSpec{4, PowerSwitching::PerPort, 20, false, true});
    hub = bed->add_hub(usb1, 1,
                       {0x05e3,
                        0x0608,
                        "Genesys",
                        "Hub",
                        "",
                        "480",
                        "2.00",
                        9,
                        {},
                        {{"USBRECOVER_PORT2_SCHEMA", "1"},
                         {"USBRECOVER_PORT2_NAME", "bridge on the rack port"},
                         {"USBRECOVER_PORT2_SOURCE", "t.toml:9"},
                         {"USBRECOVER_PORT2_METHODS", "port-power"},
                         {"USBRECOVER_PORT2_MAX_RESETS", "3"},
                         {"USBRECOVER_PORT2_WINDOW_MS", "3600000"},
                         {"USBRECOVER_PORT2_COOLDOWN_MS", "0"},
                         {"USBRECOVER_PORT2_PROBE", "none"},
                         {"USBRECOVER_PORT2_ALLOW_COLLATERAL", "0"},
                         {"USBRECOVER_PORT2_IDS", "0665:5161"},
                         {"USBRECOVER_PORT2_OFF_TIME_MS", "100"}}},
                       HubSpec{4, PowerSwitching::PerPort, 100, false, true});
    ups = bed->add_device(hub, 1, testing::inno_tech_ups(ups_props()));
    mountinfo = bed->write_mountinfo("");
    char tmpl[] = "/tmp/usbrecover-watch.XXXXXX";
    dir = ::mkdtemp(tmpl);
    state = dir + "/state";
    statepath = dir + "/nut";
    fs::create_directories(statepath);
    conf = dir + "/ups.conf";
    std::ofstream(conf)
        << "[myups]\n  driver = nutdrv_qx\n  port = auto\n  vendorid = 0665\n  productid = 5161\n";
    udevd = std::make_unique<testing::FakeUdevd>(dir + "/udev-control");
  }
  ~Bed() { fs::remove_all(dir); }

  int run(int (*cmd)(const Args&, Context&), const Args& args) {
    out.str({});
    err.str({});
    Context ctx{out, err, "/sys", "/dev", state, mountinfo, udevd->path(), "/dev/null", "/proc", systemctl};
    return cmd(args, ctx);
  }

  /// Starts `usbrecover ARGS` as a child, its stdout and stderr into files.
  pid_t spawn(const std::vector<std::string>& args) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.push_back("USBRECOVER_STATE_DIR=" + state);
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> all = {USBRECOVER_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, (dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, USBRECOVER_BIN, &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }
  int wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  /// Waits until the child's stdout holds `what`.
  bool wait_output(const std::string& what, std::chrono::milliseconds within = 5s) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (slurp(dir + "/out").find(what) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::string child_out() const { return slurp(dir + "/out"); }
  std::string child_err() const { return slurp(dir + "/err"); }

  std::unique_ptr<Testbed> bed;
  std::string usb1, hub, ups, mountinfo, dir, state, statepath, conf;
  std::string systemctl;  ///< Context::systemctl: empty for the real one
  std::unique_ptr<testing::FakeUdevd> udevd;
  std::ostringstream out, err;
};

// Regression basis for the kernel log's side: each recognised record becomes one JSON line with
// the entry that covers its port; records a process wrote, garbage and other messages are not.
TEST(WatchKmsg, AFileOfRecordsPrintsWhatIsRecognisedAndTheEntryThatCoversIt) {
  Bed b;
  const std::string file = b.dir + "/kmsg";
  std::ofstream(file)
      << "3,101,5000,-;usb 1-1.2: device descriptor read/64, error -71\n"
      << " SUBSYSTEM=usb\n DEVICE=+usb:1-1.2\n"
      << "3,102,5100,-;usb 1-1-port2: unable to enumerate USB device\n"
      << "11,103,5200,-;usb 1-1-port2: unable to enumerate USB device\n"  // a process wrote it
      << "not a record\n"
      << "4,104,5300,-;usb usb1-port3: over-current condition\n"
      << "3,105,5400,-;xhci_hcd 0000:00:14.0: HC died; cleaning up\n"
      << "6,106,5500,-;usb 1-1.1: new full-speed USB device number 4 using xhci_hcd\n";
  ASSERT_EQ(b.run(cmd_watch, {"--dry-run", "--kmsg", file}), kExitOk) << b.err.str();
  const std::string entry =
      "\"entry\":{\"name\":\"bridge on the rack port\",\"source\":\"t.toml:9\",\"port\":\"1-1.2\"}";
  EXPECT_EQ(b.out.str(),
            "{\"event\":\"enumeration-failed\",\"port\":\"1-1.2\",\"gave_up\":false,\"message\":\"usb 1-1.2: "
            "device "
            "descriptor read/64, error -71\"," +
                entry +
                "}\n"
                "{\"event\":\"enumeration-failed\",\"port\":\"1-1.2\",\"gave_up\":true,\"message\":\"usb "
                "1-1-port2: "
                "unable to enumerate USB device\"," +
                entry +
                "}\n"
                "{\"event\":\"over-current\",\"port\":\"1-3\",\"message\":\"usb usb1-port3: over-current "
                "condition\",\"entry\":null}\n"
                "{\"event\":\"controller-died\",\"controller\":\"0000:00:14.0\",\"message\":\"xhci_hcd "
                "0000:00:14.0: "
                "HC died; cleaning up\",\"entry\":null}\n");
  EXPECT_EQ(b.err.str(),
            "usbrecover: watch: 1 line(s) of '" + file + "' are not kernel log records; skipped\n");
  EXPECT_EQ(b.run(cmd_watch, {"--kmsg", file}), kExitUsage);
  EXPECT_EQ(b.run(cmd_watch, {"--dry-run", "--kmsg", b.dir + "/missing"}), kExitData);
}

/// The hub's interface sends the kernel's over-current uevent for its port 1 (the UPS's).
void over_current(Bed& b, unsigned count) {
  const std::string intf = Testbed::interface_path(b.hub, 0);
  umockdev_testbed_set_property(b.bed->native(), intf.c_str(), "OVER_CURRENT_PORT",
                                (intf.substr(4) + "/1-1-port1").c_str());
  umockdev_testbed_set_property(b.bed->native(), intf.c_str(), "OVER_CURRENT_COUNT",
                                std::to_string(count).c_str());
  umockdev_testbed_uevent(b.bed->native(), intf.c_str(), "change");
}

TEST(WatchOverCurrent, TheUeventIsRecordedLoggedOnceAndPortPowerNoLongerPlanned) {
  Bed b;
  pid_t pid = b.spawn({"watch", "--duration", "3s", "--ups-conf", b.conf, "--statepath", b.statepath,
                       "--kmsg-device", b.dir + "/no-kmsg"});
  std::this_thread::sleep_for(800ms);  // listening
  over_current(b, 2);
  std::this_thread::sleep_for(300ms);
  over_current(b, 3);
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  const std::string err = b.child_err();
  // What it watches is in the journal once, with why the rest is not.
  EXPECT_THAT(err, HasSubstr("usbrecover: watch: watching 1 NUT driver(s): myups\n"));
  EXPECT_THAT(err, HasSubstr("usbrecover: watch: following USB uevents\n"));
  EXPECT_EQ(err.find("watch: watching"), err.rfind("watch: watching")) << err;
  const std::string line = "usbrecover: USB port 1-1.1 reported an over-current (count 2)";
  EXPECT_THAT(err, HasSubstr(line + "; usbrecover will not power it on again for 1h"));
  EXPECT_EQ(err.find("reported an over-current"), err.rfind("reported an over-current"))
      << "logged once a window: " << err;
  auto h = StateStore(b.state).load(port_key("1-1.1"));
  ASSERT_TRUE(h.ok()) << h.error().message();
  ASSERT_EQ(h->overcurrents.size(), 2u);
  EXPECT_EQ(h->overcurrents[0].count, 2u);
  // The planner powers no port on into it.
  ASSERT_EQ(b.run(cmd_explain, {"0665:5161"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("skip port-power: port 1-1.1 reported an over-current"));
  EXPECT_THAT(b.out.str(), HasSubstr("try  device: disturbs no other device"));
}

TEST(WatchOverCurrent, ADryRunPrintsTheEventAndRecordsNothing) {
  Bed b;
  pid_t pid = b.spawn({"watch", "--dry-run", "--duration", "2s", "--ups-conf", b.conf, "--statepath",
                       b.statepath, "--kmsg-device", b.dir + "/no-kmsg"});
  std::this_thread::sleep_for(800ms);
  over_current(b, 1);
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  EXPECT_THAT(b.child_out(), HasSubstr("{\"event\":\"over-current\",\"port\":\"1-1.1\",\"count\":1,"
                                       "\"source\":\"uevent\",\"entry\":null}"));
  EXPECT_FALSE(fs::exists(b.state + "/history"));
}

/// A NUT driver's socket, speaking NUT 2.8.0's driver protocol: DUMPALL is answered with the
/// staleness flag and DUMPDONE, PING with PONG unless `answers` is false; `send` pushes a line to
/// the connected client (DATASTALE, DATAOK).
class FakeDriver {
 public:
  FakeDriver(const std::string& path, bool answers) : path_(path), answers_(answers) {
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 4), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDriver() {
    stop_ = true;
    thread_.join();
    if (client_ >= 0) ::close(client_);
    ::close(listen_);
    ::unlink(path_.c_str());
  }
  void send(const std::string& line) { pending_ += line; }
  bool connected() const { return client_ >= 0; }
  std::string received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void serve() {
    while (!stop_) {
      if (client_ < 0) {
        pollfd p{listen_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) client_ = ::accept(listen_, nullptr, nullptr);
        continue;
      }
      if (!pending_.empty()) {
        std::string out = pending_.exchange_out();
        (void)::send(client_, out.data(), out.size(), MSG_NOSIGNAL);
      }
      pollfd p{client_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[256];
      const ssize_t n = ::recv(client_, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(client_);
        client_ = -1;
        continue;
      }
      std::lock_guard lock(mu_);
      received_.append(buf, static_cast<std::size_t>(n));
      std::string reply;
      for (auto pos = received_.find('\n', scanned_); pos != std::string::npos;
           pos = received_.find('\n', scanned_)) {
        const std::string cmd = received_.substr(scanned_, pos - scanned_);
        scanned_ = pos + 1;
        if (!answers_) continue;
        if (cmd == "DUMPALL") reply += "SETINFO ups.status \"OL\"\nDATAOK\nDUMPDONE\n";
        if (cmd == "PING") reply += "PONG\n";
      }
      if (!reply.empty()) (void)::send(client_, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }

  // Lines queued by the test, sent by the serving thread.
  struct Pending {
    std::mutex mu;
    std::string text;
    void operator+=(const std::string& s) {
      std::lock_guard lock(mu);
      text += s;
    }
    bool empty() {
      std::lock_guard lock(mu);
      return text.empty();
    }
    std::string exchange_out() {
      std::lock_guard lock(mu);
      return std::exchange(text, {});
    }
  };

  std::string path_;
  bool answers_;
  int listen_ = -1;
  std::atomic<int> client_{-1};
  std::atomic<bool> stop_{false};
  Pending pending_;
  mutable std::mutex mu_;
  std::string received_;
  std::size_t scanned_ = 0;
  std::thread thread_;
};

std::vector<std::string> watch_args(const Bed& b, const std::string& duration) {
  return {"watch",        "--dry-run", "--duration",    duration,           "--ups-conf",     b.conf,
          "--statepath",  b.statepath, "--kmsg-device", b.dir + "/no-kmsg", "--ping-timeout", "500ms",
          "--ping-every", "300ms",     "--upsd",        "127.0.0.1:1"};
}

TEST(WatchNut, AStaleDriverIsHandedOverAfterStaleAfterAndOnlyOnce) {
  Bed b;
  FakeDriver driver(b.statepath + "/nutdrv_qx-myups", true);
  pid_t pid = b.spawn(watch_args(b, "3s"));
  ASSERT_TRUE(b.wait_output("\"state\":\"healthy\"")) << b.child_out() << b.child_err();
  driver.send("DATASTALE\n");
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  const std::string out = b.child_out();
  EXPECT_THAT(out, HasSubstr("{\"nut\":\"myups\",\"unit\":\"nut-driver@myups.service\",\"device\":\"1-1.1\","
                             "\"watched\":\"socket " +
                             b.statepath + "/nutdrv_qx-myups\",\"state\":\"healthy\",\"stale_for_ms\":0}"));
  EXPECT_THAT(out, HasSubstr("\"state\":\"stale\""));
  EXPECT_THAT(out, HasSubstr("\"action\":\"would run: usbrecover handle --trigger service-stale --unit "
                             "nut-driver@myups.service --nut-instance myups --ups-conf " +
                             b.conf + " --reason 'data stale for "));
  EXPECT_THAT(out, HasSubstr("(stale_after 400ms)'\""));
  EXPECT_EQ(out.find("would run"), out.rfind("would run")) << "one handover per episode: " << out;
  // Read-only: the watcher sent DUMPALL and PING, nothing else.
  for (std::string_view line : {std::string_view("DUMPALL"), std::string_view("PING")})
    EXPECT_THAT(driver.received(), HasSubstr(std::string(line) + "\n"));
  std::string rest = driver.received();
  for (auto pos = rest.find("DUMPALL\n"); pos != std::string::npos; pos = rest.find("DUMPALL\n"))
    rest.erase(pos, 8);
  for (auto pos = rest.find("PING\n"); pos != std::string::npos; pos = rest.find("PING\n"))
    rest.erase(pos, 5);
  EXPECT_EQ(rest, "");
}

TEST(WatchNut, ADriverThatDoesNotAnswerPingIsHung) {
  Bed b;
  FakeDriver driver(b.statepath + "/nutdrv_qx-myups", false);  // alive, not answering (SIGSTOP)
  pid_t pid = b.spawn(watch_args(b, "2s"));
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  const std::string out = b.child_out();
  EXPECT_THAT(out, HasSubstr("\"state\":\"hung\""));
  EXPECT_THAT(out, HasSubstr("--reason 'no answer to PING for "));
}

/// upsd on a free port of 127.0.0.1, answering every request with `answer`.
class FakeUpsd {
 public:
  explicit FakeUpsd(std::string answer) : answer_(std::move(answer)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(listen_, 4), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpsd() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void serve() {
    int client = -1;
    while (!stop_) {
      if (client < 0) {
        pollfd p{listen_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) client = ::accept(listen_, nullptr, nullptr);
        continue;
      }
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[256];
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(client);
        client = -1;
        continue;
      }
      std::lock_guard lock(mu_);
      received_.append(buf, static_cast<std::size_t>(n));
      const std::string reply = answer_ + "\n";
      (void)::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    if (client >= 0) ::close(client);
  }

  std::string answer_;
  int listen_ = -1;
  unsigned port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string received_;
  std::thread thread_;
};

TEST(WatchNut, WithoutTheDriversSocketUpsdSaysTheDataIsStale) {
  Bed b;
  FakeUpsd upsd("ERR DATA-STALE");
  auto args = watch_args(b, "2s");
  args.back() = upsd.address();
  pid_t pid = b.spawn(args);
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  const std::string out = b.child_out();
  EXPECT_THAT(out, HasSubstr("\"watched\":\"upsd " + upsd.address() + "\",\"state\":\"stale\""));
  EXPECT_THAT(out, HasSubstr("--trigger service-stale"));
  EXPECT_THAT(upsd.received(), HasSubstr("GET VAR myups ups.status\n"));
}

TEST(WatchNut, NeitherSocketNorUpsdLeavesTheDriverUnwatchedAndSaysSo) {
  Bed b;
  pid_t pid = b.spawn(watch_args(b, "1s"));
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  EXPECT_THAT(b.child_out(),
              HasSubstr("\"nut\":\"myups\",\"unit\":\"nut-driver@myups.service\",\"device\":\"1-1.1\","
                        "\"watched\":null,\"state\":\"unknown\""));
  EXPECT_THAT(b.child_out(), ::testing::Not(HasSubstr("would run")));
}

TEST(WatchNut, AStaleUpsWhoseBudgetIsSpentIsNotRestartedAgain) {
  Bed b;
  History h;
  const EpochMs now = epoch_now();
  for (int i = 0; i < 3; ++i)
    h.attempts.push_back({now - 60'000 + i * 1000, Method::Device, true, "verified"});
  ASSERT_TRUE(StateStore(b.state).save(port_key("1-1.1"), h).ok());
  FakeDriver driver(b.statepath + "/nutdrv_qx-myups", true);
  pid_t pid = b.spawn(watch_args(b, "3s"));
  ASSERT_TRUE(b.wait_output("\"state\":\"healthy\"")) << b.child_out() << b.child_err();
  driver.send("DATASTALE\n");
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  const std::string out = b.child_out();
  EXPECT_THAT(
      out,
      HasSubstr("\"action\":\"none: refuse: 3 recoveries in the last 1h (max_resets = 3); next allowed in"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("would run")));
  EXPECT_EQ(out.find("\"action\""), out.rfind("\"action\"")) << "one refusal, no loop: " << out;
}

TEST(WatchNut, SectionsThatAreNotWatchedSayWhy) {
  Bed b;
  std::ofstream(b.conf, std::ios::app)
      << "[snmp]\n  driver = snmp-ups\n  port = 10.0.0.5\n"
      << "[absent]\n  driver = usbhid-ups\n  port = auto\n  vendorid = 051d\n";
  pid_t pid = b.spawn(watch_args(b, "500ms"));
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  EXPECT_THAT(b.child_out(),
              HasSubstr("{\"nut\":\"snmp\",\"watched\":null,\"why\":\"driver snmp-ups does not talk USB\"}"));
  EXPECT_THAT(
      b.child_out(),
      HasSubstr(
          "{\"nut\":\"absent\",\"watched\":null,\"why\":\"no USB device matches NUT instance [absent]\"}"));
}

// ---------------------------------------------------------------------------------------------
// The handovers: what `watch` starts. `handle --trigger service-stale` records the verdict and
// restarts the unit through systemctl (a stand-in script here that logs its arguments);
// `handle --trigger port-failed` recovers a port entry's port on which nothing enumerated.

/// A stand-in for systemctl that appends its arguments to `<dir>/systemctl.log`.
std::string stand_in_systemctl(const Bed& b) {
  const std::string path = b.dir + "/systemctl";
  std::ofstream(path) << "#!/bin/sh\necho \"$*\" >> '" << b.dir << "/systemctl.log'\n";
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

const std::vector<std::string> kStale = {
    "--trigger",      "service-stale", "--unit",   "nut-driver@myups.service",
    "--nut-instance", "myups",         "--reason", "data stale for 12s"};

Args stale_args(const Bed& b, std::vector<std::string> extra = {}) {
  Args a = kStale;
  a.push_back("--ups-conf");
  a.push_back(b.conf);
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

History history_of(const Bed& b, const std::string& port) {
  auto h = StateStore(b.state).load(port_key(port));
  EXPECT_TRUE(h.ok());
  return h ? *h : History{};
}

TEST(HandleServiceStale, RecordsTheVerdictAndRestartsTheUnitWhoseStartThenRecovers) {
  Bed b;
  b.systemctl = stand_in_systemctl(b);
  ASSERT_EQ(b.run(cmd_handle, stale_args(b)), kExitOk) << b.err.str();
  EXPECT_EQ(slurp(b.dir + "/systemctl.log"), "--no-block restart nut-driver@myups.service\n");
  EXPECT_THAT(b.err.str(), HasSubstr("'1-1.1' (0665:5161): nut-driver@myups.service: data stale for 12s; "
                                     "recorded as a failed run, restarting it so that its start recovers "
                                     "the device"));
  History h = history_of(b, "1-1.1");
  ASSERT_EQ(h.services.size(), 1u);
  EXPECT_TRUE(h.services[0].failed);
  EXPECT_EQ(h.services[0].unit, "nut-driver@myups.service");
  EXPECT_EQ(h.services[0].result, "stale");
  EXPECT_EQ(h.services[0].exit_status, "data stale for 12s");
  EXPECT_TRUE(h.attempts.empty()) << "the watcher's handover turns nothing off itself";

  // The restart stops the unit cleanly: that stop does not overwrite the verdict...
  ::setenv("SERVICE_RESULT", "success", 1);
  const int stop = b.run(cmd_handle, {"--trigger", "service-stop", "--unit", "nut-driver@myups.service",
                                      "--nut-instance", "myups", "--ups-conf", b.conf});
  ::unsetenv("SERVICE_RESULT");
  EXPECT_EQ(stop, kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("stopped for usbrecover watch's restart (data stale for 12s)"));
  EXPECT_EQ(history_of(b, "1-1.1").services.size(), 1u);

  // ...so the start that follows decides to recover the device.
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--unit", "nut-driver@myups.service",
                               "--nut-instance", "myups", "--ups-conf", b.conf, "--dry-run"}),
            kExitOk)
      << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("recover"));
  EXPECT_THAT(b.out.str(), HasSubstr("device"));
}

TEST(HandleServiceStale, ANoAnswerReasonIsRecordedAsHung) {
  Bed b;
  b.systemctl = stand_in_systemctl(b);
  Args a = stale_args(b);
  a[7] = "no answer to PING for 5s";
  ASSERT_EQ(b.run(cmd_handle, a), kExitOk) << b.err.str();
  EXPECT_EQ(history_of(b, "1-1.1").services.at(0).result, "hung");
}

TEST(HandleServiceStale, ASpentBudgetLeavesTheUnitRunningAndSaysWhy) {
  Bed b;
  b.systemctl = stand_in_systemctl(b);
  History h;
  for (int i = 0; i < 3; ++i)
    h.attempts.push_back({epoch_now() - 1000 * (i + 1), Method::PortPower, true, "ok"});
  ASSERT_TRUE(StateStore(b.state).save(port_key("1-1.1"), h).ok());
  EXPECT_EQ(b.run(cmd_handle, stale_args(b)), kExitRefused);
  EXPECT_FALSE(fs::exists(b.dir + "/systemctl.log")) << "no restart when the start could not recover";
  EXPECT_THAT(b.err.str(), HasSubstr("nut-driver@myups.service: data stale for 12s; not restarted: "));
  EXPECT_TRUE(history_of(b, "1-1.1").services.empty());
}

TEST(HandleServiceStale, ADryRunSaysWhatItWouldDoAndChangesNothing) {
  Bed b;
  b.systemctl = stand_in_systemctl(b);
  EXPECT_EQ(b.run(cmd_handle, stale_args(b, {"--dry-run"})), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("would record it as failed and restart it"));
  EXPECT_FALSE(fs::exists(b.dir + "/systemctl.log"));
  EXPECT_TRUE(history_of(b, "1-1.1").services.empty());
}

TEST(HandleServiceStale, ASystemctlThatFailsIsAnError) {
  Bed b;
  b.systemctl = b.dir + "/false";
  std::ofstream(b.systemctl) << "#!/bin/sh\nexit 5\n";
  fs::permissions(b.systemctl, fs::perms::owner_all);
  EXPECT_EQ(b.run(cmd_handle, stale_args(b)), kExitSoftware);
  EXPECT_THAT(b.err.str(),
              HasSubstr("false --no-block restart nut-driver@myups.service': exited with status 5"));
}

TEST(HandleServiceStale, WantsItsUnitAndInstance) {
  Bed b;
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-stale", "--nut-instance", "myups"}), kExitUsage);
  EXPECT_THAT(b.err.str(), HasSubstr("'--trigger service-stale' goes with '--nut-instance' and '--unit'"));
}

/// Plays the kernel for a power cycle of hub 1-1's port 2: once its `disable` has read 1 and then
/// 0, a device with `spec` enumerates there and udev announces it. `seen(on)` is called when the
/// port is first seen off (false), and when it is seen on again (true).
class EnumeratesAfterCycle {
 public:
  EnumeratesAfterCycle(Bed& b, testing::DeviceSpec spec, std::function<void(bool)> seen = {}) : b_(b) {
    thread_ = std::thread([this, spec, seen] {
      const std::string disable = Testbed::port_dir(b_.hub, 2) + "/disable";
      bool was_off = false;
      while (!stop_) {
        std::string v = slurp(disable);
        if (v.starts_with("1") && !was_off) {
          was_off = true;
          if (seen) seen(false);
        }
        if (was_off && v.starts_with("0")) {
          if (seen) seen(true);
          // Set before the device appears: the helper may verify it and return at once.
          cycled_ = true;
          const std::string dev = b_.bed->add_device(b_.hub, 2, spec);
          umockdev_testbed_uevent(b_.bed->native(), dev.c_str(), "add");
          return;
        }
        std::this_thread::sleep_for(2ms);
      }
    });
  }
  ~EnumeratesAfterCycle() {
    stop_ = true;
    thread_.join();
  }
  bool cycled() const { return cycled_; }

 private:
  Bed& b_;
  std::atomic<bool> stop_{false}, cycled_{false};
  std::thread thread_;
};

TEST(HandlePortFailed, ThePortIsPowerCycledAndTheExpectedDeviceVerified) {
  Bed b;
  int rc;
  {
    EnumeratesAfterCycle kernel(b, testing::inno_tech_ups({}));
    rc = b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.2", "--timeout", "10s"});
    EXPECT_TRUE(kernel.cycled());
  }
  ASSERT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("port '1-1.2'"));
  History h = history_of(b, "1-1.2");
  ASSERT_EQ(h.attempts.size(), 1u) << b.err.str();
  EXPECT_EQ(h.attempts[0].method, Method::PortPower);
  EXPECT_TRUE(h.attempts[0].recovered) << h.attempts[0].detail;
  EXPECT_EQ(slurp(Testbed::port_dir(b.hub, 2) + "/disable").substr(0, 1), "0");
}

// Regression (flagship scenario 10, on Debian's 6.1 with vhci_hcd): a hub with nothing enumerated
// below it autosuspends at once, and each time something resumes it (usbfs, a port's `disable`
// read or written) the kernel enumerates a connected port again; that round took the hub's lock
// for seconds each time the helper read a port, and, after `disable` = 1, powered the port back on
// long before off_time. The hub is held resumed (its usbfs node open) while the port is off and
// when it is powered again, and let go when the run ends.
TEST(HandlePortFailed, TheHubIsHeldResumedWhileThePortIsOffAndLetGoAfterwards) {
  Bed b;
  const std::string node = b.bed->devnode(b.hub);
  std::atomic<int> open_when_off{-1}, open_when_on{-1};
  int rc;
  {
    EnumeratesAfterCycle kernel(b, testing::inno_tech_ups({}), [&](bool on) {
      (on ? open_when_on : open_when_off) = b.bed->usbfs().open_now(node);
    });
    rc = b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.2", "--timeout", "10s"});
    EXPECT_TRUE(kernel.cycled());
  }
  ASSERT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_GE(open_when_off.load(), 1) << "the hub was not held while the port was off";
  EXPECT_GE(open_when_on.load(), 1) << "the hub was not held when the port was powered again";
  EXPECT_EQ(b.bed->usbfs().open_now(node), 0) << "the hub is still held after the run";
}

TEST(HandlePortFailed, ADeviceWithOtherIdsIsNotTheOneThePortWaitsFor) {
  Bed b;
  int rc;
  {
    EnumeratesAfterCycle kernel(
        b,
        {0x046d, 0xc31c, "Logitech", "USB Keyboard", "", "1.5", "1.10", 0, {{0, 3, 1, 1, "usbhid", {}}}, {}});
    rc = b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.2", "--timeout", "1500ms"});
  }
  EXPECT_EQ(rc, kExitFailed) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("a device with other ids (046d:c31c) enumerated on 1-1.2"));
  EXPECT_EQ(slurp(Testbed::port_dir(b.hub, 2) + "/disable").substr(0, 1), "0") << "never left off";
}

TEST(HandlePortFailed, NothingToDoWhenTheExpectedDeviceIsThereAgain) {
  Bed b;
  b.bed->add_device(b.hub, 2, testing::inno_tech_ups({}));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.2"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: "));
  EXPECT_THAT(b.err.str(), HasSubstr("is on port 1-1.2 again"));
  EXPECT_TRUE(history_of(b, "1-1.2").attempts.empty());
}

TEST(HandlePortFailed, APortNoEntryCoversIsLeftAlone) {
  Bed b;
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.3"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: no table entry covers port 1-1.3"));
  EXPECT_EQ(slurp(Testbed::port_dir(b.hub, 3) + "/disable").substr(0, 1), "0");
}

TEST(HandlePortFailed, ADryRunDecidesAndTouchesNothing) {
  Bed b;
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-1.2", "--dry-run"}), kExitOk)
      << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("port-power"));
  EXPECT_EQ(slurp(Testbed::port_dir(b.hub, 2) + "/disable").substr(0, 1), "0");
  EXPECT_TRUE(history_of(b, "1-1.2").attempts.empty());
}

TEST(HandlePortFailed, BadPortsAreUsageOrNotFound) {
  Bed b;
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed"}), kExitUsage);
  EXPECT_THAT(b.err.str(),
              HasSubstr("name exactly one device: a selector, --syspath, --match, --nut-instance or "
                        "--port"));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "add", "--syspath", "/sys/x", "--port", "1-1.2"}), kExitUsage);
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "9-9.9"}), kExitNotFound);
  EXPECT_THAT(b.err.str(), HasSubstr("port 9-9.9: "));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "../../etc"}), kExitNotFound);
  EXPECT_THAT(b.err.str(), HasSubstr("port ../../etc: "));
}

/// A table device at 1-3, on the root hub, whose entry allows a controller rebind.
std::string add_controller_device(Bed& b, bool allow_collateral) {
  auto props = ups_props();
  for (auto& [name, value] : props) {
    if (name == "USBRECOVER_NAME") value = "UPS on the controller";
    if (name == "USBRECOVER_SOURCE") value = "t.toml:20";
    if (name == "USBRECOVER_METHODS") value = "device,controller";
    if (name == "USBRECOVER_ALLOW_COLLATERAL") value = allow_collateral ? "1" : "0";
  }
  return b.bed->add_device(b.usb1, 3, testing::inno_tech_ups(props));
}

/// The entry's properties as the watcher hands them over, each as "--property NAME=VALUE".
Args controller_died(bool allow_collateral, const std::string& controller = "0000:00:14.0") {
  Args args{"--trigger", "controller-died", "--controller", controller, "--port", "1-3"};
  for (const auto& [name, value] : ups_props()) {
    std::string v = value;
    if (name == "USBRECOVER_METHODS") v = "device,controller";
    if (name == "USBRECOVER_ALLOW_COLLATERAL") v = allow_collateral ? "1" : "0";
    args.push_back("--property");
    args.push_back(name + "=" + v);
  }
  args.push_back("--property");
  args.push_back("USBRECOVER_IDS=0665:5161");
  return args;
}

// A dead controller is handed over for the table device on it whose entry allows `controller`,
// with the port it was on (the live watcher knows it from before the death).
TEST(WatchKmsg, ADeadControllerNamesTheEntryThatAllowsARebindAndTheHandOver) {
  Bed b;
  add_controller_device(b, true);
  const std::string file = b.dir + "/kmsg";
  std::ofstream(file)
      << "3,105,5400,-;xhci_hcd 0000:00:14.0: HC died; cleaning up\n"
      << "3,106,5500,-;xhci_hcd 0000:00:1d.0: xHCI host controller not responding, assume dead\n";
  ASSERT_EQ(b.run(cmd_watch, {"--dry-run", "--kmsg", file}), kExitOk) << b.err.str();
  EXPECT_EQ(b.out.str(),
            "{\"event\":\"controller-died\",\"controller\":\"0000:00:14.0\",\"message\":\"xhci_hcd "
            "0000:00:14.0: HC died; cleaning up\",\"entry\":{\"name\":\"UPS on the controller\",\"source\":"
            "\"t.toml:20\",\"port\":\"1-3\"},\"action\":\"would run: usbrecover handle --trigger "
            "controller-died --controller 0000:00:14.0 --port 1-3 --property …\"}\n"
            "{\"event\":\"controller-died\",\"controller\":\"0000:00:1d.0\",\"message\":\"xhci_hcd "
            "0000:00:1d.0: xHCI host controller not responding, assume dead\",\"entry\":null}\n");
}

TEST(HandleControllerDied, DecidesARebindOnlyWithCollateralAllowed) {
  Bed b;
  Args args = controller_died(false);
  args.push_back("--dry-run");
  EXPECT_EQ(b.run(cmd_handle, args), kExitRefused) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("host controller 0000:00:14.0 died and took the device on port 1-3"));
  EXPECT_THAT(b.out.str(), HasSubstr("the policy does not allow collateral"));
  args = controller_died(true);
  args.push_back("--dry-run");
  EXPECT_EQ(b.run(cmd_handle, args), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("/sys/bus/pci/drivers/xhci_hcd/unbind"));
  EXPECT_TRUE(history_of(b, "1-3").attempts.empty());
}

TEST(HandleControllerDied, NothingToDoWhenTheDeviceOrTheControllerIsBack) {
  Bed b;
  const std::string ups3 = add_controller_device(b, true);
  EXPECT_EQ(b.run(cmd_handle, controller_died(true)), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: "));
  EXPECT_THAT(b.err.str(), HasSubstr("is on port 1-3 again"));
  umockdev_testbed_remove_device(b.bed->native(), ups3.c_str());
  EXPECT_EQ(b.run(cmd_handle, controller_died(true)), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: host controller 0000:00:14.0 answers again"));
  EXPECT_TRUE(history_of(b, "1-3").attempts.empty());
}

TEST(HandleControllerDied, BadHandOversAreUsageDataOrNotFound) {
  Bed b;
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "controller-died", "--port", "1-3"}), kExitUsage);
  EXPECT_THAT(b.err.str(), HasSubstr("'--controller' and '--property' go with '--trigger controller-died'"));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "port-failed", "--port", "1-3", "--controller", "0000:00:14.0"}),
            kExitUsage);
  Args bad = controller_died(true);
  bad.push_back("--property");
  bad.push_back("NOT_OURS=1");
  EXPECT_EQ(b.run(cmd_handle, bad), kExitUsage);
  EXPECT_THAT(b.err.str(), HasSubstr("bad '--property' 'NOT_OURS=1'"));
  bad = controller_died(true);
  bad.push_back("--property");
  bad.push_back("USBRECOVER_NAME=twice");
  EXPECT_EQ(b.run(cmd_handle, bad), kExitUsage);
  EXPECT_THAT(b.err.str(), HasSubstr("'--property' USBRECOVER_NAME is given twice"));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "controller-died", "--controller", "0000:00:14.0", "--port",
                               "1-3", "--property", "USBRECOVER_NAME=no schema"}),
            kExitData);
  EXPECT_THAT(b.err.str(), HasSubstr("--property: udev property USBRECOVER_SCHEMA: is missing"));
  EXPECT_EQ(b.run(cmd_handle, controller_died(true, "0000:00:1d.0")), kExitNotFound);
  EXPECT_THAT(b.err.str(), HasSubstr("is on host controller 0000:00:14.0, not 0000:00:1d.0"));
  Args elsewhere = controller_died(true);
  elsewhere[5] = "7-1";
  EXPECT_EQ(b.run(cmd_handle, elsewhere), kExitNotFound);
  EXPECT_EQ(b.run(cmd_explain, {"--port", "1-3", "--controller", "0000:00:14.0"}), kExitUsage);
}

/// The request as the watcher sends it: each argument ended by a NUL.
std::string hand_over_request(const std::vector<std::string>& args) {
  std::string r;
  for (const auto& a : args) r += a + '\0';
  return r;
}

std::string my_user() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw ? pw->pw_name : "";
}

/// Runs `usbrecover handover --peer-user PEER` with one end of a connection as its standard
/// input, as usbrecover-handover@.service does, after `request` was sent from the other end.
/// Returns its exit status and the status it answered (-1: none).
std::pair<int, int> run_handover(Bed& b, const std::string& request, const std::string& peer) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  EXPECT_EQ(::send(sv[0], request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  const int saved = ::dup(0);
  ::dup2(sv[1], 0);
  ::close(sv[1]);
  const int rc = b.run(cmd_handover, {"--peer-user", peer});
  ::dup2(saved, 0);
  ::close(saved);
  signed char answer = -1;
  if (::recv(sv[0], &answer, 1, MSG_DONTWAIT) != 1) answer = -1;
  ::close(sv[0]);
  return {rc, answer};
}

TEST(HandOver, AnOverCurrentFromTheWatchersUserIsRecordedAndAnswered) {
  Bed b;
  auto [rc, answer] = run_handover(b, hand_over_request({"over-current", "1-1.1", "3"}), my_user());
  EXPECT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_EQ(answer, kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("USB port 1-1.1 reported an over-current (count 3)"));
  ASSERT_EQ(history_of(b, "1-1.1").overcurrents.size(), 1u);
  // The history is readable by all: the unprivileged watcher reads the budget there.
  EXPECT_EQ(fs::status(b.state + "/history").permissions() & fs::perms::others_read, fs::perms::others_read);
}

TEST(HandOver, AHandleRequestRunsAsTheWatcherWouldHaveRunIt) {
  Bed b;
  b.bed->add_device(b.hub, 2, testing::inno_tech_ups({}));
  auto [rc, answer] = run_handover(
      b, hand_over_request({"handle", "--trigger", "port-failed", "--port", "1-1.2"}), my_user());
  EXPECT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_EQ(answer, kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: "));
  EXPECT_THAT(b.err.str(), HasSubstr("is on port 1-1.2 again"));
}

TEST(HandOver, AnotherUserIsRefusedAndNothingIsDone) {
  Bed b;
  auto [rc, answer] = run_handover(b, hand_over_request({"over-current", "1-1.1", "3"}), "nobody");
  EXPECT_EQ(rc, kExitNoPerm);
  EXPECT_EQ(answer, kExitNoPerm);
  EXPECT_THAT(b.err.str(), HasSubstr("refusing a request from process "));
  EXPECT_THAT(b.err.str(), HasSubstr("only user nobody"));
  EXPECT_TRUE(history_of(b, "1-1.1").overcurrents.empty());
  std::tie(rc, answer) =
      run_handover(b, hand_over_request({"over-current", "1-1.1", "3"}), "no-such-user-here");
  EXPECT_EQ(rc, kExitNoPerm);
  EXPECT_THAT(b.err.str(), HasSubstr("(no such user)"));
}

TEST(HandOver, ARequestTheWatcherNeverMakesIsRefused) {
  Bed b;
  auto [rc, answer] = run_handover(
      b, hand_over_request({"handle", "--trigger", "port-failed", "--port", "1-1.2", "--metrics", "/etc/x"}),
      my_user());
  EXPECT_EQ(rc, kExitData);
  EXPECT_EQ(answer, kExitData);
  EXPECT_THAT(b.err.str(), HasSubstr("'--metrics' is not an option of a port-failed hand-over"));
  EXPECT_EQ(b.run(cmd_handover, {"--peer-user"}), kExitUsage);
}

// The watcher with --hand-over (as usbrecover-watch.service runs it, unprivileged) records
// nothing itself: the over-current goes to the hand-over socket, one request a connection.
TEST(WatchHandOver, AnOverCurrentGoesToTheHandOverSocket) {
  Bed b;
  const std::string path = b.dir + "/handover.socket";
  const int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  pid_t pid = b.spawn({"watch", "--duration", "3s", "--ups-conf", b.conf, "--statepath", b.statepath,
                       "--kmsg-device", b.dir + "/no-kmsg", "--hand-over", path});
  std::this_thread::sleep_for(800ms);  // listening
  over_current(b, 2);
  pollfd p{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1) << b.child_err();
  const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char buf[4096];
  const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), hand_over_request({"over-current", "1-1.1", "2"}));
  const char ok = 0;
  EXPECT_EQ(::send(conn, &ok, 1, 0), 1);
  ::close(conn);
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  ::close(listener);
  EXPECT_FALSE(fs::exists(b.state + "/history")) << "the watcher wrote history itself";
  EXPECT_THAT(b.child_err(), ::testing::Not(HasSubstr("cannot hand")));
}

TEST(WatchHandOver, ASocketThatIsNotThereIsLoggedAndTheWatcherGoesOn) {
  Bed b;
  pid_t pid = b.spawn({"watch", "--duration", "2s", "--ups-conf", b.conf, "--statepath", b.statepath,
                       "--kmsg-device", b.dir + "/no-kmsg", "--hand-over", b.dir + "/absent.socket"});
  std::this_thread::sleep_for(800ms);
  over_current(b, 1);
  EXPECT_EQ(b.wait(pid), kExitOk) << b.child_err();
  EXPECT_THAT(b.child_err(), HasSubstr("watch: cannot hand over-current 1-1.1 over to " + b.dir +
                                       "/absent.socket: No such file or directory"));
  EXPECT_EQ(b.run(cmd_watch, {"--hand-over", "relative.socket"}), kExitUsage);
}

}  // namespace
}  // namespace usbrecover
