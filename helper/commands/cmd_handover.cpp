// SPDX-License-Identifier: MIT
// `usbrecover handover`: the root side of the watcher's hand-over. usbrecover-handover.socket
// accepts the unprivileged watcher's connection and starts usbrecover-handover@.service with it
// as standard input. This reads one request, checks that it comes from the watcher's user and is
// one the watcher makes, runs it as the watcher would have run it itself, and answers with its
// exit status.
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ostream>

#include "commands/target.hpp"
#include "commands/watch_targets.hpp"
#include "util/log.hpp"
#include "util/text.hpp"
#include "watch/hand_over.hpp"

namespace usbrecover {

namespace {

void handover_usage(std::ostream& os) {
  os << "usage: usbrecover handover [--peer-user USER] [--ups-conf PATH]\n"
        "\n"
        "Run by usbrecover-handover@.service, with a connection of usbrecover-handover.socket as its\n"
        "standard input: reads one request of the watcher (usbrecover watch --hand-over), runs it\n"
        "and answers with its exit status. Only a peer running as USER (default usbrecover-watch,\n"
        "the watcher's) is heard, and only the requests the watcher makes: handle --trigger port-failed,\n"
        "service-stale (for nut-driver@ units, with PATH as the only ups.conf, default\n"
        "/etc/nut/ups.conf) and controller-died, and an over-current to record.\n"
        "\n"
        "Exit status: that of the request; 64 usage, 65 a request that is not one of those,\n"
        "77 a peer that is not the watcher.\n";
}

}  // namespace

int cmd_handover(const Args& args, Context& ctx) {
  std::string peer_user = "usbrecover-watch";
  std::string ups_conf = kDefaultUpsConf;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      handover_usage(ctx.out);
      return kExitOk;
    }
    if ((args[i] == "--peer-user" || args[i] == "--ups-conf") && i + 1 < args.size() &&
        !args[i + 1].empty()) {
      std::string& into = args[i] == "--peer-user" ? peer_user : ups_conf;
      into = args[++i];
      continue;
    }
    ctx.err << "usbrecover: handover: unknown or incomplete argument '" << terminal_safe(args[i]) << "'\n";
    handover_usage(ctx.err);
    return kExitUsage;
  }
  Logger log(ctx.err, Logger::stderr_is_journal());
  auto say = [&](Priority p, const std::string& msg) {
    log.log(LogLine{p, nullptr, terminal_safe("handover: " + msg), {}});
  };
  auto answer = [](int rc) {
    const char status = static_cast<char>(rc);
    (void)::send(0, &status, 1, MSG_NOSIGNAL);
    return rc;
  };
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(0, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
    say(Priority::Err, std::string("standard input is not a connection: ") + std::strerror(errno));
    return kExitUsage;
  }
  // Read before anything is answered: a connection closed with a request unread ends in a reset
  // on the watcher's side, and the answer with it.
  std::string request(kMaxHandOverRequest + 1, '\0');
  const ssize_t n = ::recv(0, request.data(), request.size(), 0);
  if (n < 0) {
    say(Priority::Err, std::string("cannot read the request: ") + std::strerror(errno));
    return answer(kExitData);
  }
  request.resize(static_cast<std::size_t>(n));
  // The socket is the watcher user's alone (SocketUser=, SocketMode=0600); the peer's
  // credentials, which the kernel took at connect(), say so again.
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  const bool known = ::getpwnam_r(peer_user.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found;
  if (!known || peer.uid != found->pw_uid) {
    say(Priority::Err, "refusing a request from process " + std::to_string(peer.pid) + " (uid " +
                           std::to_string(peer.uid) + "): only user " + peer_user +
                           (known ? " (uid " + std::to_string(found->pw_uid) + ")" : " (no such user)") +
                           ", which usbrecover-watch.service runs as, hands over");
    return answer(kExitNoPerm);
  }
  auto parsed = parse_hand_over(request, ups_conf);
  if (!parsed) {
    say(Priority::Err, parsed.error().message());
    return answer(kExitData);
  }
  const Args& a = *parsed;
  if (a[0] == "over-current") {
    auto reader = SnapshotReader::open(reader_options(ctx));
    if (!reader) {
      say(Priority::Err, reader.error().message());
      return answer(kExitSoftware);
    }
    record_over_current(*reader, ctx, a[1], static_cast<unsigned>(std::stoul(a[2])), log);
    return answer(kExitOk);
  }
  return answer(cmd_handle(Args(a.begin() + 1, a.end()), ctx));
}

}  // namespace usbrecover
