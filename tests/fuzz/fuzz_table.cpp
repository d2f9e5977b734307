// SPDX-License-Identifier: MIT
// libFuzzer entry for a table file, the way usbrecover-gen reads one: TOML text through toml++
// (parse.cpp) into validation, and a valid table through merge and every renderer. Whatever a
// table says, the generator must end with diagnostics, each one printable line, or files, and
// what it writes into udev rules and units must stay where it was put: no control character
// and no stray quote that would end a value early.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz.hpp"
#include "parse.hpp"
#include "render.hpp"
#include "validate.hpp"

namespace {

using usbrecover::fuzz::check;

/// Every line of a rules file that is not a comment has its values quoted: an even number of '"'.
bool quotes_balanced(const std::string& rules) {
  std::size_t start = 0;
  while (start < rules.size()) {
    std::size_t end = rules.find('\n', start);
    if (end == std::string::npos) end = rules.size();
    const std::string_view line(rules.data() + start, end - start);
    std::size_t quotes = 0;
    for (char c : line) quotes += c == '"' ? 1 : 0;
    if (!line.starts_with("#") && quotes % 2 != 0) return false;
    start = end + 1;
  }
  return true;
}

/// No ASCII control character but, where `newlines` allows them, line breaks.
bool no_control_characters(const std::string& text, bool newlines) {
  for (char c : text) {
    if ((static_cast<unsigned char>(c) < 0x20 && !(newlines && c == '\n')) || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover::gen;
  // usbrecover-gen refuses a bigger file before parsing it.
  if (size > kMaxTableBytes) return 0;
  const std::string file = "fuzz.toml";
  Diagnostics diags;
  auto root = parse_toml(usbrecover::fuzz::as_text(data, size), file, diags);
  if (!root) {
    check(diags.size() == 1 && no_control_characters(diags[0].str(), false),
          "a syntax error gives exactly one diagnostic, one printable line");
    return 0;
  }
  auto rules = validate_file(*root, diags);
  // A diagnostic is one line on a terminal, whatever bytes the table holds.
  for (const auto& d : diags)
    check(!d.message.empty() && no_control_characters(d.str(), false), "a diagnostic is one printable line");
  if (!diags.empty()) return 0;

  Table table = merge({file}, {rules});
  for (const auto& f : render(table, RenderOptions{"/usr/sbin/usbrecover", "/run/usbrecover"})) {
    check(no_control_characters(f.content, true), "a generated file holds only printable text and newlines");
    if (f.dir == OutputFile::Dir::Rules)
      check(quotes_balanced(f.content), "every rules line has its quotes paired");
  }
  return 0;
}
