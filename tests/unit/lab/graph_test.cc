// `vnet lab graph`: the DOT it writes stays readable for big labs: tiers from the topology, one
// edge per cable with its VLANs as ranges, a distinct colour per VLAN with a legend, small router
// boxes, and the live state of a running lab.

#include "lab/graph.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>

#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// 2 cores and `access` access switches dual-homed to both (RSTP), VLANs 10.. on every trunk, a
// router on a stick (subinterface per VLAN) on core1, a host on acc1.
std::string mesh(int access, int vlans) {
  std::string vl = "[";
  for (int v = 10; v < 10 + vlans; ++v) vl += (v > 10 ? ", " : "") + std::to_string(v);
  vl += "]";
  std::string y = "name: mesh\nswitches:\n";
  for (int c = 1; c <= 2; ++c)
    y += fmt::format("  - {{name: core{}, vlans: {}, stp: rstp}}\n", c, vl);
  for (int i = 1; i <= access; ++i)
    y += fmt::format("  - {{name: acc{}, vlans: {}, stp: rstp}}\n", i, vl);
  y += "routers:\n  - name: r1\n    interfaces:\n      - {name: eth0}\n";
  for (int v = 10; v < 10 + vlans; ++v)
    y += fmt::format("      - {{name: eth0.{}, ipv4: 10.{}.0.1/24}}\n", v, v);
  y += "hosts:\n  - {name: h1, interfaces: [{name: eth0, ipv4: 10.10.0.100/24}]}\n";
  y += fmt::format("links:\n  - {{endpoints: [core1, core2], trunk: {}}}\n", vl);
  for (int i = 1; i <= access; ++i) {
    for (int c = 1; c <= 2; ++c)
      y += fmt::format("  - {{endpoints: [acc{}, core{}], trunk: {}}}\n", i, c, vl);
  }
  y += fmt::format("  - {{endpoints: [r1:eth0, core1], trunk: {}}}\n", vl);
  y += "  - {endpoints: [h1:eth0, acc1], vlan: 10}\n";
  return y;
}

Topology parse(const std::string& yaml) {
  auto t = parse_topology(yaml, "graph.yaml");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(*t) : Topology{};
}

// The DOT lines of edges between a and b (either order), invisible ones left out.
std::vector<std::string> edges(const std::string& dot, const std::string& a, const std::string& b) {
  std::vector<std::string> out;
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    if (line.find("style=invis") != std::string::npos) continue;
    if (line.find("\"" + a + "\" -- \"" + b + "\"") != std::string::npos ||
        line.find("\"" + b + "\" -- \"" + a + "\"") != std::string::npos)
      out.push_back(line);
  }
  return out;
}

std::string node_line(const std::string& dot, const std::string& n) {
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("  \"" + n + "\" [")) return line;
  }
  return "";
}

}  // namespace

TEST(LabGraph, VidRangesCompressRunsOfConsecutiveVids) {
  EXPECT_EQ(vid_ranges({}), "");
  EXPECT_EQ(vid_ranges({7}), "7");
  EXPECT_EQ(vid_ranges({10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 50}), "10-20,50");
  EXPECT_EQ(vid_ranges({50, 12, 10, 11, 11, 30, 31}), "10-12,30-31,50");
  EXPECT_EQ(vid_ranges({1, 3, 5}), "1,3,5");
  EXPECT_EQ(vid_ranges({4093, 4094, 1}), "1,4093-4094");
}

TEST(LabGraph, TiersCoreAboveAccessRoutersOnTopHostsAtTheBottom) {
  auto t = parse(mesh(4, 3));
  auto tiers = assign_tiers(t);
  ASSERT_EQ(tiers.ranks.size(), 4u);
  EXPECT_EQ(tiers.ranks[0].name, "routers");
  EXPECT_EQ(tiers.ranks[1].name, "core");
  EXPECT_EQ(tiers.ranks[2].name, "access");
  EXPECT_EQ(tiers.ranks[3].name, "hosts");
  EXPECT_EQ(tiers.ranks[1].nodes, (std::vector<std::string>{"core1", "core2"}));
  EXPECT_EQ(tiers.ranks[2].nodes, (std::vector<std::string>{"acc1", "acc2", "acc3", "acc4"}));
  EXPECT_EQ(tiers.tier_of("r1"), "routers");
  EXPECT_EQ(tiers.tier_of("h1"), "hosts");
  // The DOT keeps each tier on one rank.
  std::string dot = to_dot(t);
  EXPECT_NE(dot.find("{ rank=same; // core\n    \"core1\";\n    \"core2\";\n  }"),
            std::string::npos)
      << dot;
}

