// Spanning tree in the lab's model: loops of switch links are allowed exactly when every switch on
// them runs spanning tree, every stp value is validated with its position and the expected range
// or relation, links resolve to per-port settings, the stp steps name ports as users do, and a
// bridge's settings go to the dataplane in one command.

#include <gtest/gtest.h>

#include "lab/spanning_tree.hh"
#include "lab/switch_client.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "s.yaml");
  return r ? std::string() : r.error().message;
}

// Three switches with the given stp lines, cabled as `links` (each "A B"), a host on sw1.
std::string lab(const std::string& sw1, const std::string& sw2, const std::string& sw3,
                const std::vector<std::string>& links, const std::string& link_extra = "",
                const std::string& steps = "") {
  std::string s = "name: s\nswitches:\n";
  s += "  - name: sw1\n" + sw1 + "  - name: sw2\n" + sw2 + "  - name: sw3\n" + sw3;
  s += "hosts:\n  - name: pc1\n    interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]\n";
  s += "links:\n  - endpoints: [pc1, sw1]\n";
  for (auto& l : links) {
    auto space = l.find(' ');
    s += "  - endpoints: [" + l.substr(0, space) + ", " + l.substr(space + 1) + "]\n";
    s += "    trunk: [1]\n" + link_extra;
  }
  if (!steps.empty()) s += "scenarios:\n  - steps:\n" + steps;
  return s;
}

const std::string kRstp = "    stp: rstp\n";
const std::string kOff = "    stp: off\n";
const std::string kNone = "    vlans: [1]\n";  // no stp key, as many lines as the others
const std::vector<std::string> kTriangle = {"sw1 sw2", "sw2 sw3", "sw3 sw1"};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(LabSpanningTree, ALoopOfSwitchesThatAllRunSpanningTreeIsValid) {
  EXPECT_EQ(errors_of(lab(kRstp, kRstp, kRstp, kTriangle)), "");
  // Either protocol version counts.
  EXPECT_EQ(errors_of(lab(kRstp, "    stp: stp\n", kRstp, kTriangle)), "");
}

