// The lab's model: strict values, what `up` would fail on found by validate, hostile documents,
// the registries, and the docs generated from the key tables.

#include <gtest/gtest.h>

#include <set>

#include "base/file.hh"
#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/schema.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

// A small valid lab with one host; `extra_host` and `step` are spliced in.
std::string lab(const std::string& host_keys, const std::string& steps = "") {
  std::string s =
      "name: m\nswitches: [{name: sw1, vlans: [10]}]\nhosts:\n  - name: pc1\n"
      "    interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]\n" +
      host_keys + "links:\n  - endpoints: [pc1:eth0, sw1]\n";
  if (!steps.empty()) s += "scenarios:\n  - name: s\n    steps:\n" + steps;
  return s;
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "m.yaml");
  return r ? std::string() : r.error().message;
}

TEST(LabModel, TheBaseLabIsValid) { EXPECT_EQ(errors_of(lab("")), ""); }

// exec's expect: an exit status, or a list of exit and output expectations, each checked when
// the file is read (a regular expression that does not compile names its line).
TEST(LabModel, ExecExpectationsAreCheckedWhenRead) {
  EXPECT_EQ(errors_of(lab("",
                          "      - exec: pc1 echo hi\n        expect: [exit 0, output contains hi, "
                          "output matches \"^h.$\", stderr contains x]\n        within: 5s\n")),
            "");
  auto e = errors_of(
      lab("", "      - exec: pc1 true\n        expect: [exit 300, output matches \"(\"]\n"));
  EXPECT_NE(e.find("m.yaml:12:18: exec expect 'exit 300': exit status 0–255"), std::string::npos)
      << e;
  EXPECT_NE(e.find("m.yaml:12:28: exec expect 'output matches \"(\"': not a regular expression"),
            std::string::npos)
      << e;
  e = errors_of(lab("", "      - exec: pc1 true\n        expect: output has x\n"));
  EXPECT_NE(e.find("exec expect 'output has x': expected 'contains TEXT' or 'matches REGEX'"),
            std::string::npos)
      << e;
  e = errors_of(lab("", "      - exec: pc1 true\n        within: 2h\n"));
  EXPECT_NE(e.find("m.yaml:12:17: within"), std::string::npos) << e;
}

TEST(LabModel, NumbersAndDurationsAreStrict) {
  // exec's expected exit status: a word is an error, not "exit status 0".
  auto e = errors_of(lab("", "      - exec: pc1 true\n        expect: reach\n"));
  EXPECT_NE(e.find("m.yaml:12:17: exec expect 'reach': expected 'exit N', 'output contains TEXT'"),
            std::string::npos)
      << e;
  e = errors_of(lab("", "      - exec: pc1 true\n        expect: 256\n"));
  EXPECT_NE(e.find("m.yaml:12:17: exec expect: exit status '256': expected a whole number from 0 "
                   "to 255"),
            std::string::npos)
      << e;
  e = errors_of(lab("    listen: [22x]\n"));
  EXPECT_NE(e.find("listen port '22x': expected a whole number from 1 to 65535"), std::string::npos)
      << e;
  e = errors_of(lab("", "      - wait_until:\n          ping: pc1 pc1\n        within: 5x\n"));
  EXPECT_NE(e.find("within '5x': expected a duration"), std::string::npos) << e;
  e = errors_of(lab("", "      - tcp: pc1 pc1:0\n"));
  EXPECT_NE(e.find("tcp: port '0': expected a whole number from 1 to 65535"), std::string::npos)
      << e;
  e = errors_of(lab("", "      - tcp: pc1 pc1:80x\n"));
  EXPECT_NE(e.find("'80x'"), std::string::npos) << e;
  EXPECT_EQ(errors_of(lab("", "      - exec: pc1 false\n        expect: 1\n")), "");
}

TEST(LabModel, ValidateFindsNamesTheKernelRefuses) {
  for (const char* name : {"lo", "all", "default"}) {
    std::string t =
        "name: m\nswitches: [{name: sw1}]\nhosts:\n  - name: pc1\n"
        "    interfaces: [{name: " +
        std::string(name) + "}]\nlinks:\n  - endpoints: [pc1, sw1]\n";
    auto e = errors_of(t);
    EXPECT_NE(e.find(fmt::format("interface name '{}' is reserved", name)), std::string::npos) << e;
  }
  auto e = errors_of(lab("", "") + "  - endpoints: [pc1:eth0, sw1]\n");
  EXPECT_NE(e.find("interface pc1:eth0 is linked twice"), std::string::npos) << e;
}

