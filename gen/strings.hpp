// SPDX-License-Identifier: MIT
#pragma once

// Checks for the strings a table may carry into udev rules and unit files. Each returns an
// empty string when the value is acceptable, else the reason, written to follow "'key' ...".

#include <string>
#include <string_view>

namespace usbrecover::gen {

/// Free text (entry names): valid UTF-8, 1..200 bytes, no quotes, backslashes or control
/// characters (these could end a udev value or a comment line).
std::string check_text(std::string_view s, std::size_t max_bytes = 200);
/// A string matched exactly against a USB string descriptor: check_text() rules, at most 126
/// characters (the descriptor limit), and none of udev's pattern or substitution characters.
std::string check_descriptor_string(std::string_view s);
/// A system group name: [a-z_][a-z0-9_-]*, at most 32 bytes.
std::string check_group(std::string_view s);
/// A sysfs port path: bus-port[.port]*, numbers 1..255 (bus 1..999).
std::string check_port_path(std::string_view s);
/// A systemd service name: name.service or template@.service or template@instance.service.
std::string check_service(std::string_view s);
/// Edit distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

/// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1 when the
/// bytes are not valid UTF-8 (overlong, surrogate, out of range, truncated).
long decode_utf8(std::string_view s, std::size_t& i);

/// "U+00E9" for a code point.
std::string codepoint_name(long cp);

}  // namespace usbrecover::gen
