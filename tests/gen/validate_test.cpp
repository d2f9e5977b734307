// SPDX-License-Identifier: MIT
// One test per rejection class, each asserting the exact message a user sees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "parse.hpp"
#include "policy.hpp"
#include "validate.hpp"

namespace usbrecover::gen {
namespace {

/// Every diagnostic for `text` read as "t.toml", in the order they were found.
std::vector<std::string> errors(std::string_view text) {
  Diagnostics diags;
  if (auto root = parse_toml(text, "t.toml", diags)) validate_file(*root, diags);
  std::vector<std::string> out;
  for (const auto& d : diags) out.push_back(d.str());
  return out;
}

std::vector<DeviceRule> rules(std::string_view text) {
  Diagnostics diags;
  auto root = parse_toml(text, "t.toml", diags);
  EXPECT_TRUE(root.has_value());
  auto r = validate_file(*root, diags);
  EXPECT_TRUE(diags.empty()) << diags.front().str();
  return r;
}

using ::testing::ElementsAre;

constexpr const char* kHead = "schema = 1\n";

TEST(Validate, AcceptsAMinimalEntryWithBuiltInDefaults) {
  auto r = rules("schema = 1\n[[device]]\nname = \"UPS\"\nids = [\"0665:5161\"]\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].match.id, (UsbId{0x0665, 0x5161}));
  EXPECT_EQ(r[0].policy, Policy{});
  EXPECT_EQ(r[0].source(), "t.toml:2");
  EXPECT_EQ(r[0].id.str(), "t.toml:4:8");
}

TEST(Validate, EntryKeysOverrideFileDefaultsWhichOverrideBuiltIns) {
  auto r = rules(
      "schema = 1\n[defaults]\nmax_resets = 5\nwindow = \"10m\"\nprobe = \"descriptor\"\n"
      "[[device]]\nname = \"a\"\nids = [\"0001:0000\"]\nprobe = \"none\"\ngroup = \"nut\"\nmode = "
      "\"0660\"\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].policy.max_resets, 5u);
  EXPECT_EQ(r[0].policy.window, std::chrono::minutes(10));
  EXPECT_EQ(r[0].policy.probe, Probe::None);
  EXPECT_EQ(r[0].policy.group, "nut");
  EXPECT_EQ(r[0].policy.mode, 0660u);
  EXPECT_EQ(r[0].policy.cooldown, std::chrono::seconds(30));
}

TEST(Validate, OneRulePerId) {
  auto r = rules("schema = 1\n[[device]]\nname = \"a\"\nids = [\"06da:0002\", \"06da:*\"]\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(to_string(r[1].match.id), "06da:*");
}

TEST(Validate, RejectsSyntaxErrorsWithTheirPosition) {
  auto e = errors("schema = 1\n[[device]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].starts_with("t.toml:2:")) << e[0];
  EXPECT_NE(e[0].find("syntax error: "), std::string::npos) << e[0];
}

// Regression (fuzz-table): toml++ quotes what it saw in its messages, control characters
// included, so a table could put escape sequences on the terminal of whoever checks it.
TEST(Validate, SyntaxErrorsShowControlCharactersEscaped) {
  EXPECT_THAT(
      errors("schema = 1\n[defaults]\nkeep_awake = fals\x1b[2J\n"),
      ElementsAre(
          "t.toml:3:18: syntax error: Error while parsing boolean: expected 'false', saw 'fals\\x1b'"));
  EXPECT_THAT(
      errors("schema = 1\n[defaults]\nkeep_awake = fals\r\n"),
      ElementsAre(
          "t.toml:3:18: syntax error: Error while parsing boolean: expected 'false', saw 'fals\\x0d'"));
}

TEST(Validate, RejectsInvalidUtf8) {
  auto e = errors("schema = 1\n[[device]]\nname = \"\xff\xfe\"\nids = [\"0665:5161\"]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].starts_with("t.toml:3:")) << e[0];
  EXPECT_NE(e[0].find("syntax error"), std::string::npos);
  // The raw bytes never reach the message.
  EXPECT_EQ(e[0].find('\xff'), std::string::npos);
}

// Regression (fuzz-table): toml++ 3.3.0 asks whether a non-ASCII character outside a string is
// white space and, for most of U+00A1..U+049A and a few other ranges, reaches an unreachable
// branch (undefined behaviour). parse_toml() refuses such characters before toml++ reads them.
TEST(Validate, RejectsNonAsciiOutsideStringsBeforeTheTomlReaderSeesIt) {
  EXPECT_THAT(errors("schema = 1\n\xc2\xa7 = 1\n"),
              ElementsAre("t.toml:2:1: syntax error: U+00A7 outside a string or a comment"));
  EXPECT_THAT(errors("schema = 1\xef\xbb\x95\n"),
              ElementsAre("t.toml:1:11: syntax error: U+FED5 outside a string or a comment"));
  EXPECT_THAT(errors("schema = 1\n[[device]]\nname = \"\xd0\x98\" \xd0\x98\n"),
              ElementsAre("t.toml:3:12: syntax error: U+0418 outside a string or a comment"));
  EXPECT_THAT(
      errors("schema = 1\nx = \"\"\"\\\n  \xc2\xa7\"\"\"\n"),
      ElementsAre("t.toml:3:3: syntax error: U+00A7 after a line-ending backslash in a multi-line string"));
  EXPECT_THAT(errors("schema = 1\nx = \"\"\"a\\\xc2\xa7\"\"\"\n"),
              ElementsAre("t.toml:2:10: syntax error: U+00A7 after a backslash in a multi-line string"));
  // A quote where no string can start is part of a bad token: toml++ reads on past it.
  EXPECT_THAT(errors("schema = 1\nx = 1.'\xc2\xa7'\n"),
              ElementsAre("t.toml:2:8: syntax error: U+00A7 outside a string or a comment"));
  // Nor does a bracket or an '=' in the middle of a value open an array, a table or a value.
  EXPECT_THAT(errors("schema = 1\nx = 0[\"\xef\xbb\xb7\"\n"),
              ElementsAre("t.toml:2:8: syntax error: U+FEF7 outside a string or a comment"));
  EXPECT_THAT(errors("schema = 1\nx = a{\"\xc2\xa7\"}\n"),
              ElementsAre("t.toml:2:8: syntax error: U+00A7 outside a string or a comment"));
  EXPECT_THAT(errors("schema = 1\nx = 1=\"\xc2\xa7\"\n"),
              ElementsAre("t.toml:2:8: syntax error: U+00A7 outside a string or a comment"));
}

TEST(Validate, AcceptsNonAsciiInStringsAndComments) {
  // toml++ reads the whole file: validation then finds the escaped quote and the unknown key.
  EXPECT_THAT(errors("\xef\xbb\xbfschema = 1  # Gr\xc3\xbc\xc3\x9f\x65\n"
                     "[[device]]\n"
                     "name = \"Gr\xc3\xbc\xc3\x9f\x65 \xd0\x98 \\u00a7\"\n"
                     "ids = ['0665:5161']\n"
                     "product = \"\"\"\\\n  a\xc2\xa7\\\"\"\"\xc2\xa7\"\"\"\n"
                     "\"\xc2\xa7 key\" = '''\xc2\xa7 ''\xc2\xa7'''\n"),
              ElementsAre("t.toml:5:11: 'product' 'a\\xc2\\xa7\"\"\"\\xc2\\xa7' contains a double quote",
                          "t.toml:7:1: unknown key '\\xc2\\xa7 key' in [[device]]"));
}

TEST(Validate, RejectsMissingSchema) {
  EXPECT_THAT(errors("[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n"),
              ElementsAre("t.toml:1:1: missing 'schema = 1' (every table starts with it)"));
}

TEST(Validate, RejectsUnknownSchema) {
  EXPECT_THAT(errors("schema = 2\n"),
              ElementsAre("t.toml:1:10: unknown schema 2 (this usbrecover-gen reads schema 1)"));
  EXPECT_THAT(errors("schema = \"1\"\n"),
              ElementsAre("t.toml:1:10: 'schema' must be an integer, not a string"));
}

TEST(Validate, RejectsUnknownKeysSuggestingTheNearestOne) {
  EXPECT_THAT(
      errors(std::string(kHead) + "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\nprocuct = \"x\"\n"),
      ElementsAre("t.toml:5:1: unknown key 'procuct' in [[device]] (did you mean 'product'?)"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmax_reset = 3\n"),
              ElementsAre("t.toml:3:1: unknown key 'max_reset' in [defaults] (did you mean 'max_resets'?)"));
  EXPECT_THAT(errors(std::string(kHead) + "colour = 1\n"), ElementsAre("t.toml:2:1: unknown key 'colour'"));
  EXPECT_THAT(errors(std::string(kHead) + "devices = []\n"),
              ElementsAre("t.toml:2:1: unknown key 'devices' (did you mean 'device'?)"));
}

TEST(Validate, RejectsWrongTypes) {
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nname = \"a\"\nids = \"0665:5161\"\n"),
              ElementsAre("t.toml:4:7: 'ids' must be an array of \"VVVV:PPPP\" strings, not a string"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nkeep_awake = \"yes\"\n"),
              ElementsAre("t.toml:3:14: 'keep_awake' must be true or false, not a string"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmax_resets = 1.5\n"),
              ElementsAre("t.toml:3:14: 'max_resets' must be an integer, not a float"));
  EXPECT_THAT(
      errors(std::string(kHead) + "[device]\nname = \"a\"\n"),
      ElementsAre("t.toml:2:2: 'device' must be written [[device]] (an array of tables), not [device]"));
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nname = \"a\"\nids = [5161]\n"),
              ElementsAre("t.toml:4:8: 'ids' must list strings, not an integer"));
}

TEST(Validate, RejectsMalformedIds) {
  EXPECT_THAT(
      errors(std::string(kHead) +
             "[[device]]\nname = \"a\"\nids = [\"665:5161\", \"0665-5161\", \"0665:51g1\"]\n"),
      ElementsAre("t.toml:4:8: bad id '665:5161' (expected four hex digits, ':', and four hex digits or "
                  "'*', e.g. \"0665:5161\")",
                  "t.toml:4:20: bad id '0665-5161' (expected four hex digits, ':', and four hex digits or "
                  "'*', e.g. \"0665:5161\")",
                  "t.toml:4:33: bad id '0665:51g1' (expected four hex digits, ':', and four hex digits or "
                  "'*', e.g. \"0665:5161\")"));
}

TEST(Validate, RejectsEmptyAndMissingIds) {
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nname = \"a\"\nids = []\n"),
              ElementsAre("t.toml:4:7: 'ids' is empty; list at least one \"VVVV:PPPP\""));
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nname = \"a\"\n"),
              ElementsAre("t.toml:2:1: [[device]] entry has no 'ids'"));
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nids = [\"0665:5161\"]\n"),
              ElementsAre("t.toml:2:1: [[device]] entry has no 'name'"));
  EXPECT_THAT(errors(std::string(kHead) + "[[device]]\nname = \"a\"\nids = [\"0665:5161\", \"0665:5161\"]\n"),
              ElementsAre("t.toml:4:21: id 0665:5161 is listed twice in this entry"));
}

