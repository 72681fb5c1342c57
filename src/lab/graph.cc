#include "lab/graph.hh"

#include <algorithm>
#include <cmath>
#include <deque>

#include "lab/node_kind.hh"

namespace vnet::lab {

std::string vid_ranges(std::vector<bridge::VlanId> vids) {
  std::sort(vids.begin(), vids.end());
  vids.erase(std::unique(vids.begin(), vids.end()), vids.end());
  std::string out;
  for (size_t i = 0; i < vids.size();) {
    size_t j = i;
    while (j + 1 < vids.size() && vids[j + 1] == vids[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? fmt::format("{}", vids[i]) : fmt::format("{}-{}", vids[i], vids[j]);
    i = j + 1;
  }
  return out;
}

std::string vlan_colour(size_t index, size_t count) {
  static constexpr double kLightness[] = {0.45, 0.27, 0.62};
  constexpr double kSaturation = 0.85;
  count = std::max(count, index + 1);
  size_t hues = count <= kSingleLightnessMax ? count : (count + 2) / 3;
  double h =
      std::fmod(210.0 + static_cast<double>(index % hues) * 360.0 / static_cast<double>(hues),
                360.0) /
      60.0;
  double l = kLightness[(index / hues) % 3];
  double c = (1 - std::fabs(2 * l - 1)) * kSaturation;
  double x = c * (1 - std::fabs(std::fmod(h, 2.0) - 1));
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(h)) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  double m = l - c / 2;
  auto byte = [m](double v) { return static_cast<int>(std::lround((v + m) * 255)); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b));
}

std::string Tiers::tier_of(const std::string& node) const {
  size_t r = rank_of(node);
  return r < ranks.size() ? ranks[r].name : "";
}

size_t Tiers::rank_of(const std::string& node) const {
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (std::find(ranks[i].nodes.begin(), ranks[i].nodes.end(), node) != ranks[i].nodes.end())
      return i;
  }
  return ranks.size();
}

Tiers assign_tiers(const Topology& t) {
  std::map<std::string, std::set<std::string>> neighbours;
  for (auto& l : t.links) {
    if (!l.switch_to_switch || l.a.node == l.b.node) continue;
    neighbours[l.a.node].insert(l.b.node);
    neighbours[l.b.node].insert(l.a.node);
  }
  // Per connected part of the switch mesh: its core is the switches with the most distinct
  // switch neighbours; the others are ranked by their distance from it.
  std::map<std::string, size_t> depth;
  bool any_mesh = false;
  for (const Node* sw : t.switches()) {
    if (depth.count(sw->name) || neighbours[sw->name].empty()) continue;
    any_mesh = true;
    std::vector<std::string> part{sw->name};
    std::set<std::string> seen{sw->name};
    for (size_t i = 0; i < part.size(); ++i) {
      for (auto& n : neighbours[part[i]]) {
        if (seen.insert(n).second) part.push_back(n);
      }
    }
    size_t most = 0;
    for (auto& n : part) most = std::max(most, neighbours[n].size());
    std::deque<std::string> queue;
    for (auto& n : part) {
      if (neighbours[n].size() == most) {
        depth[n] = 0;
        queue.push_back(n);
      }
    }
    while (!queue.empty()) {
      auto n = queue.front();
      queue.pop_front();
      for (auto& m : neighbours[n]) {
        if (depth.emplace(m, depth[n] + 1).second) queue.push_back(m);
      }
    }
  }
  size_t lowest = 0;
  for (auto& [n, d] : depth) lowest = std::max(lowest, d);
  if (any_mesh && lowest == 0) {
    // Only cores: a switch without switch links is an access switch below them.
    for (const Node* sw : t.switches()) {
      if (!depth.count(sw->name)) lowest = 1;
    }
  }
  Tiers out;
  Tiers::Rank routers{"routers", {}}, hosts{"hosts", {}};
  std::vector<Tiers::Rank> switch_ranks(lowest + 1);
  for (size_t i = 0; i <= lowest; ++i) {
    switch_ranks[i].name = lowest == 0   ? "switches"
                           : i == 0      ? "core"
                           : i == lowest ? "access"
                           : lowest == 2 ? "distribution"
                                         : fmt::format("distribution {}", i);
  }
  for (auto& n : t.nodes) {
    if (t.is_switch(n.name)) {
      auto it = depth.find(n.name);
      switch_ranks[it == depth.end() ? lowest : it->second].nodes.push_back(n.name);
    } else if (n.kind->name() == "router") {
      routers.nodes.push_back(n.name);
    } else {
      hosts.nodes.push_back(n.name);
    }
  }
  for (auto* r : {&routers}) out.ranks.push_back(std::move(*r));
  for (auto& r : switch_ranks) out.ranks.push_back(std::move(r));
  out.ranks.push_back(std::move(hosts));
  std::erase_if(out.ranks, [](const Tiers::Rank& r) { return r.nodes.empty(); });
  return out;
}

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

