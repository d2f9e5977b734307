// SPDX-License-Identifier: MIT
// `usbrecover watch`: notices the failures that happen while a device is in use and announce
// themselves to nobody, and hands each to `usbrecover handle`, which decides and acts:
//  - a NUT driver whose data stays stale, or that does not answer PING (its socket, else upsd);
//  - a port a table entry covers on which the kernel gave up enumerating (only /dev/kmsg says so);
//  - an over-current (a uevent on the hub, and the kernel's log), recorded so that no method
//    powers the port on again within the window;
//  - a dead host controller, reported.
// Idle in poll() when nothing happens; its timers are those of the NUT drivers it watches.

#include <fcntl.h>
#include <libudev.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "act/verify.hpp"
#include "commands/commands.hpp"
#include "commands/entry.hpp"
#include "commands/target.hpp"
#include "commands/watch_targets.hpp"
#include "config.h"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "watch/driver_watch.hpp"
#include "watch/kmsg.hpp"
#include "watch/nut_protocol.hpp"

extern char** environ;

namespace usbrecover {

namespace {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

constexpr std::size_t kMaxKmsgFile = 64 * 1024 * 1024;
/// After a USB device comes or goes, which NUT sections have a device is read again this much
/// later, once the burst of events of one plug is over.
constexpr Millis kRediscoverDelay{2000};

struct WatchOptions {
  bool help = false;
  bool dry_run = false;
  std::optional<std::string> kmsg_file;
  std::optional<Millis> duration;
  std::string ups_conf = kDefaultUpsConf;
  std::string statepath;
  std::string upsd = "127.0.0.1:3493";
  std::string kmsg = "/dev/kmsg";
  std::string hand_over;  ///< --hand-over SOCKET: hand each case to `usbrecover handover` there
  Millis ping_every{30'000};
  Millis ping_timeout{10'000};
};

void watch_usage(std::ostream& os) {
  os << "usage: usbrecover watch [--dry-run] [--duration DUR] [--ups-conf PATH] [--statepath DIR]\n"
        "                        [--upsd HOST:PORT] [--ping-every DUR] [--ping-timeout DUR] [--kmsg-device "
        "PATH]\n"
        "                        [--hand-over SOCKET]\n"
        "       usbrecover watch --dry-run --kmsg FILE\n"
        "\n"
        "Notices what fails while a device is in use and hands each case to `usbrecover handle`:\n"
        "a NUT driver of a table device whose data stays stale for the entry's stale_after, or that\n"
        "does not answer PING (restarted, so that its start recovers the device); a port a table\n"
        "entry covers on which the kernel gave up enumerating (handle --trigger port-failed); an\n"
        "over-current (recorded: no method powers the port on again within the window); a dead\n"
        "host controller (reported; handed over as handle --trigger controller-died when the entry\n"
        "of a table device that was on it allows `controller`). Run by usbrecover-watch.service.\n"
        "\n"
        "  --dry-run         notice and print, one JSON object a line, what would be done; act on nothing\n"
        "  --kmsg FILE       read kernel log records from FILE (/dev/kmsg's format), print each USB\n"
        "                    failure recognised and the table entry that covers it, and exit\n"
        "  --duration DUR    stop after DUR (default: run until stopped)\n"
        "  --ups-conf PATH   NUT's ups.conf (default /etc/nut/ups.conf)\n"
        "  --statepath DIR   where NUT's drivers keep their sockets (default $NUT_STATEPATH, else /run/nut)\n"
        "  --upsd HOST:PORT  upsd, asked when a driver's socket is not there (default 127.0.0.1:3493)\n"
        "  --ping-every DUR  how often a driver (or upsd) is asked (default 30s)\n"
        "  --ping-timeout DUR  a driver that does not answer PING within DUR hangs (default 10s)\n"
        "  --kmsg-device PATH  the kernel log to follow (default /dev/kmsg)\n"
        "  --hand-over SOCKET  send each case to `usbrecover handover` listening on SOCKET (what\n"
        "                    usbrecover-watch.service does: the watcher runs unprivileged); without\n"
        "                    it the watcher runs `usbrecover handle` itself, which needs root\n";
}

std::string parse_watch_options(const Args& args, WatchOptions& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size() || args[i + 1].empty()) return nullptr;
      return &args[++i];
    };
    const std::string* v = nullptr;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--kmsg") {
      if (!(v = value())) return "'--kmsg' needs a file";
      o.kmsg_file = *v;
    } else if (a == "--kmsg-device") {
      if (!(v = value())) return "'--kmsg-device' needs a path";
      o.kmsg = *v;
    } else if (a == "--duration") {
      auto d = (v = value()) ? parse_duration(*v) : std::nullopt;
      if (!d || d->count() == 0) return "'--duration' needs a duration such as 30s";
      o.duration = *d;
    } else if (a == "--ping-every" || a == "--ping-timeout") {
      auto d = (v = value()) ? parse_duration(*v) : std::nullopt;
      if (!d || d->count() < 100) return "'" + a + "' needs a duration of at least 100ms";
      (a == "--ping-every" ? o.ping_every : o.ping_timeout) = *d;
    } else if (a == "--ups-conf") {
      if (!(v = value())) return "'--ups-conf' needs a path";
      o.ups_conf = *v;
    } else if (a == "--statepath") {
      if (!(v = value())) return "'--statepath' needs a directory";
      o.statepath = *v;
    } else if (a == "--hand-over") {
      if (!(v = value()) || !v->starts_with("/")) return "'--hand-over' needs the absolute path of a socket";
      o.hand_over = *v;
    } else if (a == "--upsd") {
      if (!(v = value()) || v->find(':') == std::string::npos) return "'--upsd' needs HOST:PORT";
      o.upsd = *v;
    } else {
      return "unknown argument '" + terminal_safe(a) + "'";
    }
  }
  if (o.kmsg_file && !o.dry_run)
    return "'--kmsg FILE' goes with '--dry-run' (records from a file are only shown)";
  if (o.statepath.empty()) {
    const char* env = std::getenv("NUT_STATEPATH");
    o.statepath = env && *env ? env : "/run/nut";
  }
  return {};
}

