// SPDX-License-Identifier: MIT
// The hwdb file and the rules that read it: which entry lands where, the order hwdb needs for a
// vendor's wildcard and its products, and rules whose length does not depend on the table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parse.hpp"
#include "render.hpp"
#include "validate.hpp"

namespace usbrecover::gen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The merged table of `files`, each read as "tN.toml"; every file must be valid.
Table table_of(const std::vector<std::string>& files) {
  std::vector<std::string> names;
  std::vector<std::vector<DeviceRule>> parsed;
  for (std::size_t i = 0; i < files.size(); ++i) {
    names.push_back("t" + std::to_string(i + 1) + ".toml");
    Diagnostics diags;
    auto root = parse_toml(files[i], names.back(), diags);
    EXPECT_TRUE(root.has_value());
    if (root) parsed.push_back(validate_file(*root, diags));
    EXPECT_TRUE(diags.empty()) << diags.front().str();
  }
  return merge(names, parsed);
}

const RenderOptions kOptions{"/usr/sbin/usbrecover", "/run/usbrecover"};

/// A table of `n` entries that match on their ids alone, 1000:0000 upwards.
std::string id_only_table(unsigned n) {
  std::string t = "schema = 1\n[defaults]\ngroup = \"nut\"\n";
  for (unsigned i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%04x:%04x", 0x1000 + i / 0x10000, i % 0x10000);
    t += "[[device]]\nname = \"UPS " + std::to_string(i) + "\"\nids = [\"" + id + "\"]\n";
  }
  return t;
}

TEST(Render, RulesDoNotGrowWithEntriesThatMatchOnIdsAlone) {
  const std::string one = render_rules(table_of({id_only_table(1)}), kOptions);
  const std::string many = render_rules(table_of({id_only_table(2000)}), kOptions);
  EXPECT_EQ(one, many);
  EXPECT_THAT(one, Not(HasSubstr("ATTR{idVendor}")));
  EXPECT_THAT(one, HasSubstr("GROUP=\"$env{USBRECOVER_GROUP}\""));
  const std::string hwdb = render_hwdb(table_of({id_only_table(2000)}));
  EXPECT_NE(hwdb.find("\n# UPS 1999 (t1.toml:6001)\nusb:v1000p07CF*\n USBRECOVER_SCHEMA=1\n"),
            std::string::npos);
}

TEST(Render, EntriesWithStringsSerialOrPortStayRulesAndAreNotInTheHwdb) {
  const Table t =
      table_of({"schema = 1\n"
                "[[device]]\nname = \"by ids\"\nids = [\"0665:5161\"]\n"
                "[[device]]\nname = \"by serial\"\nids = [\"0665:5161\"]\nserial = \"A1\"\n"
                "[[device]]\nname = \"by port\"\nids = [\"06da:0003\"]\nport = \"1-1.2\"\n"
                "[[device]]\nname = \"by product\"\nids = [\"0001:0000\"]\nproduct = \"UPS\"\n"});
  const std::string rules = render_rules(t, kOptions);
  const std::string hwdb = render_hwdb(t);
  EXPECT_THAT(hwdb, HasSubstr("\n# by ids (t1.toml:2)\nusb:v0665p5161*\n"));
  for (const char* name : {"by serial", "by port", "by product"}) {
    EXPECT_THAT(rules, HasSubstr(std::string("ENV{USBRECOVER_NAME}=\"") + name + "\""));
    EXPECT_THAT(hwdb, Not(HasSubstr(name)));
  }
  EXPECT_THAT(rules, Not(HasSubstr("by ids")));
  // A rule clears what the hwdb gave the device for its ids: "by serial" has no group.
  EXPECT_THAT(rules, HasSubstr("ENV{USBRECOVER_SERVICES}=\"\", \\\n  ENV{USBRECOVER_GROUP}=\"\", "
                               "ENV{USBRECOVER_MODE}=\"\", ENV{USBRECOVER_KEEP_AWAKE}=\"1\""));
  // The rules come before the hwdb's check, so they win over the entry with the ids alone.
  EXPECT_LT(rules.find("by serial"), rules.find("ENV{USBRECOVER_SCHEMA}!=\"?*\", GOTO=\"usbrecover_end\""));
}

// udev's index of the table's ids (the tag "usbrecover"), which the helper reads to find a device
// by its ids: every table device is in it, and so is every device with the ids of an entry that
// matches on more than its ids (its twins), once per ids; a table of ids alone adds no line.
TEST(Render, EveryDeviceWithTheIdsOfAnEntryIsTaggedTwinsToo) {
  const Table t =
      table_of({"schema = 1\n"
                "[[device]]\nname = \"by serial\"\nids = [\"0665:5161\"]\nserial = \"A1\"\n"
                "[[device]]\nname = \"by other serial\"\nids = [\"0665:5161\"]\nserial = \"B2\"\n"
                "[[device]]\nname = \"vendor by product\"\nids = [\"06da:*\"]\nproduct = \"UPS\"\n"
                "[[device]]\nname = \"by ids\"\nids = [\"0001:0000\"]\n"});
  const std::string rules = render_rules(t, kOptions);
  const std::string tag = "ENV{USBRECOVER_TABLE_IDS}=\"1\", TAG+=\"usbrecover\"\n";
  const std::string twins = "ATTR{idVendor}==\"0665\", ATTR{idProduct}==\"5161\", " + tag;
  const auto at = rules.find(twins);
  ASSERT_NE(at, std::string::npos) << rules;
  EXPECT_EQ(rules.find(twins, at + 1), std::string::npos) << "once per ids";
  EXPECT_THAT(rules, HasSubstr("ATTR{idVendor}==\"06da\", " + tag));
  // Before the entries' own rules, which jump past the hwdb's check to the tag of every table
  // device, right after the label.
  EXPECT_LT(at, rules.find("by serial"));
  EXPECT_THAT(rules, HasSubstr("LABEL=\"usbrecover_matched\"\n# Every table device is in the index of the "
                               "table's ids.\n" +
                               tag));
  const std::string ids_only = render_rules(table_of({id_only_table(3)}), kOptions);
  EXPECT_THAT(ids_only, HasSubstr("\n" + tag));
  EXPECT_THAT(ids_only, Not(HasSubstr("ATTR{idVendor}")));
}