std::string html_esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

// One cable as drawn: a link with the VLANs of the subinterfaces folded into it.
struct Cable {
  size_t link;
  std::vector<bridge::VlanId> vlans;  // every VLAN it carries
  bool trunk = false;
  std::string ranges;  // vid_ranges(vlans)
  std::string label;   // "VLAN 10", "trunk 10-20,50 native 1"
};

// PARENT of an interface named PARENT.VID ("" otherwise).
std::string parent_of(const std::string& iface) {
  auto dot = iface.rfind('.');
  return dot == std::string::npos ? "" : iface.substr(0, dot);
}

std::vector<Cable> cables_of(const Topology& t) {
  std::vector<Cable> cables;
  std::map<size_t, size_t> cable_of_link;
  std::vector<std::pair<size_t, size_t>> folded;  // (subinterface link, parent link)
  for (size_t i = 0; i < t.links.size(); ++i) {
    const Link& l = t.links[i];
    if (!l.switch_to_switch) {
      std::string parent = parent_of(l.a.interface);
      auto p = std::find_if(t.links.begin(), t.links.end(), [&](const Link& o) {
        return !parent.empty() && !o.switch_to_switch && o.a.node == l.a.node &&
               o.a.interface == parent && o.b.node == l.b.node;
      });
      if (p != t.links.end()) {
        folded.push_back({i, static_cast<size_t>(p - t.links.begin())});
        continue;
      }
    }
    Cable c{i, l.mode.members(), l.mode.mode == bridge::PortConfig::Mode::kTrunk, "", ""};
    cable_of_link[i] = cables.size();
    cables.push_back(std::move(c));
  }
  for (auto [sub, parent] : folded) {
    Cable& c = cables[cable_of_link[parent]];
    for (auto v : t.links[sub].mode.members()) c.vlans.push_back(v);
    c.trunk = true;
  }
  for (auto& c : cables) {
    std::sort(c.vlans.begin(), c.vlans.end());
    c.vlans.erase(std::unique(c.vlans.begin(), c.vlans.end()), c.vlans.end());
    c.ranges = vid_ranges(c.vlans);
    const auto& mode = t.links[c.link].mode;
    if (!c.trunk) {
      c.label = fmt::format("VLAN {}", mode.access_vlan);
    } else {
      c.label = "trunk " + (c.ranges.empty() ? "none" : c.ranges);
      if (mode.native_vlan) c.label += fmt::format(" native {}", *mode.native_vlan);
    }
  }
  return cables;
}

// The label of a non-switch node: its addresses when few; otherwise one line per physical
// interface: what its cable carries, its VLAN subinterfaces, and its addresses (those of its
// subinterfaces too) when at most two, else how many.
std::string node_label(const Topology& t, const Node& n, const std::vector<Cable>& cables) {
  size_t total = 0;
  for (auto& i : n.interfaces) total += i.addresses.size();
  std::string label = n.name;
  if (total <= kRouterAddressesListed) {
    for (auto& i : n.interfaces) {
      for (auto& a : i.addresses) label += "\n" + i.name + " " + a.to_string();
    }
    return label;
  }
  for (auto& i : n.interfaces) {
    if (auto p = parent_of(i.name); !p.empty() && n.interface(p)) continue;
    std::string carries = "not linked";
    for (auto& c : cables) {
      const Link& l = t.links[c.link];
      if (!l.switch_to_switch && l.a.node == n.name && l.a.interface == i.name) carries = c.label;
    }
    std::vector<std::string> addresses;
    for (auto& a : i.addresses) addresses.push_back(a.to_string());
    size_t subs = 0;
    for (auto& s : n.interfaces) {
      if (parent_of(s.name) != i.name) continue;
      ++subs;
      for (auto& a : s.addresses) addresses.push_back(a.to_string());
    }
    label += "\n" + i.name + ": " + carries;
    if (subs) label += fmt::format(", {} VLAN interface{}", subs, subs == 1 ? "" : "s");
    if (addresses.size() > 2)
      label += fmt::format(", {} addresses", addresses.size());
    else if (!addresses.empty())
      label += fmt::format(", {}", fmt::join(addresses, " "));
  }
  return label;
}