/// One kernel event as a JSON line, with the table entry that covers its port (for a dead
/// controller, the entry of the table device on it that allows a rebind).
void event_json(std::ostream& os, const KernelEvent& e,
                const std::optional<std::pair<std::string, TablePolicy>>& entry, const std::string& action) {
  JsonWriter j(os, false);
  j.begin_object();
  j.field("event", std::string(to_string(e.kind)));
  if (e.kind == KernelEvent::Kind::ControllerDied) {
    j.field("controller", e.controller);
  } else {
    j.field("port", e.port);
  }
  if (e.kind == KernelEvent::Kind::EnumerationFailed) j.field("gave_up", e.gave_up);
  j.field("message", e.message);
  j.key("entry");
  if (entry) {
    j.begin_object();
    j.field("name", entry->second.name).field("source", entry->second.source).field("port", entry->first);
    j.end_object();
  } else {
    j.null();
  }
  if (!action.empty()) j.field("action", action);
  j.end_object();
  os << "\n";
}

/// What a dry run says it would do for a dead controller.
std::string would_run(const ControllerCover& c) {
  return "would run: usbrecover handle --trigger controller-died --controller " + c.controller + " --port " +
         c.port_path + " --property …";
}

/// `--kmsg FILE`: the records of a file, as the watcher would read them from /dev/kmsg.
int watch_kmsg_file(const WatchOptions& o, Context& ctx) {
  std::ifstream in(*o.kmsg_file, std::ios::binary);
  if (!in) {
    ctx.err << "usbrecover: watch: cannot read '" << terminal_safe(*o.kmsg_file)
            << "': " << std::strerror(errno) << "\n";
    return kExitData;
  }
  std::string text;
  text.resize(kMaxKmsgFile + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKmsgFile) {
    ctx.err << "usbrecover: watch: '" << terminal_safe(*o.kmsg_file) << "' is larger than "
            << kMaxKmsgFile / (1024 * 1024) << " MiB\n";
    return kExitData;
  }
  auto reader = SnapshotReader::open(reader_options(ctx));
  std::size_t bad = 0;
  std::optional<std::vector<ControllerCover>> covers;  // read at the first dead controller
  for (std::string_view raw : split_kmsg_records(text)) {
    auto record = parse_kmsg_record(raw);
    if (!record) {
      ++bad;
      continue;
    }
    auto event = recognise_kernel_record(*record);
    if (!event) continue;
    std::optional<std::pair<std::string, TablePolicy>> entry;
    std::string action;
    if (reader && event->kind == KernelEvent::Kind::ControllerDied) {
      if (!covers) covers = controller_covers(*reader);
      if (const ControllerCover* c = cover_of(*covers, event->controller)) {
        entry = std::pair{c->port_path, c->table};
        action = would_run(*c);
      }
    } else if (reader) {
      entry = port_entry(*reader, ctx.sysfs_root, event->port);
    }
    event_json(ctx.out, *event, entry, action);
  }
  if (bad > 0)
    ctx.err << "usbrecover: watch: " << bad << " line(s) of '" << terminal_safe(*o.kmsg_file)
            << "' are not kernel log records; skipped\n";
  return kExitOk;
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return USBRECOVER_HELPER_PATH;
  return std::string(buf, static_cast<std::size_t>(n));
}