TEST(Validate, RejectsTheSameMatchTwiceWithAConflictingPolicy) {
  const char* text =
      "schema = 1\n"
      "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n"
      "[[device]]\nname = \"b\"\nids = [\"0665:5161\"]\nmax_resets = 9\n";
  EXPECT_THAT(
      errors(text),
      ElementsAre("t.toml:7:8: 0665:5161 is listed again with a different policy (first at t.toml:4:8)"));
}

TEST(Validate, AcceptsTheSameMatchTwiceWhenItSaysTheSameThing) {
  auto r = rules(
      "schema = 1\n[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n"
      "[[device]]\nname = \"b\"\nids = [\"0665:5161\"]\n"
      "[[device]]\nname = \"c\"\nids = [\"0665:5161\"]\nserial = \"X1\"\nmax_resets = 9\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "a");
  EXPECT_EQ(r[1].match.serial, "X1");
}

TEST(Validate, RejectsUnknownMethodsAndProbes) {
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmethods = [\"device\", \"reboot\"]\n"),
              ElementsAre("t.toml:3:22: unknown method 'reboot' (expected one of: device, warm-reset, "
                          "rebind, authorize, port-power, hub, controller)"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmethods = [\"hub\", \"hub\"]\n"),
              ElementsAre("t.toml:3:19: method 'hub' is listed twice"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmethods = []\n"),
              ElementsAre("t.toml:3:11: 'methods' is empty; list at least one method (device, warm-reset, "
                          "rebind, authorize, port-power, hub, controller)"));
  EXPECT_THAT(
      errors(std::string(kHead) + "[defaults]\nprobe = \"ping\"\n"),
      ElementsAre(
          "t.toml:3:9: unknown probe 'ping' (expected one of: none, open, descriptor, megatec-q1, control)"));
}

TEST(Validate, RejectsBadDurations) {
  const std::string expected_tail =
      " (expected a number and ms, s, m or h, e.g. \"30s\" or \"1h\", at most 30 days)";
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nwindow = \"5 min\"\n"),
              ElementsAre("t.toml:3:10: bad duration '5 min' for 'window'" + expected_tail));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\ncooldown = \"-1s\"\n"),
              ElementsAre("t.toml:3:12: bad duration '-1s' for 'cooldown'" + expected_tail));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\ncooldown = \"31d\"\n"),
              ElementsAre("t.toml:3:12: bad duration '31d' for 'cooldown'" + expected_tail));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nwindow = \"0s\"\n"),
              ElementsAre("t.toml:3:10: 'window' must be longer than 0s"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmax_resets = -1\n"),
              ElementsAre("t.toml:3:14: 'max_resets' must be between 0 and 1000, not -1"));
}