TEST(LabGraph, TiersOfATreeAndOfAFlatLab) {
  // c — d1, d2, d3 — a1 (under d1), a2 (under d2); lone has no switch links.
  auto t = parse(R"(name: tree
switches:
  - {name: a1, vlans: [10]}
  - {name: a2, vlans: [10]}
  - {name: d1, vlans: [10]}
  - {name: c, vlans: [10]}
  - {name: d2, vlans: [10]}
  - {name: d3, vlans: [10]}
  - {name: lone, vlans: [10]}
links:
  - {endpoints: [c, d1], trunk: [10]}
  - {endpoints: [c, d2], trunk: [10]}
  - {endpoints: [c, d3], trunk: [10]}
  - {endpoints: [d1, a1], trunk: [10]}
  - {endpoints: [d2, a2], trunk: [10]}
)");
  auto tiers = assign_tiers(t);
  ASSERT_EQ(tiers.ranks.size(), 3u);
  EXPECT_EQ(tiers.ranks[0].name, "core");
  EXPECT_EQ(tiers.ranks[0].nodes, (std::vector<std::string>{"c"}));
  EXPECT_EQ(tiers.ranks[1].name, "distribution");
  EXPECT_EQ(tiers.ranks[1].nodes, (std::vector<std::string>{"d1", "d2", "d3"}));
  EXPECT_EQ(tiers.ranks[2].name, "access");
  EXPECT_EQ(tiers.ranks[2].nodes, (std::vector<std::string>{"a1", "a2", "lone"}));

  auto flat = parse(R"(name: flat
switches: [{name: s1, vlans: [10]}, {name: s2, vlans: [10]}]
hosts: [{name: h, interfaces: [{name: eth0}]}]
links:
  - {endpoints: [s1, s2], trunk: [10]}
  - {endpoints: [h:eth0, s1], vlan: 10}
)");
  auto ft = assign_tiers(flat);
  ASSERT_EQ(ft.ranks.size(), 2u);
  EXPECT_EQ(ft.ranks[0].name, "switches");
  EXPECT_EQ(ft.ranks[1].name, "hosts");
}

TEST(LabGraph, FortyVlansGetFortyDistinguishableColours) {
  auto rgb = [](const std::string& c) {
    return std::array<int, 3>{std::stoi(c.substr(1, 2), nullptr, 16),
                              std::stoi(c.substr(3, 2), nullptr, 16),
                              std::stoi(c.substr(5, 2), nullptr, 16)};
  };
  for (size_t n : {3u, 12u, 25u, 40u}) {
    std::vector<std::string> colours;
    for (size_t i = 0; i < n; ++i) colours.push_back(vlan_colour(i, n));
    EXPECT_EQ(std::set<std::string>(colours.begin(), colours.end()).size(), n);
    double closest = 1e9;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(colours[i].size(), 7u);
      for (size_t j = i + 1; j < n; ++j) {
        auto a = rgb(colours[i]), b = rgb(colours[j]);
        double d = std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
        closest = std::min(closest, d);
      }
    }
    EXPECT_GE(closest, 30.0) << n << " VLANs";
    EXPECT_EQ(vlan_colour(n - 1, n), colours.back());  // deterministic
  }
}

TEST(LabGraph, LegendListsEveryVlanInItsColour) {
  auto t = parse(mesh(3, 40));
  std::string dot = to_dot(t);
  auto at = dot.find("subgraph cluster_legend");
  ASSERT_NE(at, std::string::npos);
  std::string legend = dot.substr(at, dot.find("\n  }\n", at) - at);
  for (size_t i = 0; i < 40; ++i) {
    EXPECT_NE(legend.find(fmt::format("BGCOLOR=\"{}\" WIDTH=\"14\"> </TD><TD ALIGN=\"LEFT\">{}<",
                                      vlan_colour(i, 40), 10 + i)),
              std::string::npos)
        << "VLAN " << 10 + i;
  }
  // The trunk set shared by every trunk is named once, in the legend.
  EXPECT_NE(legend.find("unlabelled trunks: trunk 10-49"), std::string::npos);
  EXPECT_EQ(count(dot, "label=\"trunk 10-49\""), 0u) << "no trunk edge repeats it";
  EXPECT_EQ(count(dot, "label=\"\", color=\"#404040\""), 2u * 3 + 1 + 1) << dot;
}