/// The live watcher. Single-threaded: one poll() over the kernel log, udev, the drivers'
/// sockets, a signalfd and the hand-overs under way; children (`usbrecover handle`, when the
/// watcher runs them itself) are reaped on SIGCHLD.
class Watcher {
 public:
  Watcher(const WatchOptions& o, Context& ctx, SnapshotReader reader)
      : o_(o), ctx_(ctx), reader_(std::move(reader)), log_(ctx.err, Logger::stderr_is_journal()) {}
  ~Watcher() {
    for (auto& d : drivers_) close_driver(d);
    for (const auto& h : handovers_) ::close(h.first);
    if (kmsg_ >= 0) ::close(kmsg_);
    if (signals_ >= 0) ::close(signals_);
    if (monitor_) udev_monitor_unref(monitor_);
    if (udev_) udev_unref(udev_);
  }
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  int run();

 private:
  struct Driver {
    NutTarget target;
    DriverWatch watch;
    enum class Mode { None, Socket, Upsd } mode = Mode::None;
    int fd = -1;
    LineBuffer lines;
    std::optional<Time> upsd_asked;  ///< an unanswered upsd request, when sent
    std::string shown;               ///< the last state printed (dry run) or logged
  };

  std::string watched_summary_;  ///< what discover() last logged

  void info(Priority p, const char* id, const std::string& msg,
            std::vector<std::pair<std::string, std::string>> f = {}) {
    log_.log(LogLine{p, id, terminal_safe(msg), std::move(f)});
  }
  void emit(const std::string& json_line) { ctx_.out << json_line << std::flush; }

  Status open_sources();
  void discover();
  void read_kmsg(Time now);
  void read_udev(Time now);
  bool read_signals();
  void on_kernel_event(const KernelEvent& e, Time now);
  void on_over_current(const std::string& port, unsigned count, const std::string& source);
  void connect_driver(Driver& d, Time now);
  void close_driver(Driver& d);
  void read_driver(Driver& d, Time now);
  void tend_driver(Driver& d, Time now);
  void show_driver(Driver& d, Time now);
  void hand_over(Driver& d, Time now);
  pid_t spawn(const std::vector<std::string>& args);
  void hand_over_request(const std::vector<std::string>& args, const std::string& what);
  void read_hand_over(int fd);
  bool busy(const std::string& what) const;
  void reap();
  std::optional<Time> next_wakeup(Time now) const;

  const WatchOptions& o_;
  Context& ctx_;
  SnapshotReader reader_;
  Logger log_;
  udev* udev_ = nullptr;
  udev_monitor* monitor_ = nullptr;
  int kmsg_ = -1;
  int signals_ = -1;
  std::vector<Driver> drivers_;
  std::vector<ControllerCover> covers_;    ///< the table devices a dead controller could be rebound for
  std::map<pid_t, std::string> children_;  ///< pid -> what it handles ("port 1-1.2", a unit)
  std::map<int, std::string> handovers_;   ///< --hand-over: connection -> what it handles
  std::optional<Time> rediscover_at_;
  std::optional<Time> end_at_;
  bool stop_ = false;
};