TEST(Validate, RejectsUnsafeOrMalformedModes) {
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmode = \"0666\"\n"),
              ElementsAre("t.toml:3:8: mode '0666' is world-writable; refusing"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmode = \"4664\"\n"),
              ElementsAre("t.toml:3:8: mode '4664' sets the setuid, setgid or sticky bit; refusing"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmode = \"0o664\"\n"),
              ElementsAre("t.toml:3:8: bad mode '0o664' (expected 3 or 4 octal digits, e.g. \"0664\")"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nmode = 664\n"),
              ElementsAre("t.toml:3:8: 'mode' must be a string, not an integer"));
}

TEST(Validate, RejectsInvalidGroupAndUnitNames) {
  EXPECT_THAT(
      errors(std::string(kHead) + "[defaults]\ngroup = \"Nut Users\"\n"),
      ElementsAre("t.toml:3:9: 'group' 'Nut Users' is not a valid group name (lower-case letters, digits, "
                  "'_' and '-', e.g. \"nut\")"));
  const std::string dev = std::string(kHead) + "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n";
  EXPECT_THAT(errors(dev + "services = [\"nut driver.service\"]\n"),
              ElementsAre("t.toml:5:13: 'services' 'nut driver.service' is not a service name (e.g. "
                          "\"nut-driver@.service\" or \"myups.service\")"));
  EXPECT_THAT(errors(dev + "services = [\"nut.socket\"]\n"),
              ElementsAre("t.toml:5:13: 'services' 'nut.socket' is not a service name (e.g. "
                          "\"nut-driver@.service\" or \"myups.service\")"));
  EXPECT_THAT(
      errors(dev + "services = [\"nut-driver@myups.service\"]\n"),
      ElementsAre("t.toml:5:13: 'services' 'nut-driver@myups.service' is one instance; name the template "
                  "\"nut-driver@.service\" (nut-driver-enumerator removes per-instance drop-ins; usbrecover "
                  "finds each instance's device in ups.conf)"));
  EXPECT_THAT(errors(dev + "services = [\"usbrecover@.service\"]\n"),
              ElementsAre("t.toml:5:13: 'services' 'usbrecover@.service' is usbrecover's own unit"));
  EXPECT_THAT(
      errors(dev + "port = \"1.2\"\n"),
      ElementsAre("t.toml:5:8: 'port' '1.2' is not a port path (bus-port[.port...], e.g. \"1-1.2\")"));
}