TEST(LabSpanningTree, ALoopThroughASwitchWithoutItNamesEveryLinkAndThatSwitch) {
  for (const std::string& off : {kOff, kNone}) {  // `stp: off` and no stp key are the same
    std::string text = lab(kRstp, kRstp, off, kTriangle);
    std::string e = errors_of(text);
    // The links start at lines 14, 16 and 18; the last one closes the loop.
    EXPECT_EQ(count(e, "\n"), 0u) << "one loop, one diagnostic: " << e;
    EXPECT_EQ(e.rfind("s.yaml:18:5: ", 0), 0u) << e;
    EXPECT_NE(e.find("sw1–sw2 (s.yaml:14), sw2–sw3 (s.yaml:16), sw3–sw1 (s.yaml:18) form a loop"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("and sw3 runs no spanning tree (stp: off)"), std::string::npos) << e;
    EXPECT_EQ(e.find("sw1 runs"), std::string::npos) << e;
  }
  // Every switch without it is named.
  std::string e = errors_of(lab(kOff, kRstp, kOff, kTriangle));
  EXPECT_NE(e.find("sw1, sw3 run no spanning tree"), std::string::npos) << e;
}

TEST(LabSpanningTree, ParallelLinksFollowTheSameRule) {
  std::vector<std::string> parallel = {"sw1 sw2", "sw2 sw1"};
  EXPECT_EQ(errors_of(lab(kRstp, kRstp, kNone, parallel)), "");
  std::string e = errors_of(lab(kRstp, kOff, kNone, parallel));
  EXPECT_NE(e.find("s.yaml:16:5: switch links sw1–sw2 (s.yaml:14), sw2–sw1 (s.yaml:16) form a "
                   "loop, and sw2 runs no spanning tree"),
            std::string::npos)
      << e;
}

TEST(LabSpanningTree, LoopFreeLabsNeedNoSpanningTree) {
  EXPECT_EQ(errors_of(lab(kNone, kNone, kNone, {"sw1 sw2", "sw2 sw3"})), "");
  EXPECT_EQ(errors_of(lab(kRstp, kOff, kRstp, {"sw1 sw2", "sw2 sw3"})), "");
}

TEST(LabSpanningTree, EveryLoopIsCheckedNotOnlyTheFirst) {
  // Two loops sharing sw2: sw1–sw2 twice (both run it) and sw2–sw3 twice (sw3 does not).
  std::string e = errors_of(lab(kRstp, kRstp, kOff, {"sw1 sw2", "sw1 sw2", "sw2 sw3", "sw2 sw3"}));
  EXPECT_EQ(count(e, "form a loop"), 1u) << e;
  EXPECT_NE(e.find("sw2–sw3 (s.yaml:18), sw2–sw3 (s.yaml:20) form a loop"), std::string::npos) << e;
}

TEST(LabSpanningTree, BridgeValuesAreStrict) {
  auto sw = [](const std::string& keys) {
    return errors_of(lab("    stp: rstp\n" + keys, kNone, kNone, {}));
  };
  // The values sit on line 5, column 19 for "    stp_priority: ".
  std::string e = sw("    stp_priority: 5000\n");
  EXPECT_NE(e.find("s.yaml:5:19: switch sw1 stp_priority 5000: expected a multiple of 4096 from 0 "
                   "to 61440"),
            std::string::npos)
      << e;
  e = sw("    stp_priority: 65536\n");
  EXPECT_NE(e.find("switch sw1 stp_priority '65536': expected a whole number from 0 to 61440"),
            std::string::npos)
      << e;
  EXPECT_NE(sw("    stp_priority: 4096x\n").find("'4096x'"), std::string::npos);
  EXPECT_NE(sw("    stp_hello_time: 3\n")
                .find("stp_hello_time '3': expected a whole number from "
                      "1 to 2"),
            std::string::npos);
  EXPECT_NE(sw("    stp_max_age: 41\n").find("from 6 to 40"), std::string::npos);
  EXPECT_NE(sw("    stp_forward_delay: 3\n").find("from 4 to 30"), std::string::npos);
  EXPECT_EQ(sw("    stp_priority: 0\n    stp_hello_time: 1\n    stp_max_age: 6\n"
               "    stp_forward_delay: 4\n"),
            "");
  EXPECT_EQ(sw("    stp_priority: 61440\n    stp_max_age: 40\n    stp_forward_delay: 21\n"), "");
  e = errors_of(lab("    stp: on\n", kNone, kNone, {}));
  EXPECT_NE(e.find("s.yaml:4:10: switch sw1 stp 'on': expected rstp, stp or off"),
            std::string::npos)
      << e;
  // Settings that would do nothing are mistakes.
  e = errors_of(lab("    stp_priority: 4096\n", kNone, kNone, {}));
  EXPECT_NE(e.find("s.yaml:4:19: switch sw1: stp_priority without spanning tree (stp: off) has "
                   "no effect"),
            std::string::npos)
      << e;
}

TEST(LabSpanningTree, TimesMustSatisfyTheRelationOf17_14) {
  auto sw = [](const std::string& keys) {
    return errors_of(lab("    stp: rstp\n" + keys, kNone, kNone, {}));
  };
  // 2 × (forward_delay − 1) ≥ max_age, with a default on one side.
  std::string e = sw("    stp_forward_delay: 10\n");
  EXPECT_NE(e.find("s.yaml:5:24: switch sw1: stp_max_age 20 s (default) and stp_forward_delay "
                   "10 s break 2 × (forward_delay − 1 s) ≥ max_age (IEEE 802.1D-2004 §17.14): "
                   "2 × (10 − 1) = 18 < 20"),
            std::string::npos)
      << e;
  EXPECT_EQ(sw("    stp_forward_delay: 11\n"), "");  // 2 × 10 = 20
  // max_age ≥ 2 × (hello_time + 1): with hello_time at most 2 (§17.14 Table 17-1 as of 2004),
  // the smallest max_age is its edge.
  EXPECT_EQ(sw("    stp_max_age: 6\n    stp_hello_time: 2\n    stp_forward_delay: 4\n"), "");
}

TEST(LabSpanningTree, LinkValuesAreStrictAndGoToTheRightPorts) {
  // One value for every end that runs spanning tree.
  auto r = parse_topology(lab(kRstp, kRstp, kNone, {"sw1 sw2", "sw2 sw3"},
                              "    stp_cost: 100\n    stp_port_priority: 32\n"),
                          "s.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Link& both = r->links[1];
  EXPECT_EQ(both.stp_a.cost, 100u);
  EXPECT_EQ(both.stp_b.cost, 100u);
  EXPECT_EQ(both.stp_b.priority, 32u);
  EXPECT_FALSE(both.stp_a.edge) << "ports between switches are not edge ports";
  const Link& half = r->links[2];  // sw2–sw3: sw3 runs none
  EXPECT_EQ(half.stp_a.cost, 100u);
  EXPECT_TRUE(half.stp_b.empty());
  // A node link's port is an edge port unless the link says otherwise.
  EXPECT_EQ(r->links[0].stp_b.edge, true);
  r = parse_topology(lab(kRstp, kNone, kNone, {}, "") + "    edge: false\n", "s.yaml");
  // (edge: false lands on the last link, the host's)
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->links[0].stp_b.edge, false);
  // Per end.
  r = parse_topology(lab(kRstp, kRstp, kNone, {"sw1 sw2"},
                         "    stp_cost: {sw2: 7}\n    stp_port_priority: "
                         "{sw1: 16, sw2: 240}\n"),
                     "s.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->links[1].stp_a.cost);
  EXPECT_EQ(r->links[1].stp_b.cost, 7u);
  EXPECT_EQ(r->links[1].stp_a.priority, 16u);
  EXPECT_EQ(r->links[1].stp_b.priority, 240u);

  auto link = [](const std::string& keys, const std::string& sw2 = kRstp) {
    return errors_of(lab(kRstp, sw2, kNone, {"sw1 sw2"}, keys));
  };
  std::string e = link("    stp_cost: 0\n");
  EXPECT_NE(e.find("s.yaml:16:15: stp_cost '0': expected a whole number from 1 to 200000000"),
            std::string::npos)
      << e;
  e = link("    stp_port_priority: 100\n");
  EXPECT_NE(e.find("stp_port_priority 100: expected a multiple of 16 from 0 to 240"),
            std::string::npos)
      << e;
  e = link("    stp_cost: {sw3: 5}\n");
  EXPECT_NE(e.find("stp_cost: 'sw3' is not a switch of this link (expected sw1 and sw2)"),
            std::string::npos)
      << e;
  e = link("    stp_cost: {sw2: 5}\n", kOff);
  EXPECT_NE(e.find("stp_cost for sw2: it runs no spanning tree (stp: off)"), std::string::npos)
      << e;
  e = errors_of(lab(kNone, kNone, kNone, {"sw1 sw2"}, "    stp_cost: 5\n"));
  EXPECT_NE(e.find("stp_cost: sw1 and sw2 run no spanning tree (stp: off)"), std::string::npos)
      << e;
  e = link("    edge: true\n");
  EXPECT_NE(e.find("edge is for a switch port toward a node: sw1 and sw2 are both switches"),
            std::string::npos)
      << e;
  e = errors_of(lab(kRstp, kNone, kNone, {}) + "    edge: yes\n");
  EXPECT_NE(e.find("edge 'yes': expected true or false"), std::string::npos) << e;
  e = errors_of(lab(kNone, kNone, kNone, {}) + "    edge: true\n");
  EXPECT_NE(e.find("edge: sw1 runs no spanning tree (stp: off)"), std::string::npos) << e;
}

TEST(LabSpanningTree, StepsNamePortsAsUsersDo) {
  auto steps = [](const std::string& s, const std::vector<std::string>& links = kTriangle) {
    return errors_of(lab(kRstp, kRstp, kRstp, links, "", s));
  };
  EXPECT_EQ(steps("      - stp_port: sw3 sw1\n        role: alternate\n        state: discarding\n"
                  "      - stp_port: sw1 pc1\n        state: forwarding\n"
                  "      - stp_port: sw1 pc1:eth0\n        role: designated\n"
                  "      - root_bridge: sw1\n"
                  "      - wait_until:\n          stp_port: sw2 sw3\n          role: designated\n"
                  "        within: 5s\n"
                  "      - wait_until: {root_bridge: sw2}\n        within: 5s\n"),
            "");
  std::string e = steps("      - stp_port: sw3 sw1\n        role: blocking\n");
  EXPECT_NE(e.find("stp_port role 'blocking': expected root, designated, alternate, backup, "
                   "disabled"),
            std::string::npos)
      << e;
  e = steps("      - stp_port: sw3 sw1\n");
  EXPECT_NE(e.find("stp_port: say what the port must be: role, state or both"), std::string::npos)
      << e;
  e = steps("      - stp_port: sw3 pc1\n        role: root\n");
  EXPECT_NE(e.find("stp_port: no link between sw3 and pc1"), std::string::npos) << e;
  e = steps("      - stp_port: pc1 sw1\n        role: root\n");
  EXPECT_NE(e.find("stp_port: 'pc1' is not a switch"), std::string::npos) << e;
  // Parallel links: the peer is ambiguous, the port number is not.
  std::vector<std::string> parallel = {"sw1:7 sw2", "sw1:8 sw2"};
  e = steps("      - stp_port: sw1 sw2\n        role: backup\n", parallel);
  EXPECT_NE(e.find("stp_port: 2 links between sw1 and sw2 (lines 14, 16): write a port number in "
                   "their endpoints and name the port as sw1:PORT"),
            std::string::npos)
      << e;
  EXPECT_EQ(steps("      - stp_port: sw1:8\n        role: designated\n", parallel), "");
  e = steps("      - stp_port: sw2:8\n        role: designated\n", parallel);
  EXPECT_NE(e.find("stp_port: no link names port 8 of sw2"), std::string::npos) << e;
  // Switches without spanning tree have no roles and no root.
  e = errors_of(lab(kRstp, kNone, kNone, {"sw1 sw2"}, "",
                    "      - stp_port: sw2 sw1\n        role: root\n      - root_bridge: sw2\n"));
  EXPECT_NE(e.find("stp_port: switch sw2 runs no spanning tree (stp: off)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("root_bridge: switch sw2 runs no spanning tree (stp: off)"), std::string::npos)
      << e;
  e = steps("      - root_bridge: pc1\n");
  EXPECT_NE(e.find("root_bridge: 'pc1' is not a switch"), std::string::npos) << e;
}

// Times go in one command with the mode: 4/6 s is valid, but forward_delay 4 alone (with the
// default max_age 20) or max_age 6 alone (then forward_delay 4 with it) is one step at a time.
TEST(LabSpanningTree, BridgeSettingsGoInOneCommand) {
  StpBridge b;
  b.mode = StpMode::kRstp;
  EXPECT_EQ(spanning_tree_command(b), "stp/set mode rstp");
  b.mode = StpMode::kStp;
  b.priority = 4096;
  b.hello_time = 1;
  b.max_age = 6;
  b.forward_delay = 4;
  EXPECT_EQ(spanning_tree_command(b),
            "stp/set priority 4096 hello_time 1 max_age 6 forward_delay 4 mode stp");
}

}  // namespace

namespace {

// A switch's power: kill, stop and start take switches; a switch that is off is in no spanning
// tree, and one in the middle of a chain splits it (root_bridge counts the running ones only).
TEST(LabSpanningTree, SwitchesHavePowerAndOneThatIsOffIsInNoTree) {
  EXPECT_EQ(errors_of(lab(kRstp, kRstp, kRstp, kTriangle, "",
                          "      - kill: sw1\n      - stop: sw1\n      - start: sw1\n"
                          "      - wait_until: {root_bridge: sw2}\n        within: 5s\n")),
            "");
  auto t = parse_topology(lab(kRstp, kRstp, kRstp, {"sw1 sw2", "sw2 sw3"}), "s.yaml");
  ASSERT_TRUE(t) << t.error().message;
  auto all = [](const std::string&) { return true; };
  using Names = std::vector<std::string>;
  EXPECT_EQ(spanning_tree_members(*t, "sw3", all), (Names{"sw3", "sw1", "sw2"}));
  auto sw2_off = [](const std::string& s) { return s != "sw2"; };
  EXPECT_EQ(spanning_tree_members(*t, "sw1", sw2_off), Names{"sw1"});
  EXPECT_EQ(spanning_tree_members(*t, "sw3", sw2_off), Names{"sw3"});
  auto sw1_off = [](const std::string& s) { return s != "sw1"; };
  EXPECT_EQ(spanning_tree_members(*t, "sw2", sw1_off), (Names{"sw2", "sw3"}));
  // A triangle stays whole around a switch that is off.
  auto tri = parse_topology(lab(kRstp, kRstp, kRstp, kTriangle), "s.yaml");
  ASSERT_TRUE(tri) << tri.error().message;
  EXPECT_EQ(spanning_tree_members(*tri, "sw3", sw2_off), (Names{"sw3", "sw1"}));
}

}  // namespace