Status Watcher::open_sources() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return errno_error("signals", "cannot block");
  signals_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signals_ < 0) return errno_error("signalfd", "cannot open");

  // The kernel's log, from its end: what happened before the watcher started is history.
  kmsg_ = ::open(o_.kmsg.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (kmsg_ < 0) {
    info(Priority::Warning, nullptr,
         "watch: cannot read " + o_.kmsg + ": " + std::strerror(errno) +
             "; enumeration failures and dead controllers go unnoticed (CAP_SYSLOG is needed where "
             "kernel.dmesg_restrict is 1)");
  } else {
    (void)::lseek(kmsg_, 0, SEEK_END);
  }

  udev_ = udev_new();
  if (udev_ == nullptr) return errno_error("libudev", "cannot create a udev context");
  const bool udevd = udevd_running(ctx_.udev_control);
  monitor_ = udev_monitor_new_from_netlink(udev_, udevd ? "udev" : "kernel");
  if (monitor_ == nullptr) return errno_error("udev", "cannot open a monitor");
  // usb: devices coming and going, over-currents; tty: a serial UPS's port appears after its
  // USB device, when its driver binds.
  if (udev_monitor_filter_add_match_subsystem_devtype(monitor_, "usb", nullptr) < 0 ||
      udev_monitor_filter_add_match_subsystem_devtype(monitor_, "tty", nullptr) < 0 ||
      udev_monitor_enable_receiving(monitor_) < 0)
    return errno_error("udev", "cannot listen");
  return Ok{};
}

void Watcher::discover() {
  covers_ = controller_covers(reader_);
  NutTargets found = find_nut_targets(reader_, ctx_, o_.ups_conf, o_.statepath);
  // Keep what is known of a driver that is still watched (its connection and its episode).
  std::vector<Driver> next;
  for (auto& t : found.watched) {
    auto same = std::find_if(drivers_.begin(), drivers_.end(), [&](const Driver& d) {
      return d.target.section == t.section && d.target.socket == t.socket;
    });
    if (same != drivers_.end()) {
      same->target = std::move(t);
      next.push_back(std::move(*same));
      same->fd = -1;  // moved
      continue;
    }
    DriverWatch::Timing timing;
    timing.stale_after = t.table.policy.stale_after;
    timing.ping_every = o_.ping_every;
    timing.pong_within = o_.ping_timeout;
    next.push_back(
        Driver{std::move(t), DriverWatch(timing), Driver::Mode::None, -1, LineBuffer(), std::nullopt, ""});
  }
  for (auto& d : drivers_) close_driver(d);
  drivers_ = std::move(next);
  // The journal hears which drivers are watched, and why the others are not, when that changes
  // (at start, and as devices come and go).
  std::string summary = "watch: watching " + std::to_string(drivers_.size()) + " NUT driver(s)";
  for (std::size_t i = 0; i < drivers_.size(); ++i)
    summary += (i == 0 ? ": " : ", ") + drivers_[i].target.section;
  for (const auto& [section, why] : found.not_watched)
    summary += "; not " + (section.empty() ? std::string("ups.conf") : section) + ": " + why;
  if (summary != watched_summary_ && !o_.dry_run) info(Priority::Info, nullptr, summary);
  watched_summary_ = std::move(summary);
  for (const auto& [section, why] : found.not_watched) {
    if (o_.dry_run) {
      std::ostringstream os;
      JsonWriter j(os, false);
      j.begin_object();
      j.key("nut");
      if (section.empty())
        j.null();
      else
        j.value(section);
      j.key("watched").null().field("why", why).end_object();
      emit(os.str() + "\n");
    }
  }
}

void Watcher::read_kmsg(Time now) {
  // One read, one record; EPIPE: the kernel overwrote records we had not read (a burst).
  for (;;) {
    char buf[kMaxKmsgRecord];
    const ssize_t n = ::read(kmsg_, buf, sizeof buf);
    if (n < 0 && errno == EPIPE) {
      info(Priority::Info, nullptr, "watch: some kernel log records were overwritten before they were read");
      continue;
    }
    if (n <= 0) return;
    auto record = parse_kmsg_record(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!record) continue;
    if (auto event = recognise_kernel_record(*record)) on_kernel_event(*event, now);
  }
}

