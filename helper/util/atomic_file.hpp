// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <string>

#include "error.hpp"

namespace usbrecover {

/// Replaces `path` with `content` atomically: a temporary file beside it, fsync, rename. The file
/// gets `mode` whatever the umask; a link at the temporary name is not followed.
Status write_atomically(const std::string& path, const std::string& content, mode_t mode);

}  // namespace usbrecover
