#include "lab/graph.hh"

#include <map>

#include "lab/node_kind.hh"

namespace vnet::lab {

std::string to_dot(const Topology& t) {
  static const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                   "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
  std::map<bridge::VlanId, const char*> colour;
  auto colour_of = [&](bridge::VlanId v) {
    auto it = colour.find(v);
    if (it != colour.end()) return it->second;
    const char* c = kPalette[colour.size() % 10];
    colour[v] = c;
    return c;
  };
  std::string d = fmt::format(
      "graph \"{}\" {{\n  graph [label=\"vnet lab {}\", labelloc=t, fontname=\"Helvetica\", "
      "overlap=false];\n"
      "  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
      t.name, t.name);
  for (auto& n : t.nodes) {
    std::string label = n.name;
    for (auto& i : n.interfaces) {
      for (auto& a : i.addresses) label += "\\n" + i.name + " " + a.to_string();
    }
    auto [shape, fill] = n.kind->graph_style();
    d += fmt::format("  \"{}\" [shape={}, style=filled, fillcolor=\"{}\", label=\"{}\"];\n", n.name,
                     shape, fill, label);
  }
  for (auto& l : t.links) {
    auto vlans = l.mode.members();
    std::string label;
    if (l.mode.mode == bridge::PortConfig::Mode::kAccess) {
      label = fmt::format("VLAN {}", l.mode.access_vlan);
    } else {
      label = "trunk " + l.mode.to_string().substr(6);
    }
    std::string colours;
    for (auto v : vlans) colours += (colours.empty() ? "" : ":") + std::string(colour_of(v));
    std::string a = l.a.node, taila = l.switch_to_switch ? "" : l.a.interface;
    d += fmt::format(
        "  \"{}\" -- \"{}\" [label=\"{}\", color=\"{}\", penwidth={}, taillabel=\"{}\"];\n", a,
        l.b.node, label, colours.empty() ? "black" : colours, vlans.size() > 1 ? 2 : 1.5, taila);
  }
  d += "}\n";
  return d;
}

}  // namespace vnet::lab