void Watcher::on_kernel_event(const KernelEvent& e, Time now) {
  (void)now;
  if (e.kind == KernelEvent::Kind::OverCurrent) {
    on_over_current(e.port, 0, "kernel log");
    return;
  }
  if (e.kind == KernelEvent::Kind::ControllerDied) {
    // What was on it is known from before: its devices, with their udev properties, are being
    // disconnected now.
    const ControllerCover* cover = cover_of(covers_, e.controller);
    const bool busy = this->busy("controller " + e.controller);
    if (o_.dry_run) {
      std::ostringstream os;
      event_json(os, e, cover ? std::optional{std::pair{cover->port_path, cover->table}} : std::nullopt,
                 cover && !busy ? would_run(*cover) : "");
      emit(os.str());
      return;
    }
    info(Priority::Err, message_id::kControllerDied,
         "host controller " + e.controller + " died (kernel: " + e.message +
             "); every USB device on it is gone until it is bound to its driver again" +
             (!cover ? "; no table entry of a device on it allows a controller rebind"
              : busy ? "; usbrecover handle is recovering it already"
                     : "; handing it to usbrecover handle for " + cover->table.name + " on port " +
                           cover->port_path),
         {{"USBRECOVER_CONTROLLER", e.controller}});
    if (cover && !busy) spawn(controller_died_args(*cover));
    return;
  }
  auto entry = port_entry(reader_, ctx_.sysfs_root, e.port);
  std::string action;
  const std::string port = entry ? entry->first : e.port;
  const bool busy = this->busy("port " + port);
  if (e.gave_up && entry && !busy) action = "usbrecover handle --trigger port-failed --port " + port;
  if (o_.dry_run) {
    std::ostringstream os;
    event_json(os, e, entry, action.empty() ? "" : "would run: " + action);
    emit(os.str());
    return;
  }
  if (!e.gave_up) return;  // the kernel still retries; its last word decides
  info(Priority::Warning, message_id::kNoEnumeration,
       "nothing could be enumerated on port " + e.port + " (kernel: " + e.message + ")" +
           (!entry ? "; no table entry covers the port"
            : busy ? "; usbrecover handle is recovering it already, for " + entry->second.name
                   : "; handing it to usbrecover handle for " + entry->second.name),
       {{"USBRECOVER_PORT", e.port}});
  if (action.empty()) return;
  spawn({"handle", "--trigger", "port-failed", "--port", port});
}

void Watcher::on_over_current(const std::string& port, unsigned count, const std::string& source) {
  auto entry = port_entry(reader_, ctx_.sysfs_root, port);
  if (o_.dry_run) {
    std::ostringstream os;
    JsonWriter j(os, false);
    j.begin_object()
        .field("event", "over-current")
        .field("port", port)
        .field("count", count)
        .field("source", source);
    j.key("entry");
    if (entry)
      j.begin_object().field("name", entry->second.name).field("source", entry->second.source).end_object();
    else
      j.null();
    j.end_object();
    emit(os.str() + "\n");
    return;
  }
  if (!o_.hand_over.empty()) {
    hand_over_request({"over-current", port, std::to_string(count)}, "over-current " + port);
    return;
  }
  record_over_current(reader_, ctx_, port, count, log_);
}

void Watcher::read_udev(Time now) {
  for (;;) {
    udev_device* ev = udev_monitor_receive_device(monitor_);
    if (ev == nullptr) return;
    const char* action = udev_device_get_action(ev);
    const char* devtype = udev_device_get_devtype(ev);
    const std::string act = action ? action : "";
    if (const char* oc = udev_device_get_property_value(ev, "OVER_CURRENT_PORT"); oc && act == "change") {
      // OVER_CURRENT_PORT is the port's kobject path ("…/1-0:1.0/usb1-port2").
      const std::string path = oc;
      const char* count = udev_device_get_property_value(ev, "OVER_CURRENT_COUNT");
      if (auto port = port_path_of_kernel_name(path.substr(path.rfind('/') + 1)))
        on_over_current(*port, count ? static_cast<unsigned>(std::strtoul(count, nullptr, 10)) : 0, "uevent");
    } else if ((act == "add" || act == "remove") &&
               ((devtype && std::strcmp(devtype, "usb_device") == 0) ||
                std::strcmp(udev_device_get_subsystem(ev) ? udev_device_get_subsystem(ev) : "", "tty") ==
                    0)) {
      if (!rediscover_at_) rediscover_at_ = now + kRediscoverDelay;
    }
    udev_device_unref(ev);
  }
}

bool Watcher::read_signals() {
  signalfd_siginfo si{};
  while (::read(signals_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    switch (si.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        return false;
      case SIGHUP:
        discover();
        break;
      case SIGCHLD:
        reap();
        break;
      default:
        break;
    }
  }
  return true;
}

void Watcher::close_driver(Driver& d) {
  if (d.fd >= 0) ::close(d.fd);
  d.fd = -1;
  d.mode = Driver::Mode::None;
  d.lines.clear();
  d.upsd_asked.reset();
}

/// A stream socket of `family` connected to `addr`, then made non-blocking; -1 when either fails.
template <typename Address>
int connect_stream(int family, const Address& addr) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  (void)::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  return connect_stream(AF_UNIX, addr);
}