TEST(Validate, RejectsStringsThatCouldInjectIntoRulesOrUnits) {
  const std::string dev = std::string(kHead) + "[[device]]\nids = [\"0665:5161\"]\n";
  EXPECT_THAT(errors(dev + "name = \"a\\\"b\"\n"),
              ElementsAre("t.toml:4:8: 'name' 'a\"b' contains a double quote"));
  EXPECT_THAT(errors(dev + "name = 'a\\b'\n"),
              ElementsAre("t.toml:4:8: 'name' 'a\\x5cb' contains a backslash"));
  EXPECT_THAT(
      errors(dev + "name = \"a\\nRUN+=\\\"/bin/sh\\\"\"\n"),
      ElementsAre("t.toml:4:8: 'name' 'a\\x0aRUN+=\"/bin/sh\"' contains a control character (U+000A)"));
  EXPECT_THAT(errors(dev + "name = \"a\\u0085b\"\n"),
              ElementsAre("t.toml:4:8: 'name' 'a\\xc2\\x85b' contains a control character (U+0085)"));
  EXPECT_THAT(errors(dev + "name = \"a\"\nproduct = \"UPS*\"\n"),
              ElementsAre("t.toml:5:11: 'product' 'UPS*' contains '*', which udev would treat as a pattern "
                          "(matches are exact)"));
  EXPECT_THAT(
      errors(dev + "name = \"a\"\nserial = \"$devpath\"\n"),
      ElementsAre("t.toml:5:10: 'serial' '$devpath' contains '$', which udev and systemd would substitute"));
  EXPECT_THAT(errors(dev + "name = \"\"\n"), ElementsAre("t.toml:4:8: 'name' '' is empty"));
  EXPECT_THAT(errors(dev + "name = \"a\"\nmanufacturer = \"" + std::string(127, 'x') + "\"\n"),
              ElementsAre("t.toml:5:16: 'manufacturer' '" + std::string(127, 'x') +
                          "' is longer than a USB string descriptor (126 characters)"));
}

