// SPDX-License-Identifier: MIT
#include "commands/systemctl.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

extern char** environ;

namespace usbrecover {

std::string systemctl_path() {
  return ::access("/usr/bin/systemctl", X_OK) == 0 ? "/usr/bin/systemctl" : "/bin/systemctl";
}

Status run_systemctl(const std::vector<std::string>& args, const std::string& given) {
  const std::string path = given.empty() ? systemctl_path() : given;
  std::string line = path;
  std::vector<char*> argv{const_cast<char*>(path.c_str())};
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
    line += " " + a;
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0)
    return Error{.context = {}, .object = path, .reason = "cannot run", .errnum = rc};
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited != pid)
    return Error{.context = {}, .object = "'" + line + "'", .reason = "lost", .errnum = errno};
  if (WIFSIGNALED(status))
    return Error{.context = {},
                 .object = "'" + line + "'",
                 .reason = "killed by signal " + std::to_string(WTERMSIG(status)),
                 .errnum = 0};
  if (WEXITSTATUS(status) != 0)
    return Error{.context = {},
                 .object = "'" + line + "'",
                 .reason = "exited with status " + std::to_string(WEXITSTATUS(status)),
                 .errnum = 0};
  return Ok{};
}

}  // namespace usbrecover