TEST(LabGraph, ATrunkIsOneEdgeLabelledWithRangesParallelCablesStaySeparate) {
  auto t = parse(R"(name: two
switches:
  - {name: sw1, vlans: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 50], stp: rstp}
  - {name: sw2, vlans: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 50], stp: rstp}
links:
  - {endpoints: [sw1, sw2], trunk: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 50]}
  - {endpoints: [sw1, sw2], trunk: [10]}
)");
  std::string dot = to_dot(t);
  auto e = edges(dot, "sw1", "sw2");
  ASSERT_EQ(e.size(), 2u) << dot;
  EXPECT_NE(e[0].find("label=\"trunk 10-20,50\""), std::string::npos) << e[0];
  EXPECT_NE(e[0].find("color=\"#404040\""), std::string::npos) << "many VLANs: one line";
  EXPECT_NE(e[1].find("label=\"trunk 10\""), std::string::npos) << e[1];
}

TEST(LabGraph, RouterBoxSummarisesItsInterfaces) {
  auto t = parse(mesh(2, 25));
  std::string dot = to_dot(t);
  std::string r1 = node_line(dot, "r1");
  EXPECT_NE(r1.find("label=\"r1\\neth0: trunk 10-34, 25 VLAN interfaces, 25 addresses\""),
            std::string::npos)
      << r1;
  EXPECT_EQ(r1.find("10.10.0.1"), std::string::npos);
  // The 25 subinterfaces ride one cable: one edge.
  EXPECT_EQ(edges(dot, "r1", "core1").size(), 1u);
  // Few addresses: listed.
  EXPECT_NE(node_line(dot, "h1").find("h1\\neth0 10.10.0.100/24"), std::string::npos);
}

TEST(LabGraph, LiveStateDrawsDownLinksBlockedPortsRootAndVrrpMaster) {
  auto t = parse(mesh(2, 3));
  LiveState live;
  size_t down = 0, blocked = 0;
  for (size_t i = 0; i < t.links.size(); ++i) {
    if (t.links[i].a.node == "acc1" && t.links[i].b.node == "core1") down = i;
    if (t.links[i].a.node == "acc2" && t.links[i].b.node == "core2") blocked = i;
  }
  live.links_down.insert(down);
  live.blocked["acc2"].insert(t.links[blocked].port_a);
  live.root_bridges.insert("core1");
  live.vrrp_master["r1"] = {"VI_10"};
  live.notes.push_back("spanning tree of acc1 (refused)");
  std::string dot = to_dot(t, &live);
  auto d = edges(dot, "acc1", "core1");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].find("color=\"#b0b0b0\""), std::string::npos) << d[0];
  EXPECT_NE(d[0].find("style=dashed"), std::string::npos);
  auto b = edges(dot, "acc2", "core2");
  ASSERT_EQ(b.size(), 1u);
  // core2 is the upper tier, so it is the tail and acc2's blocked end is the head.
  EXPECT_NE(b[0].find("\"core2\" -- \"acc2\""), std::string::npos) << b[0];
  EXPECT_NE(b[0].find("arrowtail=none, arrowhead=tee"), std::string::npos) << b[0];
  EXPECT_NE(node_line(dot, "core1").find("peripheries=2"), std::string::npos);
  EXPECT_EQ(node_line(dot, "core2").find("peripheries=2"), std::string::npos);
  EXPECT_NE(node_line(dot, "r1").find("VRRP master: VI_10"), std::string::npos);
  EXPECT_NE(dot.find("// not shown: spanning tree of acc1 (refused)"), std::string::npos);
  // Without live state, none of it.
  std::string still = to_dot(t);
  EXPECT_EQ(still.find("peripheries"), std::string::npos);
  EXPECT_EQ(still.find("arrowhead=tee"), std::string::npos);
  EXPECT_EQ(still.find("#b0b0b0"), std::string::npos);
}