std::string legend(const std::vector<bridge::VlanId>& vlans,
                   const std::map<bridge::VlanId, std::string>& colour,
                   const std::string& common_trunk, bool live) {
  constexpr size_t kColumns = 6;
  // Two tables, so that the notes' width does not stretch the colour swatches.
  std::string swatches, notes;
  for (size_t i = 0; i < vlans.size(); i += kColumns) {
    swatches += "<TR>";
    for (size_t j = i; j < std::min(vlans.size(), i + kColumns); ++j) {
      swatches += fmt::format("<TD BGCOLOR=\"{}\" WIDTH=\"14\"> </TD><TD ALIGN=\"LEFT\">{}</TD>",
                              colour.at(vlans[j]), vlans[j]);
    }
    swatches += "</TR>";
  }
  auto note = [&](const std::string& text) {
    notes += "<TR><TD ALIGN=\"LEFT\">" + html_esc(text) + "</TD></TR>";
  };
  if (!common_trunk.empty()) note("unlabelled trunks: " + common_trunk);
  if (live) {
    note("grey dashed: link down");
    note("dashed, bar at an end: port blocked by spanning tree");
    note("double border: root bridge; bold: VRRP master");
  }
  std::string rows;
  if (!swatches.empty())
    rows += "<TR><TD ALIGN=\"LEFT\"><TABLE BORDER=\"0\" CELLSPACING=\"2\" CELLPADDING=\"2\">" +
            swatches + "</TABLE></TD></TR>";
  if (!notes.empty())
    rows += "<TR><TD ALIGN=\"LEFT\"><TABLE BORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">" +
            notes + "</TABLE></TD></TR>";
  return fmt::format(
      "  subgraph cluster_legend {{\n    label=\"VLANs\"; fontsize=11; color=\"#999999\";\n"
      "    \"legend\" [shape=plaintext, fontsize=9, label=<<TABLE BORDER=\"0\" "
      "CELLSPACING=\"0\" CELLPADDING=\"0\">{}</TABLE>>];\n  }}\n",
      rows);
}

}  // namespace

