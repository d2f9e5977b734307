// SPDX-License-Identifier: MIT
#include "util/log.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ostream>

#include "config.h"

#if USBRECOVER_HAVE_JOURNAL
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#endif

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

void Logger::log(const LogLine& line) {
#if USBRECOVER_HAVE_JOURNAL
  if (journal_) {
    std::vector<std::string> parts;
    parts.push_back("MESSAGE=usbrecover: " + line.message);
    parts.push_back("PRIORITY=" + std::to_string(static_cast<int>(line.priority)));
    parts.push_back("SYSLOG_IDENTIFIER=usbrecover");
    if (line.message_id) parts.push_back(std::string("MESSAGE_ID=") + line.message_id);
    for (const auto& [k, v] : line.fields) parts.push_back(k + "=" + v);
    std::vector<iovec> iov;
    for (auto& p : parts) iov.push_back({p.data(), p.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
  }
#endif
  err_ << "usbrecover: " << line.message << '\n';
}

}  // namespace usbrecover