TEST(Validate, RejectsServicesOnVendorWildcards) {
  EXPECT_THAT(
      errors(std::string(kHead) +
             "[[device]]\nname = \"a\"\nids = [\"06da:*\"]\nservices = [\"upsd.service\"]\n"),
      ElementsAre("t.toml:4:8: id 06da:* matches a whole vendor; 'services' drop-ins need exact ids to find "
                  "their device"));
}

TEST(Validate, ReportsEveryProblemNotJustTheFirst) {
  auto e = errors(
      "schema = 1\n[defaults]\nprobe = \"x\"\nmode = \"0777\"\n[[device]]\nname = \"a\"\nids = [\"zz\"]\n");
  EXPECT_EQ(e.size(), 3u);
}

TEST(Merge, LaterFilesOverrideEarlierOnesMatchByMatch) {
  auto first = rules("schema = 1\n[[device]]\nname = \"shipped\"\nids = [\"0665:5161\", \"06da:0003\"]\n");
  Diagnostics diags;
  auto root = parse_toml("schema = 1\n[[device]]\nname = \"local\"\nids = [\"0665:5161\"]\nmax_resets = 1\n",
                         "l.toml", diags);
  auto second = validate_file(*root, diags);
  ASSERT_TRUE(diags.empty());
  Table t = merge({"t.toml", "l.toml"}, {first, second});
  ASSERT_EQ(t.rules.size(), 2u);
  EXPECT_EQ(t.rules[0].name, "local");
  EXPECT_EQ(t.rules[0].policy.max_resets, 1u);
  EXPECT_EQ(t.rules[1].name, "shipped");
}