std::string to_dot(const Topology& t, const LiveState* live) {
  auto cables = cables_of(t);
  std::vector<bridge::VlanId> all;
  for (auto& c : cables) all.insert(all.end(), c.vlans.begin(), c.vlans.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::map<bridge::VlanId, std::string> colour;
  for (size_t i = 0; i < all.size(); ++i) colour[all[i]] = vlan_colour(i, all.size());

  // Three or more trunks with the same VLANs: that set is named once, in the legend.
  std::map<std::string, size_t> trunk_sets;
  for (auto& c : cables) {
    if (c.trunk) ++trunk_sets[c.label];
  }
  std::string common;
  size_t most = 0;
  for (auto& [label, count] : trunk_sets) {
    if (count >= 3 && count > most) most = count, common = label;
  }

  std::string d = fmt::format(
      "graph \"{}\" {{\n  graph [label=\"vnet lab {}\", labelloc=t, fontname=\"Helvetica\", "
      "rankdir=TB, nodesep=0.35, ranksep=1.0];\n"
      "  node [fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9, labelfontsize=8, labeldistance=1.5];\n",
      esc(t.name), esc(t.name));
  if (live) {
    d += "  // live state of the running lab\n";
    for (auto& note : live->notes) d += "  // not shown: " + note + "\n";
  }

  Tiers tiers = assign_tiers(t);
  for (size_t r = 0; r < tiers.ranks.size(); ++r) {
    d += fmt::format("  {{ rank=same; // {}\n", tiers.ranks[r].name);
    for (auto& n : tiers.ranks[r].nodes) d += fmt::format("    \"{}\";\n", esc(n));
    d += "  }\n";
    if (r > 0)  // keeps the ranks in order even where no link joins them
      d += fmt::format("  \"{}\" -- \"{}\" [style=invis];\n", esc(tiers.ranks[r - 1].nodes[0]),
                       esc(tiers.ranks[r].nodes[0]));
  }

  for (auto& n : t.nodes) {
    auto [shape, fill] = n.kind->graph_style();
    bool sw = t.is_switch(n.name);
    std::string label = sw ? n.name : node_label(t, n, cables);
    for (const auto& note : n.kind->graph_notes(n)) label += "\n" + note;
    std::string extra, style = "filled";
    // A hexagon around several lines of text grows wide: a rounded box holds them better.
    if (shape == "hexagon" && label.find('\n') != std::string::npos) {
      shape = "box";
      style = "rounded,filled";
    }
    std::string fillcolour(fill);
    if (live) {
      if (live->root_bridges.count(n.name)) {
        label += "\n(root bridge)";
        extra += ", peripheries=2";
      }
      if (auto m = live->vrrp_master.find(n.name); m != live->vrrp_master.end()) {
        label += m->second.size() <= 3
                     ? fmt::format("\nVRRP master: {}", fmt::join(m->second, ", "))
                     : fmt::format("\nVRRP master of {}", m->second.size());
        extra += ", penwidth=3";
      }
      if (live->powered_off.count(n.name)) {
        label += "\n(powered off)";
        style += ",dashed";
        fillcolour = "#eeeeee";
        extra += ", fontcolor=\"#888888\"";
      }
    }
    d += fmt::format("  \"{}\" [shape={}, style=\"{}\", fillcolor=\"{}\", label=\"{}\"{}];\n",
                     esc(n.name), shape, style, fillcolour, esc(label), extra);
  }

  if (!all.empty() || live) d += legend(all, colour, common, live != nullptr);

  for (auto& c : cables) {
    const Link& l = t.links[c.link];
    std::string tail = l.a.node, head = l.b.node;
    std::string tail_port = l.switch_to_switch ? "" : l.a.interface;
    bool swapped = tiers.rank_of(head) < tiers.rank_of(tail);
    std::string colours;
    if (!c.trunk || c.vlans.size() <= kStripedTrunkMax) {
      for (auto v : c.vlans) colours += (colours.empty() ? "" : ":") + colour[v];
    } else {
      colours = "#404040";
    }
    if (colours.empty()) colours = "black";
    std::string label = c.trunk && c.label == common ? "" : c.label;
    std::string attrs = fmt::format("color=\"{}\", penwidth={}", colours, c.trunk ? 2.5 : 1.5);
    std::string style;
    if (live) {
      std::string arrow_a = "none", arrow_b = "none";
      auto blocked = [&](const std::string& sw, uint32_t port) {
        auto it = live->blocked.find(sw);
        return it != live->blocked.end() && it->second.count(port);
      };
      if (l.switch_to_switch && blocked(l.a.node, l.port_a)) {
        arrow_a = "tee";
      }
      if (blocked(l.b.node, l.port_b)) {
        arrow_b = "tee";
      }
      if (live->links_down.count(c.link)) {
        attrs = "color=\"#b0b0b0\", penwidth=1.5, style=dashed";
        label += label.empty() ? "down" : " (down)";
      } else if (arrow_a != "none" || arrow_b != "none") {
        attrs += ", style=dashed";
      }
      if (arrow_a != "none" || arrow_b != "none") {
        attrs += fmt::format(", dir=both, arrowtail={}, arrowhead={}", swapped ? arrow_b : arrow_a,
                             swapped ? arrow_a : arrow_b);
      }
    }
    if (swapped) std::swap(tail, head);
    d += fmt::format("  \"{}\" -- \"{}\" [label=\"{}\", {}", esc(tail), esc(head), esc(label),
                     attrs);
    if (!tail_port.empty())
      d += fmt::format(", {}=\"{}\"", swapped ? "headlabel" : "taillabel", esc(tail_port));
    d += "];\n";
  }
  d += "}\n";
  return d;
}

}  // namespace vnet::lab