int connect_tcp(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port =
      htons(static_cast<std::uint16_t>(std::strtoul(host_port.substr(colon + 1).c_str(), nullptr, 10)));
  if (::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  // upsd on this machine answers a connect at once, or refuses it.
  return connect_stream(AF_INET, addr);
}

bool send_all(int fd, std::string_view text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

void Watcher::connect_driver(Driver& d, Time now) {
  // The driver's own socket first: it says at once when data goes stale. Read-only commands
  // only: the socket has no access control.
  struct stat st {};
  if (::stat(d.target.socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    d.fd = connect_unix(d.target.socket);
    if (d.fd >= 0 && send_all(d.fd, "DUMPALL\nPING\n")) {
      d.mode = Driver::Mode::Socket;
      d.watch.connected(now);
      return;
    }
    close_driver(d);
  }
  // Else upsd, which serves the driver's state without a login.
  auto request = upsd_status_request(d.target.section);
  if (request) {
    d.fd = connect_tcp(o_.upsd);
    if (d.fd >= 0 && send_all(d.fd, *request)) {
      d.mode = Driver::Mode::Upsd;
      d.watch.connected(now);
      d.watch.driver_line(now, DriverLine::Pong);  // no PING through upsd: its answers stand in
      d.watch.polled(now);
      d.upsd_asked = now;
      return;
    }
    close_driver(d);
  }
  d.watch.disconnected(now);
}

void Watcher::read_driver(Driver& d, Time now) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(d.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // the driver (or upsd) went away: it restarts, or was stopped
      close_driver(d);
      d.watch.disconnected(now);
      return;
    }
    for (const auto& line : d.lines.add(std::string_view(buf, static_cast<std::size_t>(n)))) {
      if (d.mode == Driver::Mode::Socket) {
        d.watch.driver_line(now, classify_driver_line(line));
      } else {
        d.upsd_asked.reset();
        d.watch.upsd_answer(now, parse_upsd_status(line, d.target.section));
      }
    }
    if (d.lines.overflowed()) {  // not NUT's protocol
      close_driver(d);
      d.watch.disconnected(now);
      return;
    }
  }
}

std::string state_word(DriverWatch::State s) {
  switch (s) {
    case DriverWatch::State::Unknown:
      return "unknown";
    case DriverWatch::State::Healthy:
      return "healthy";
    case DriverWatch::State::Stale:
      return "stale";
    case DriverWatch::State::Hung:
      return "hung";
  }
  return "";
}

void Watcher::show_driver(Driver& d, Time now) {
  const std::string how = d.mode == Driver::Mode::Socket ? "socket " + d.target.socket
                          : d.mode == Driver::Mode::Upsd ? "upsd " + o_.upsd
                                                         : "";
  const std::string state = state_word(d.watch.state(now));
  const std::string key = how + "|" + state;
  if (key == d.shown) return;
  d.shown = key;
  if (!o_.dry_run) return;
  std::ostringstream os;
  JsonWriter j(os, false);
  j.begin_object();
  j.field("nut", d.target.section).field("unit", d.target.unit).field("device", d.target.device.port_path);
  j.key("watched");
  if (how.empty())
    j.null();
  else
    j.value(how);
  j.field("state", state);
  j.field("stale_for_ms", static_cast<std::int64_t>(d.watch.stale_for(now).count()));
  j.end_object();
  emit(os.str() + "\n");
}

void Watcher::hand_over(Driver& d, Time now) {
  const std::string reason = d.watch.reason(now);
  // The budget first, as the driver's next start will judge it: a UPS that stays stale gets
  // its recoveries, then one refusal line a window, and no restart loop.
  auto dc = read_device_context(reader_, d.target.device, "", o_.ups_conf);
  if (dc && dc->table) {
    StateStore store(ctx_.state_dir);
    auto loaded = store.load(dc->key);
    History h = loaded ? *loaded : History{};
    h.services.push_back({epoch_now(), d.target.unit, true, "stale", "usbrecover-watch", reason});
    const Policy& policy = dc->table->policy;
    Decision decision = decide(PlannerInput{
        dc->snapshot, policy, h, Trigger::ServiceStale, ProbeResult{ProbeResult::State::Failed, reason},
        epoch_now(), PlanOptions{.sysfs_root = ctx_.sysfs_root, .off_time = policy.off_time}});
    if (decision.verdict == Decision::Verdict::Refuse) {
      const Millis wait =
          decision.next_allowed ? Millis(*decision.next_allowed - epoch_now()) : policy.window;
      d.watch.hold_until(now + std::max(wait, Millis(1000)));
      if (o_.dry_run) {
        std::ostringstream os;
        JsonWriter j(os, false);
        j.begin_object().field("nut", d.target.section).field("unit", d.target.unit).field("reason", reason);
        j.field("action", "none: " + decision.summary).end_object();
        emit(os.str() + "\n");
        return;
      }
      info(Priority::Warning, message_id::kRefused,
           "'" + d.target.device.sysname + "': " + d.target.unit + ": " + reason +
               "; not restarted: " + decision.summary,
           {{"USBRECOVER_DEVICE", d.target.device.sysname}, {"USBRECOVER_UNIT", d.target.unit}});
      return;
    }
  }
  d.watch.handed_over();
  const std::vector<std::string> args = {
      "handle",          "--trigger",  "service-stale", "--unit",   d.target.unit, "--nut-instance",
      d.target.instance, "--ups-conf", o_.ups_conf,     "--reason", reason};
  if (o_.dry_run) {
    std::ostringstream os;
    JsonWriter j(os, false);
    j.begin_object().field("nut", d.target.section).field("unit", d.target.unit).field("reason", reason);
    std::string line = "usbrecover";
    for (const auto& a : args) line += " " + (a.find(' ') == std::string::npos ? a : "'" + a + "'");
    j.field("action", "would run: " + line).end_object();
    emit(os.str() + "\n");
    return;
  }
  spawn(args);
}

void Watcher::tend_driver(Driver& d, Time now) {
  if (d.mode == Driver::Mode::None) {
    if (d.watch.reconnect_due(now)) connect_driver(d, now);
  } else if (d.mode == Driver::Mode::Socket && d.watch.ping_due(now)) {
    if (send_all(d.fd, "PING\n")) {
      d.watch.pinged(now);
    } else {
      close_driver(d);
      d.watch.disconnected(now);
    }
  } else if (d.mode == Driver::Mode::Upsd) {
    // upsd's own silence is upsd's, not the driver's: hang up and try again.
    if (d.upsd_asked && now - *d.upsd_asked > o_.ping_timeout) {
      close_driver(d);
      d.watch.disconnected(now);
    } else if (!d.upsd_asked && d.watch.ping_due(now)) {
      if (auto request = upsd_status_request(d.target.section); request && send_all(d.fd, *request)) {
        d.watch.polled(now);
        d.upsd_asked = now;
      } else {
        close_driver(d);
        d.watch.disconnected(now);
      }
    }
  }
  show_driver(d, now);
  if (d.watch.hand_over_due(now)) hand_over(d, now);
}

pid_t Watcher::spawn(const std::vector<std::string>& args) {
  std::string what = args.size() > 4 ? args[3] + " " + args[4] : args.front();
  if (args.size() > 4 && args[2] == "port-failed") what = "port " + args[4];
  if (args.size() > 4 && args[2] == "controller-died") what = "controller " + args[4];
  if (!o_.hand_over.empty()) {
    hand_over_request(args, what);
    return 0;
  }
  const std::string self = self_path();
  std::vector<char*> argv{const_cast<char*>(self.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child gets the default signal mask back (ours blocks what the signalfd reads).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, self.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    info(Priority::Err, nullptr, "watch: cannot run " + self + ": " + std::strerror(rc));
    return 0;
  }
  children_[pid] = what;
  return pid;
}

void Watcher::hand_over_request(const std::vector<std::string>& args, const std::string& what) {
  // One request a connection: the arguments, each ended by a NUL. The connection stays open
  // until `usbrecover handover` has run them and answered with their exit status, so that the
  // case counts as under way until then, as a child does.
  std::string request;
  for (const auto& a : args) request += a + '\0';
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  bool sent = false;
  if (fd >= 0 && o_.hand_over.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, o_.hand_over.c_str(), o_.hand_over.size());
    sent = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
           ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  }
  if (!sent) {
    info(Priority::Err, nullptr,
         "watch: cannot hand " + what + " over to " + o_.hand_over + ": " + std::strerror(errno) +
             " (is usbrecover-handover.socket running?)");
    if (fd >= 0) ::close(fd);
    return;
  }
  handovers_[fd] = what;
}

void Watcher::read_hand_over(int fd) {
  // The answer (the exit status) or the end of the connection: either way the case is done.
  char status = 0;
  (void)::recv(fd, &status, 1, MSG_DONTWAIT);
  ::close(fd);
  handovers_.erase(fd);
}

bool Watcher::busy(const std::string& what) const {
  return std::any_of(children_.begin(), children_.end(), [&](const auto& c) { return c.second == what; }) ||
         std::any_of(handovers_.begin(), handovers_.end(), [&](const auto& h) { return h.second == what; });
}

void Watcher::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    children_.erase(pid);
  }
}

