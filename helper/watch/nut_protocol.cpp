// SPDX-License-Identifier: MIT
#include "watch/nut_protocol.hpp"

namespace usbrecover {

DriverLine classify_driver_line(std::string_view line) {
  if (line == "PONG") return DriverLine::Pong;
  if (line == "DATASTALE") return DriverLine::DataStale;
  if (line == "DATAOK") return DriverLine::DataOk;
  if (line == "DUMPDONE") return DriverLine::DumpDone;
  return DriverLine::Other;
}

std::optional<std::string> upsd_status_request(std::string_view ups) {
  if (ups.empty() || ups.size() > 256) return std::nullopt;
  for (unsigned char c : ups) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return std::nullopt;
  }
  return "GET VAR " + std::string(ups) + " ups.status\n";
}

UpsdStatus parse_upsd_status(std::string_view line, std::string_view ups) {
  UpsdStatus s;
  if (line.starts_with("ERR ")) {
    const std::string_view code = line.substr(
        4, line.find(' ', 4) == std::string_view::npos ? std::string_view::npos : line.find(' ', 4) - 4);
    if (code == "DATA-STALE") {
      s.kind = UpsdStatus::Kind::Stale;
    } else if (code == "DRIVER-NOT-CONNECTED") {
      s.kind = UpsdStatus::Kind::DriverDown;
    } else if (code == "UNKNOWN-UPS") {
      s.kind = UpsdStatus::Kind::UnknownUps;
    } else {
      s.kind = UpsdStatus::Kind::OtherError;
      s.value = std::string(code);
    }
    return s;
  }
  // VAR <ups> ups.status "<value>"
  const std::string prefix = "VAR " + std::string(ups) + " ups.status \"";
  if (!line.starts_with(prefix) || line.size() < prefix.size() + 1 || line.back() != '"') return s;
  std::string value;
  const std::string_view quoted = line.substr(prefix.size(), line.size() - prefix.size() - 1);
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) {
      value += quoted[++i];
    } else if (quoted[i] == '"') {
      return s;  // an unescaped quote inside: not one value
    } else {
      value += quoted[i];
    }
  }
  s.kind = UpsdStatus::Kind::Fresh;
  s.value = std::move(value);
  return s;
}

std::vector<std::string> LineBuffer::add(std::string_view bytes) {
  std::vector<std::string> lines;
  if (overflowed_) return lines;
  for (char c : bytes) {
    if (c == '\n') {
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      lines.push_back(std::move(partial_));
      partial_.clear();
      continue;
    }
    if (partial_.size() >= max_line_) {
      overflowed_ = true;
      partial_.clear();
      return lines;
    }
    partial_ += c;
  }
  return lines;
}

}  // namespace usbrecover
