// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include "document.hpp"
#include "table.hpp"

namespace usbrecover::gen {

/// Checks one parsed table file against schema 1 and turns it into rules (one per id),
/// applying the built-in defaults, then the file's [defaults], then each entry's own keys.
/// Every problem becomes one Diagnostic; the returned rules are meaningful only when none was
/// added. Two entries with the same match and a different policy are an error here.
std::vector<DeviceRule> validate_file(const Document& doc, Diagnostics& diags);

/// Merges files in the order they were read: a later file's rule replaces an earlier file's
/// rule with the same match (as quirks files and drop-ins override). Returns the sorted table.
/// Takes the rules by value: pass them with std::move to spare a copy.
Table merge(const std::vector<std::string>& sources, std::vector<std::vector<DeviceRule>> files);

/// What fails to enumerate at a port is recovered by the policy of the entries that name the
/// port: they must agree on it. One diagnostic per entry that does not, at its id.
Diagnostics check_ports(const Table& table);

/// Quotes a user string for a message in single quotes: printable ASCII as is, anything else as \xNN, so a
/// hostile table cannot put control characters on the terminal.
std::string quoted(std::string_view s);

}  // namespace usbrecover::gen
