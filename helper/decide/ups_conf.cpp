// SPDX-License-Identifier: MIT
#include "decide/ups_conf.hpp"

#include <regex.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

#include "util/md5.hpp"
#include "util/regex_cost.hpp"

namespace usbrecover {

namespace {

/// NUT drivers that talk to their UPS over USB only: they ignore `port` (usually "auto").
constexpr std::array<std::string_view, 7> kUsbDrivers = {"usbhid-ups",     "blazer_usb",   "bcmxcp_usb",
                                                         "tripplite_usb",  "richcomm_usb", "riello_usb",
                                                         "nutdrv_atcl_usb"};

/// nutdrv_qx speaks USB with `port = auto` and serial with a port under /dev/.
constexpr std::string_view kUsbOrSerialDriver = "nutdrv_qx";

/// Drivers that reach their UPS over the network or simulate one: never a device of ours, whatever
/// their port says (drivers that also speak TCP, like apc_modbus, name a host there, not /dev/).
constexpr std::array<std::string_view, 7> kNetworkDrivers = {
    "snmp-ups", "netxml-ups", "nut-ipmipsu", "dummy-ups", "clone", "clone-outlet", "apcupsd-ups"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, const std::string& driver) {
  return std::find(list.begin(), list.end(), driver) != list.end();
}

// NUT 2.8.0's parseconf limits: words beyond 32 on a line and characters beyond 512 in a word
// are dropped.
constexpr std::size_t kMaxWords = 32;
constexpr std::size_t kMaxWordLength = 512;

/// NUT's parseconf, one logical line at a time, over the whole text (a quoted word and a
/// backslash-newline run across physical lines).
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  struct Line {
    std::vector<std::string> words;
    unsigned line = 0;            ///< physical line where it started
    std::optional<unsigned> bad;  ///< physical line of an unescaped '#' in quotes (NUT skips the line)
  };

  /// The next logical line; nullopt at the end.
  std::optional<Line> next() {
    Line out;
    out.line = line_;
    State state = State::FindWordStart;
    words_.clear();
    word_.clear();
    while (pos_ < text_.size()) {
      const auto ch = static_cast<unsigned char>(text_[pos_++]);
      if (ch == '\n') ++line_;
      state = step(state, ch);
      if (state == State::ParseError) {
        out.bad = ch == '\n' ? line_ - 1 : line_;
        out.words = std::move(words_);
        return out;
      }
      if (state == State::EndOfLine) {
        out.words = std::move(words_);
        return out;
      }
    }
    // A file that does not end in a newline: NUT keeps the line only when it already has a word.
    if (words_.empty()) return std::nullopt;
    if (!word_.empty()) end_word();
    out.words = std::move(words_);
    return out;
  }

 private:
  enum class State {
    FindWordStart,
    FindEol,
    QuoteCollect,
    QuoteLiteral,
    Collect,
    CollectLiteral,
    EndOfLine,
    ParseError
  };