TEST(Merge, SortsExactProductsBeforeWildcardsAndConstrainedMatchesFirst) {
  auto r = rules(
      "schema = 1\n"
      "[[device]]\nname = \"w\"\nids = [\"06da:*\"]\n"
      "[[device]]\nname = \"z\"\nids = [\"ffff:0000\"]\n"
      "[[device]]\nname = \"plain\"\nids = [\"06da:0003\"]\n"
      "[[device]]\nname = \"serial\"\nids = [\"06da:0003\"]\nserial = \"A\"\n");
  Table t = merge({"t.toml"}, {r});
  std::vector<std::string> names;
  for (const auto& x : t.rules) names.push_back(x.name);
  EXPECT_THAT(names, ElementsAre("serial", "plain", "w", "z"));
}

TEST(Validate, StaleAfterAndOffTimeAreDurationsInRange) {
  auto r = rules(std::string(kHead) +
                 "[defaults]\nstale_after = \"45s\"\n[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n"
                 "off_time = \"3s\"\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].policy.stale_after, std::chrono::seconds(45));
  EXPECT_EQ(r[0].policy.off_time, std::chrono::seconds(3));
  EXPECT_EQ(
      rules(std::string(kHead) + "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\n")[0].policy.off_time,
      Policy{}.off_time);
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\nstale_after = \"0s\"\n"),
              ElementsAre("t.toml:3:15: 'stale_after' must be longer than 0s"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\noff_time = \"50ms\"\n"),
              ElementsAre("t.toml:3:12: 'off_time' must be between 100ms and 1m, not '50ms'"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\noff_time = \"2m\"\n"),
              ElementsAre("t.toml:3:12: 'off_time' must be between 100ms and 1m, not '2m'"));
  EXPECT_THAT(errors(std::string(kHead) + "[defaults]\noff_time = 3\n"),
              ElementsAre(::testing::HasSubstr("t.toml:3:12: ")));
}

TEST(CheckPorts, EntriesThatNameOnePortMustAgreeOnItsPolicy) {
  auto r = rules(std::string(kHead) +
                 "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\nport = \"1-1.2\"\n"
                 "[[device]]\nname = \"b\"\nids = [\"06da:0003\"]\nport = \"1-1.2\"\nmax_resets = 1\n"
                 "[[device]]\nname = \"c\"\nids = [\"0925:1234\"]\nport = \"1-1.3\"\n");
  Table t = merge({"t.toml"}, {r});
  EXPECT_THAT(check_ports(t), ::testing::SizeIs(1));
  EXPECT_EQ(check_ports(t).at(0).str(),
            "t.toml:8:8: port 1-1.2 is named again with a different policy (first at t.toml:4:8); what fails "
            "to enumerate there needs one");
  auto same = rules(std::string(kHead) +
                    "[[device]]\nname = \"a\"\nids = [\"0665:5161\"]\nport = \"1-1.2\"\n"
                    "[[device]]\nname = \"b\"\nids = [\"06da:0003\"]\nport = \"1-1.2\"\n");
  EXPECT_TRUE(check_ports(merge({"t.toml"}, {same})).empty());
}

TEST(Durations, ParseAndFormatRoundTrip) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("1h30m"), Millis(5400000));
  EXPECT_EQ(parse_duration("30"), std::nullopt);
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("1.5s"), std::nullopt);
  EXPECT_EQ(format_duration(Millis(90500)), "1m30s500ms");
  EXPECT_EQ(parse_duration(format_duration(Millis(3723004))), Millis(3723004));
}

}  // namespace
}  // namespace usbrecover::gen
