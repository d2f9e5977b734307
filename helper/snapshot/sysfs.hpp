// SPDX-License-Identifier: MIT
#pragma once

// Small read-only helpers for sysfs files that libudev does not cover (binary attributes, port
// directories, symlinks). Plain POSIX calls, so umockdev's preload sees every access.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace usbrecover::sysfs {

/// The whole file (at most `limit` bytes), or nullopt when it cannot be opened or read.
std::optional<std::string> read_file(const std::string& path, std::size_t limit = 64 * 1024);
/// A sysfs attribute (or a one-line /proc file), with one read(2): sysfs makes an attribute whole on
/// the first read, at most a page, so no second read is needed to find its end. nullopt (errno
/// set) when it cannot be read.
std::optional<std::string> read_page(const std::string& path);
/// The first line of a text attribute without trailing whitespace, or nullopt.
std::optional<std::string> read_attr(const std::string& path);
/// The target of a symlink, or nullopt.
std::optional<std::string> read_link(const std::string& path);
/// The names in a directory ("." and ".." left out), sorted; empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& path);

/// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string dirname(std::string_view path);
/// "/a/b/c" -> "c".
std::string basename(std::string_view path);
/// Joins a symlink target to the directory holding the link and folds "." and "..":
/// resolve_link("/sys/devices/x/usb1-port1", "../../y/usb2-port1") == "/sys/devices/y/usb2-port1".
std::string resolve_link(std::string_view link_dir, std::string_view target);

}  // namespace usbrecover::sysfs
