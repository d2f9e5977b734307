// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace usbrecover {

bool log_repeat(unsigned n) {
  return n <= 10 || n % 100 == 0;
}

bool Logger::stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long dev = 0, ino = 0;
  if (std::sscanf(stream, "%lu:%lu", &dev, &ino) != 2) return false;
  struct stat st {};
  return ::fstat(2, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void append_journal_field(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  if (value.find('\n') == std::string_view::npos) {
    out += '=';
    out += value;
  } else {
    // A value with a line break goes as KEY, newline, its size as 64-bit little-endian, itself.
    out += '\n';
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    out += value;
  }
  out += '\n';
}

std::string journal_entry(const LogLine& line) {
  std::string out;
  append_journal_field(out, "MESSAGE", "usbrecover: " + line.message);
  append_journal_field(out, "PRIORITY", std::to_string(static_cast<int>(line.priority)));
  append_journal_field(out, "SYSLOG_IDENTIFIER", "usbrecover");
  if (line.message_id) append_journal_field(out, "MESSAGE_ID", line.message_id);
  for (const auto& [k, v] : line.fields) append_journal_field(out, k, v);
  return out;
}

bool send_to_journal(const std::string& socket_path, const std::string& entry) {
  // One datagram; entries this program writes are a few hundred bytes, far below the socket's
  // limit (larger ones would need a memfd).
  if (entry.size() > 64 * 1024) return false;
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t n = ::sendto(fd, entry.data(), entry.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  return n == static_cast<ssize_t>(entry.size());
}

void Logger::log(const LogLine& line) {
  if (journal_ && send_to_journal(journal_socket_, journal_entry(line))) return;
  err_ << "usbrecover: " << line.message << '\n';
}

}  // namespace usbrecover