// Regression test for issue 14: hwdb gives the properties of the later of two matching keys, so
// a vendor's wildcard must come before its products, and a product's entry must list what the
// wildcard sets and it does not (empty), or the wildcard's group would leak into it.
TEST(Render, AVendorWildcardComesBeforeItsProductsWhichListEveryProperty) {
  const Table t =
      table_of({"schema = 1\n"
                "[[device]]\nname = \"one product\"\nids = [\"06da:0003\"]\n"
                "[[device]]\nname = \"vendor\"\nids = [\"06da:*\", \"0001:0000\"]\ngroup = \"nut\"\n"});
  const std::string hwdb = render_hwdb(t);
  const auto lone = hwdb.find("usb:v0001p0000*");
  const auto vendor = hwdb.find("usb:v06DAp*");
  const auto product = hwdb.find("usb:v06DAp0003*");
  ASSERT_NE(product, std::string::npos);
  EXPECT_LT(lone, vendor);
  EXPECT_LT(vendor, product);
  EXPECT_THAT(hwdb.substr(product),
              HasSubstr(" USBRECOVER_SERVICES=\n USBRECOVER_GROUP=\n USBRECOVER_MODE=\n"));
  // An entry no wildcard shadows lists only what it sets.
  EXPECT_THAT(hwdb.substr(lone, vendor - lone), Not(HasSubstr("USBRECOVER_MODE")));
}

// hwdb reads '#' anywhere on a line as a comment and drops trailing blanks: such a value would
// arrive cut, so its entry keeps a rule, and a vendor's wildcard that keeps a rule takes that
// vendor's products along (a rule for the wildcard would otherwise win over them).
TEST(Render, AValueTheHwdbWouldCutKeepsItsEntryARule) {
  const Table t =
      table_of({"schema = 1\n"
                "[[device]]\nname = \"Rack UPS #2\"\nids = [\"0665:5161\"]\n"
                "[[device]]\nname = \"Bridges \"\nids = [\"06da:*\"]\n"
                "[[device]]\nname = \"Ippon\"\nids = [\"06da:0003\"]\n"
                "[[device]]\nname = \"plain\"\nids = [\"0001:0000\"]\n"});
  const std::string rules = render_rules(t, kOptions);
  const std::string hwdb = render_hwdb(t);
  EXPECT_THAT(rules, HasSubstr("ENV{USBRECOVER_NAME}=\"Rack UPS #2\""));
  EXPECT_THAT(rules, HasSubstr("ENV{USBRECOVER_NAME}=\"Bridges \""));
  EXPECT_THAT(rules, HasSubstr("ENV{USBRECOVER_NAME}=\"Ippon\""));
  EXPECT_LT(rules.find("\"Ippon\""), rules.find("\"Bridges \""));  // the product before its wildcard
  EXPECT_THAT(hwdb, Not(HasSubstr("usb:v0665p5161*")));
  EXPECT_THAT(hwdb, Not(HasSubstr("usb:v06DA")));
  EXPECT_THAT(hwdb, HasSubstr("usb:v0001p0000*\n USBRECOVER_SCHEMA=1\n USBRECOVER_NAME=plain\n"));
  EXPECT_EQ(in_hwdb(t),
            (std::vector<bool>{true, false, false, false}));  // emission order: 0001, 0665, 06da:0003, 06da:*
}

TEST(Render, TheSameIdInALaterFileReplacesTheEarlierInTheHwdb) {
  const Table t =
      table_of({"schema = 1\n[[device]]\nname = \"shipped\"\nids = [\"0665:5161\"]\n",
                "schema = 1\n[[device]]\nname = \"local\"\nids = [\"0665:5161\"]\nprobe = \"none\"\n"});
  const std::string hwdb = render_hwdb(t);
  EXPECT_THAT(hwdb, HasSubstr("\n# local (t2.toml:2)\nusb:v0665p5161*\n"));
  EXPECT_THAT(hwdb, Not(HasSubstr("shipped")));
  EXPECT_EQ(hwdb.find("usb:v0665p5161*"), hwdb.rfind("usb:v0665p5161*"));
}

TEST(Render, TheHwdbIsTheSameFromRunToRunAndHasTheGeneratedHeader) {
  const std::string table = id_only_table(50);
  const std::string hwdb = render_hwdb(table_of({table}));
  EXPECT_EQ(hwdb, render_hwdb(table_of({table})));
  EXPECT_TRUE(hwdb.starts_with("# generated by usbrecover-gen from t1.toml; do not edit\n"));
}

}  // namespace
}  // namespace usbrecover::gen
