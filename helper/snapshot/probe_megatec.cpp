// SPDX-License-Identifier: MIT
#include "snapshot/probe_megatec.hpp"

#include <algorithm>
#include <cstdio>

namespace usbrecover {

namespace {

// How much of a reply a detail quotes: enough to recognise "(230.0 230.0 ..." or garbage,
// short enough for a journal line.
constexpr std::size_t kQuoted = 16;

}  // namespace

MegatecShape megatec_shape(std::uint16_t vendor, std::uint16_t product) {
  if (vendor == 0x06da && product == 0x0003) {
    return {.style = MegatecStyle::Ippon,
            .report_value = 0x2,
            .read_size = 64,
            .max_reply = 64,
            .single_read = true};
  }
  return {.style = MegatecStyle::Cypress,
          .report_value = 0x200,
          .read_size = 8,
          .max_reply = 64,
          .single_read = false};
}

std::vector<std::array<std::uint8_t, 8>> megatec_chunks(std::string_view command) {
  std::vector<std::array<std::uint8_t, 8>> chunks;
  for (std::size_t i = 0; i < command.size(); i += 8) {
    std::array<std::uint8_t, 8> chunk{};
    const std::size_t n = std::min<std::size_t>(8, command.size() - i);
    std::copy_n(command.begin() + static_cast<std::ptrdiff_t>(i), n, chunk.begin());
    chunks.push_back(chunk);
  }
  return chunks;
}

bool megatec_reply_complete(std::span<const std::uint8_t> received) {
  return std::find(received.begin(), received.end(), '\r') != received.end();
}

std::string printable_bytes(std::span<const std::uint8_t> bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(bytes.size(), max_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = bytes[i];
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out += static_cast<char>(c);
        } else {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        }
    }
  }
  if (bytes.size() > n) out += "...";
  return out;
}

ProbeResult judge_megatec_reply(std::span<const std::uint8_t> received) {
  using State = ProbeResult::State;
  if (received.empty()) return {State::Failed, "Q1 got an empty reply"};
  const auto cr = std::find(received.begin(), received.end(), '\r');
  if (cr == received.end()) {
    return {State::Failed, "Q1 reply '" + printable_bytes(received, kQuoted) + "' does not end with \\r"};
  }
  // Bytes after the first '\r' are the rest of the last 8-byte read (Cypress) or of the fixed
  // 64-byte report (Ippon): padding, not part of the answer.
  const auto reply = received.first(static_cast<std::size_t>(cr - received.begin()) + 1);
  if (reply.front() != '(') {
    return {State::Failed, "Q1 reply '" + printable_bytes(reply, kQuoted) + "' does not start with '('"};
  }
  // Any "(...\r" line counts, even "(NAK\r": the bridge and the UPS behind it are talking, which
  // is all a liveness probe asks. Whether the values make sense is NUT's business.
  return {State::Healthy, "Q1 answered " + std::to_string(reply.size()) + " bytes: '" +
                              printable_bytes(reply, kQuoted) + "'"};
}

}  // namespace usbrecover