  static bool space(unsigned char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

  void add(unsigned char ch) {
    // NUT drops characters outside space..DEL (CVE-2012-2944), and a word's excess.
    if (ch < 0x20 || ch > 0x7f || word_.size() >= kMaxWordLength) return;
    word_ += static_cast<char>(ch);
  }
  void end_word() {
    if (words_.size() < kMaxWords) words_.push_back(word_);
    word_.clear();
  }

  State find_word_start(unsigned char ch) {
    if (ch == '\n') return State::EndOfLine;
    if (ch == '#') return State::FindEol;
    if (space(ch)) return State::FindWordStart;
    if (ch == '\\') return State::CollectLiteral;
    if (ch == '"') return State::QuoteCollect;
    add(ch);
    if (ch == '=') {  // '=' is always a word of its own
      end_word();
      return State::FindWordStart;
    }
    return State::Collect;
  }

  State step(State state, unsigned char ch) {
    switch (state) {
      case State::FindWordStart:
        return find_word_start(ch);
      case State::FindEol:
        return ch == '\n' ? State::EndOfLine : State::FindEol;
      case State::QuoteCollect:
        if (ch == '#') {  // "Unbalanced word due to unescaped # in quotes"
          end_word();
          return State::ParseError;
        }
        if (ch == '"') {
          end_word();
          return State::FindWordStart;
        }
        if (ch == '\\') return State::QuoteLiteral;
        add(ch);
        return State::QuoteCollect;
      case State::QuoteLiteral:
        if (ch != '\n') add(ch);
        return State::QuoteCollect;
      case State::Collect:
        if (ch == '#') {
          end_word();
          return State::FindEol;
        }
        if (ch == '\n') {
          end_word();
          return State::EndOfLine;
        }
        if (space(ch)) {
          end_word();
          return State::FindWordStart;
        }
        if (ch == '=') {
          end_word();
          find_word_start(ch);
          return State::FindWordStart;
        }
        if (ch == '\\') return State::CollectLiteral;
        add(ch);
        return State::Collect;
      case State::CollectLiteral:
        if (ch != '\n') add(ch);
        return State::Collect;
      case State::EndOfLine:
      case State::ParseError:
        break;
    }
    return state;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  unsigned line_ = 1;
  std::vector<std::string> words_;
  std::string word_;
};

/// What NUT compiles for a match value: a POSIX extended regular expression, ignoring case, that
/// must match the whole value.
std::string anchored(const std::string& pattern) {
  return "^(" + pattern + ")$";
}

/// Compiles a NUT match value as NUT does; nullopt when regcomp refuses it or when it would cost
/// seconds or gigabytes to compile or run (costly_regex), as it would in NUT's driver, which
/// hands the same value to regcomp.
std::optional<regex_t> compile(const std::string& pattern) {
  const std::string re_text = anchored(pattern);
  if (!costly_regex(re_text).empty()) return std::nullopt;
  regex_t re;
  if (::regcomp(&re, re_text.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) return std::nullopt;
  return re;
}

bool full_match(const std::string& pattern, const std::string& value) {
  auto re = compile(pattern);
  if (!re) return false;
  bool hit = ::regexec(&*re, value.c_str(), 0, nullptr, 0) == 0;
  ::regfree(&*re);
  return hit;
}

}  // namespace

std::optional<std::string> UpsSection::get(std::string_view key) const {
  std::optional<std::string> v;
  for (const auto& setting : settings)
    if (setting.key == key) v = setting.value.value_or("");
  return v;
}

UpsConf parse_ups_conf(std::string_view text) {
  UpsConf conf;
  Tokenizer tokens(text);
  while (auto line = tokens.next()) {
    if (line->bad) {
      conf.errors.push_back({*line->bad,
                             conf.sections.empty() ? std::nullopt : std::optional(conf.sections.back().name),
                             "unbalanced quotes: unescaped '#' inside a quoted value (NUT skips this line)"});
      continue;
    }
    const auto& w = line->words;
    if (w.empty()) continue;
    // As NUT's upsconf: "[name]" as the first word starts a section (other words ignored); one
    // word is a flag; "key = value" sets a value (words after it ignored); anything else is
    // ignored.
    if (w[0].size() >= 2 && w[0].front() == '[' && w[0].back() == ']') {
      conf.sections.push_back({w[0].substr(1, w[0].size() - 2), line->line, {}});
      continue;
    }
    UpsSetting setting{w[0], std::nullopt, line->line};
    if (w.size() >= 3 && w[1] == "=") {
      setting.value = w[2];
    } else if (w.size() != 1) {
      continue;
    }
    (conf.sections.empty() ? conf.globals : conf.sections.back().settings).push_back(std::move(setting));
  }
  return conf;
}

std::optional<std::string> nut_section_for_instance(const UpsConf& conf, std::string_view instance) {
  for (const auto& s : conf.sections)
    if (s.name == instance) return s.name;
  constexpr std::string_view kPrefix = "MD5_";
  if (!instance.starts_with(kPrefix)) return std::nullopt;
  std::string hex(instance.substr(kPrefix.size()));
  if (hex.size() != 32) return std::nullopt;
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& s : conf.sections)
    if (md5_hex(s.name + "\n") == hex) return s.name;
  return std::nullopt;
}

bool NutMatcher::matches(const UsbDevice& d) const {
  auto ok = [](const std::optional<std::string>& pattern, const std::string& value) {
    return !pattern || full_match(*pattern, value);
  };
  // NUT prints bus and device numbers with three digits ("001"), as libusb's paths do.
  char busnum[8], devnum[8];
  std::snprintf(busnum, sizeof busnum, "%03u", d.busnum);
  std::snprintf(devnum, sizeof devnum, "%03u", d.devnum);
  auto last_port = d.port_path.substr(d.port_path.find_last_of(".-") + 1);
  return ok(vendorid, hex4(d.vendor)) && ok(productid, hex4(d.product)) && ok(serial, d.serial) &&
         ok(bus, busnum) && ok(device, devnum) && ok(busport, last_port) && ok(vendor, d.manufacturer) &&
         ok(product, d.product_name);
}

Result<NutLookup> nut_matcher(const UpsConf& conf, const std::string& name, const std::string& file) {
  // NUT applies every section of the name in turn; later values win.
  UpsSection merged{name, 0, {}};
  bool found = false;
  for (const auto& s : conf.sections) {
    if (s.name != name) continue;
    found = true;
    merged.settings.insert(merged.settings.end(), s.settings.begin(), s.settings.end());
  }
  if (!found) return Error{.context = {}, .object = file, .reason = "no section [" + name + "]", .errnum = 0};
  for (const auto& e : conf.errors) {
    if (e.section == name)
      return Error{
          .context = {}, .object = file + ":" + std::to_string(e.line), .reason = e.reason, .errnum = 0};
  }
  const UpsSection* it = &merged;
  NutLookup out;
  std::string driver = it->get("driver").value_or("");
  std::string port = it->get("port").value_or("");
  bool usb = listed(kUsbDrivers, driver) || (driver == kUsbOrSerialDriver && !port.starts_with("/dev/"));
  if (!usb) {
    if (!driver.empty() && !listed(kNetworkDrivers, driver) && port.starts_with("/dev/")) {
      out.serial_port = port;
      return out;
    }
    out.not_usb = true;
    out.why =
        driver.empty() ? "section [" + name + "] names no driver" : "driver " + driver + " does not talk USB";
    return out;
  }
  NutMatcher m;
  m.section = name;
  m.driver = driver;
  m.vendorid = it->get("vendorid");
  m.productid = it->get("productid");
  m.serial = it->get("serial");
  m.bus = it->get("bus");
  m.device = it->get("device");
  m.busport = it->get("busport");
  m.vendor = it->get("vendor");
  m.product = it->get("product");
  // Every pattern must compile, as the driver would refuse it; name the line that set it.
  for (const char* key :
       {"vendorid", "productid", "serial", "bus", "device", "busport", "vendor", "product"}) {
    const UpsSetting* last = nullptr;
    for (const auto& setting : it->settings)
      if (setting.key == key) last = &setting;
    if (last == nullptr) continue;
    const std::string value = last->value.value_or("");
    const std::string where = file + ":" + std::to_string(last->line);
    if (auto why = costly_regex(anchored(value)); !why.empty())
      return Error{.context = {},
                   .object = where,
                   .reason = "'" + value + "' is too costly a pattern for '" + key + "': " + why,
                   .errnum = 0};
    auto re = compile(value);
    if (!re)
      return Error{.context = {},
                   .object = where,
                   .reason = "'" + value + "' is not a valid pattern for '" + key + "'",
                   .errnum = 0};
    ::regfree(&*re);
  }
  out.matcher = std::move(m);
  return out;
}

}  // namespace usbrecover