std::optional<Time> Watcher::next_wakeup(Time now) const {
  std::optional<Time> next = end_at_;
  auto consider = [&next](std::optional<Time> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(rediscover_at_);
  for (const auto& d : drivers_) {
    consider(d.watch.next_wakeup());
    if (d.upsd_asked) consider(*d.upsd_asked + o_.ping_timeout);
  }
  (void)now;
  return next;
}

int Watcher::run() {
  if (auto st = open_sources(); !st) {
    info(Priority::Err, nullptr, "watch: " + st.error().message());
    return kExitSoftware;
  }
  const Time start = Clock::now();
  if (o_.duration) end_at_ = start + *o_.duration;
  discover();
  info(Priority::Info, nullptr,
       std::string("watch: following ") + (kmsg_ >= 0 ? "the kernel's log and " : "") + "USB uevents");
  for (;;) {
    Time now = Clock::now();
    if (end_at_ && now >= *end_at_) break;
    if (rediscover_at_ && now >= *rediscover_at_) {
      rediscover_at_.reset();
      discover();
    }
    for (auto& d : drivers_) tend_driver(d, now);

    std::vector<pollfd> fds;
    fds.push_back({signals_, POLLIN, 0});
    fds.push_back({udev_monitor_get_fd(monitor_), POLLIN, 0});
    if (kmsg_ >= 0) fds.push_back({kmsg_, POLLIN, 0});
    const std::size_t first_driver = fds.size();
    for (const auto& d : drivers_) fds.push_back({d.fd, static_cast<short>(d.fd >= 0 ? POLLIN : 0), 0});
    const std::size_t first_hand_over = fds.size();
    for (const auto& h : handovers_) fds.push_back({h.first, POLLIN, 0});
    int timeout = -1;
    if (auto next = next_wakeup(now)) {
      const auto ms = std::chrono::duration_cast<Millis>(*next - now).count() + 1;
      timeout = static_cast<int>(std::clamp<Millis::rep>(ms, 0, 24 * 3600 * 1000));
    }
    const int r = ::poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) {
      info(Priority::Err, nullptr, std::string("watch: poll failed: ") + std::strerror(errno));
      return kExitSoftware;
    }
    now = Clock::now();
    if (r <= 0) continue;
    if (fds[0].revents && !read_signals()) break;
    if (fds[1].revents) read_udev(now);
    if (kmsg_ >= 0 && fds[2].revents) read_kmsg(now);
    for (std::size_t i = 0; i < drivers_.size(); ++i) {
      if (fds[first_driver + i].revents && drivers_[i].fd >= 0) read_driver(drivers_[i], now);
    }
    for (std::size_t i = first_hand_over; i < fds.size(); ++i)
      if (fds[i].revents) read_hand_over(fds[i].fd);
  }
  info(Priority::Info, nullptr, "watch: stopping");
  return kExitOk;
}

}  // namespace

int cmd_watch(const Args& args, Context& ctx) {
  WatchOptions o;
  if (auto bad = parse_watch_options(args, o); !bad.empty()) {
    ctx.err << "usbrecover: watch: " << bad << "\n";
    watch_usage(ctx.err);
    return kExitUsage;
  }
  if (o.help) {
    watch_usage(ctx.out);
    return kExitOk;
  }
  if (o.kmsg_file) return watch_kmsg_file(o, ctx);
  auto reader = SnapshotReader::open(reader_options(ctx));
  if (!reader) {
    ctx.err << "usbrecover: watch: " << reader.error().message() << "\n";
    return kExitSoftware;
  }
  Watcher w(o, ctx, std::move(*reader));
  return w.run();
}

}  // namespace usbrecover
