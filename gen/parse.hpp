// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "document.hpp"

namespace usbrecover::gen {

/// Largest table file read; a bigger one is refused before parsing.
inline constexpr std::size_t kMaxTableBytes = 4 * 1024 * 1024;

/// Parses TOML text into a Node tree. `file` names the text in locations. On a syntax error,
/// appends one Diagnostic and returns nullopt.
std::optional<Document> parse_toml(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace usbrecover::gen