TEST(LabModel, LinksSetAcceptableFrameTypes) {
  auto text = [](const std::string& link) {
    return "name: a\nswitches: [{name: sw1, vlans: [10, 20]}]\nhosts:\n  - name: pc1\n"
           "    interfaces: [{name: eth0}]\nlinks:\n  - {endpoints: [pc1, sw1], " +
           link + "}\n";
  };
  auto r = parse_topology(text("vlan: 10, admit: all"), "a.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->links[0].mode.to_string(), "access 10 admit all");
  EXPECT_EQ(r->links[0].mode.acceptable_frames(), vnet::bridge::AcceptableFrames::kAll);
  auto bad = errors_of(text("vlan: 10, admit: some"));
  EXPECT_NE(bad.find("bad acceptable frame types 'some'"), std::string::npos) << bad;
  // A trunk without a native VLAN that admits only untagged frames would admit nothing.
  auto nothing = parse_topology(text("trunk: [10, 20], admit: untagged"), "a.yaml").error().message;
  EXPECT_NE(nothing.find("a.yaml:7:"), std::string::npos) << nothing;
}

TEST(LabModel, SwitchSideDeviceNamesNeverCollide) {
  // "a-b" + "c" and "a" + "b-c" would both be "a-b-c".
  auto r = parse_topology(R"(name: d
switches: [{name: sw}]
hosts:
  - {name: a-b, interfaces: [{name: c}]}
  - {name: a, interfaces: [{name: b-c}]}
  - {name: averyveryverylongname, interfaces: [{name: eth0}]}
links:
  - endpoints: [a-b, sw]
  - endpoints: [a, sw]
  - endpoints: [averyveryverylongname, sw]
)",
                          "d.yaml");
  ASSERT_TRUE(r) << r.error().message;
  std::set<std::string> devices;
  for (auto& l : r->links) {
    EXPECT_LE(l.device.size(), 15u) << l.device;
    EXPECT_TRUE(devices.insert(l.device).second) << l.device;
  }
  EXPECT_EQ(r->links[0].device, "a-b-c");
  EXPECT_NE(r->links[1].device, "a-b-c");
}

TEST(LabModel, InterfacesGetStableUniqueMacs) {
  auto r1 = parse_topology(lab(""), "m.yaml");
  auto r2 = parse_topology(lab(""), "m.yaml");
  ASSERT_TRUE(r1 && r2);
  auto m1 = r1->node("pc1")->macs.at("eth0"), m2 = r2->node("pc1")->macs.at("eth0");
  EXPECT_EQ(m1, m2) << "a node keeps its MAC across runs and reboots";
  EXPECT_FALSE(m1.is_multicast());
  EXPECT_EQ(m1.bytes[0] & 0x02, 0x02) << "locally administered";
  auto other = parse_topology("name: other\n" + lab("").substr(lab("").find('\n') + 1), "o.yaml");
  ASSERT_TRUE(other);
  EXPECT_NE(other->node("pc1")->macs.at("eth0"), m1) << "two labs side by side do not share MACs";
}

TEST(LabModel, DeepNestingIsRefusedWithoutACrash) {
  std::string deep = "name: x\nswitches: " + std::string(100000, '[') + std::string(100000, ']');
  auto e = errors_of(deep);
  EXPECT_NE(e.find("m.yaml:2:"), std::string::npos) << e.substr(0, 200);
  EXPECT_NE(e.find("nesting"), std::string::npos) << e.substr(0, 200);
  std::string maps = "name: x\nswitches: ";
  for (int i = 0; i < 100000; ++i) maps += "{a: ";
  maps += "1" + std::string(100000, '}');
  EXPECT_NE(errors_of(maps), "");
}

TEST(LabModel, AliasBombsAreRefused) {
  // Each level repeats the previous one 10 times: 10^8 values from a few hundred bytes.
  std::string t = "name: x\nx0: &a0 [1,1,1,1,1,1,1,1,1,1]\n";
  for (int i = 1; i <= 8; ++i) {
    t += fmt::format("x{}: &a{} [", i, i);
    for (int k = 0; k < 10; ++k) t += fmt::format("{}*a{}", k ? "," : "", i - 1);
    t += "]\n";
  }
  auto e = errors_of(t);
  EXPECT_NE(e.find("expands to more than"), std::string::npos) << e.substr(0, 300);
}

TEST(LabModel, EveryKindAndStepHasADocumentedKeyTable) {
  for (auto& k : registry().kinds()) {
    EXPECT_FALSE(k->keys().keys.empty()) << k->name();
    EXPECT_FALSE(k->doc().empty()) << k->name();
    EXPECT_NE(k->keys().find("name"), nullptr) << k->name() << " nodes need a name";
    for (auto& key : k->keys().keys) EXPECT_FALSE(key.doc.empty()) << k->name() << "." << key.name;
  }
  std::set<std::string> names;
  for (auto& s : registry().steps()) {
    EXPECT_TRUE(names.insert(std::string(s->name())).second) << s->name() << " twice";
    EXPECT_FALSE(s->key().doc.empty()) << s->name();
  }
}

// docs/topology.schema.json and the generated part of docs/topology.md are what the key tables
// say: regenerate them with `vnet lab schema > docs/topology.schema.json` and
// `vnet lab schema --markdown` (between the markers in docs/topology.md).
TEST(LabModel, DocsAreGeneratedFromTheKeyTables) {
  auto schema = vnet::read_regular_file(VNET_DOCS_DIR "/topology.schema.json");
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(*schema, topology_schema().dump(2) + "\n")
      << "docs/topology.schema.json is stale: run `vnet lab schema > docs/topology.schema.json`";
  auto md = vnet::read_regular_file(VNET_DOCS_DIR "/topology.md");
  ASSERT_TRUE(md) << md.error().message;
  const std::string begin = "<!-- BEGIN keys -->\n", end = "<!-- END keys -->";
  auto b = md->find(begin), e = md->find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(md->substr(b + begin.size(), e - b - begin.size()), topology_reference_markdown())
      << "docs/topology.md's key reference is stale: paste `vnet lab schema --markdown` between "
         "the markers";
}

}  // namespace
