// SPDX-License-Identifier: MIT
#pragma once

// Strings that came from a device (descriptor strings, serials) are hostile input: they may hold
// terminal escape sequences, bidi overrides or invalid UTF-8. These helpers make them safe to
// print; json.hpp does the same for JSON.

#include <cstddef>
#include <string>
#include <string_view>

namespace usbrecover {

/// Decodes one UTF-8 sequence at `s[at]`. Returns its length (1-4) and sets `cp`, or 0 when the
/// bytes there are not a valid, shortest-form sequence of a scalar value (no surrogates).
std::size_t utf8_decode(std::string_view s, std::size_t at, char32_t& cp);

/// `s` made safe for a terminal: valid printable UTF-8 passes; control characters (C0, DEL,
/// C1), bidi controls and invalid bytes become visible escapes (`\x1b`, `\u{202e}`); a backslash
/// becomes `\\` so that an escape in the output always means an escaped byte.
std::string terminal_safe(std::string_view s);

}  // namespace usbrecover
