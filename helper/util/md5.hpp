// SPDX-License-Identifier: MIT
#pragma once

// MD5 (RFC 1321), for one purpose: NUT's driver enumerator names the systemd instance of a
// ups.conf section whose name is not a valid unit name "MD5_" followed by the MD5 of the name
// and a newline, and the helper must find the section back from that name. Not for security.

#include <string>
#include <string_view>

namespace usbrecover {

/// The MD5 of `data` as 32 lower-case hex digits.
std::string md5_hex(std::string_view data);

}  // namespace usbrecover
