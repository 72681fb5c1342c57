// Console commands of VXLAN ports (a vxlan: backend, io/vtep_port.hh), on the session's bridge:
//   vtep/show PORT                        local endpoint, VNI map, flood lists, static and learned
//                                         entries (remote, age), counters with every drop reason
//   vtep/map/add PORT VID VNI             carry VLAN VID as VNI (the port must be its trunk)
//   vtep/map/del PORT VID VNI             stop carrying it: the VNI's flood list, static and
//                                         learned entries go with it
//   vtep/flood/add PORT VNI REMOTE        flood VNI's BUM traffic to REMOTE too (a VTEP: head-end
//   vtep/flood/del PORT VNI REMOTE        replication; a multicast group: joined / left)
//   vtep/static/add PORT VNI MAC REMOTE   inner MAC of VNI lives behind REMOTE (never ages)
//   vtep/static/del PORT VNI MAC REMOTE
//   vtep/fdb/flush PORT [VNI]             forget learned entries (static ones stay)
// REMOTE is ADDR, ADDR:PORT or [V6ADDR]:PORT (the port's UDP port when none). Every change is
// checked whole before anything changes; an error names the port, the field and what was
// expected.
#include <fmt/format.h>

#include <algorithm>

#include "base/parse.hh"
#include "bridge/commands.hh"
#include "io/vtep_port.hh"
#include "packet/vxlan.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using overlay::Endpoint;
using Args = std::vector<std::string>;
using nlohmann::json;

struct Target {
  PortNo port = 0;
  io::VtepPort* vtep = nullptr;
};

Result<Target> target(Dataplane& dp, Session& s, const Args& a, size_t lo, size_t hi,
                      const char* usage) {
  if (a.size() < lo || a.size() > hi) return make_error(EINVAL, "usage: {}", usage);
  auto br = session_bridge(dp, s);
  if (!br) return br.error();
  auto p = existing_port(**br, a[0]);
  if (!p) return p.error();
  io::Backend* be = dp.backend(**br, *p);
  io::VtepPort* v = be ? be->vtep_port() : nullptr;
  if (!v) {
    return make_error(EINVAL, "port {}: expected a VXLAN port (vxlan:…), it has {}", *p,
                      be ? be->describe() : std::string("no backend"));
  }
  return Target{*p, v};
}

Result<uint32_t> vni_arg(PortNo p, const std::string& text) {
  auto v = parse_int(text, 0, packet::kMaxVni);
  if (!v) return make_error(EINVAL, "port {}: VNI '{}': expected 0 to 16777215", p, text);
  return static_cast<uint32_t>(*v);
}

Result<uint16_t> vid_arg(PortNo p, const std::string& text) {
  auto v = parse_int(text, 1, 4094);
  if (!v) return make_error(EINVAL, "port {}: VLAN '{}': expected 1 to 4094", p, text);
  return static_cast<uint16_t>(*v);
}

Result<Endpoint> remote_arg(const Target& t, const std::string& text) {
  auto e = Endpoint::parse(text, t.vtep->vtep().config().port);
  if (!e) return make_error(EINVAL, "port {}: remote: {}", t.port, e.error().message);
  if (e->v6 != t.vtep->local().v6) {
    return make_error(EINVAL, "port {}: remote {}: expected an IPv{} address like the local {}",
                      t.port, text, t.vtep->local().v6 ? 6 : 4, t.vtep->local().to_string());
  }
  return e;
}

Result<uint32_t> carried_vni(const Target& t, const std::string& text) {
  auto vni = vni_arg(t.port, text);
  if (!vni) return vni.error();
  if (!t.vtep->vtep().carries(*vni)) {
    return make_error(ENOENT, "port {}: VNI {}: expected a VNI the port carries (vtep/show {})",
                      t.port, *vni, t.port);
  }
  return vni;
}

Status with_port(PortNo p, Status st) {
  if (st) return st;
  return make_error(st.error().code, "port {}: {}", p, st.error().message);
}

long seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

Reply show(const Target& t, TimePoint now) {
  overlay::Vtep& v = t.vtep->vtep();
  const overlay::Config& c = v.config();
  Reply r;
  json maps = json::array(), floods = json::array(), statics = json::array(),
       learned = json::array(), drops = json::object();
  std::string text =
      fmt::format("port {}: VTEP {} (UDP port {})\n", t.port, t.vtep->local().to_string(), c.port);
  text += fmt::format(
      " checksum {}  learning {}  known-peers {}  inner-tags {}  mtu {}  ageing {}s\n",
      c.udp_checksum ? "on" : "zero", c.learning ? "on" : "off", c.known_peers_only ? "on" : "off",
      c.inner_tags ? "on" : "off", c.underlay_mtu, seconds(c.ageing));
  for (const auto& [vni, vid] : v.maps()) {
    text += vid == 0 ? fmt::format(" map: VNI {} untagged (single VNI)\n", vni)
                     : fmt::format(" map: VLAN {} = VNI {}\n", vid, vni);
    maps.push_back({{"vid", vid}, {"vni", vni}, {"untagged", vid == 0}});
  }
  for (const auto& [vni, list] : v.flood_lists()) {
    json remotes = json::array();
    std::vector<std::string> names;
    for (const auto& e : list) {
      names.push_back(e.to_string() + (e.is_multicast() ? " (group)" : ""));
      remotes.push_back(e.to_string());
    }
    text += fmt::format(" flood: VNI {} -> {}\n", vni, fmt::join(names, ", "));
    floods.push_back({{"vni", vni}, {"remotes", remotes}});
  }
  for (const auto& e : v.entries(now)) {
    if (e.is_static) {
      text +=
          fmt::format(" static: VNI {} {} -> {}\n", e.vni, e.mac.to_string(), e.remote.to_string());
      statics.push_back(
          {{"vni", e.vni}, {"mac", e.mac.to_string()}, {"remote", e.remote.to_string()}});
    } else {
      text += fmt::format(" learned: VNI {} {} -> {} age {}s\n", e.vni, e.mac.to_string(),
                          e.remote.to_string(), seconds(e.age));
      learned.push_back({{"vni", e.vni},
                         {"mac", e.mac.to_string()},
                         {"remote", e.remote.to_string()},
                         {"age", seconds(e.age)}});
    }
  }
  const overlay::Counters& k = v.counters();
  text +=
      fmt::format(" encapsulated {}  copies {}  decapsulated {}  learned {}  moved {}\n dropped:",
                  k.encapsulated, k.copies, k.decapsulated, k.learned, k.moved);
  for (size_t i = 0; i < static_cast<size_t>(overlay::Drop::kCount); ++i) {
    auto name = overlay::drop_name(static_cast<overlay::Drop>(i));
    text += fmt::format(" {} {}", name, k.drops[i]);
    drops[std::string(name)] = k.drops[i];
  }
  r.text = text + "\n";
  r.json = {{"port", t.port},
            {"local", t.vtep->local().to_string()},
            {"udp_port", c.port},
            {"udp_checksum", c.udp_checksum},
            {"learning", c.learning},
            {"known_peers_only", c.known_peers_only},
            {"inner_tags", c.inner_tags},
            {"underlay_mtu", c.underlay_mtu},
            {"ageing", seconds(c.ageing)},
            {"max_learned", c.max_learned},
            {"maps", maps},
            {"flood", floods},
            {"static", statics},
            {"learned", learned},
            {"counters",
             {{"encapsulated", k.encapsulated},
              {"copies", k.copies},
              {"decapsulated", k.decapsulated},
              {"learned", k.learned},
              {"moved", k.moved},
              {"drops", drops}}}};
  return r;
}

// Whether any VNI still floods to group `g`.
bool group_used(const overlay::Vtep& v, const Endpoint& g) {
  for (const auto& [vni, list] : v.flood_lists()) {
    if (std::find(list.begin(), list.end(), g) != list.end()) return true;
  }
  return false;
}

}  // namespace

void register_vtep_commands(console::Registry& reg, Dataplane& dp, const Clock& clock) {
  reg.add("vtep/show", "PORT", "a VXLAN port: map, flood lists, entries, counters",
          [&dp, &clock](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 1, 1, "vtep/show PORT");
            if (!t) return t.error();
            return show(*t, clock.now());
          });
  reg.add("vtep/map/add", "PORT VID VNI", "carry VLAN VID as VNI on a VXLAN port",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 3, 3, "vtep/map/add PORT VID VNI");
            if (!t) return t.error();
            auto vid = vid_arg(t->port, a[1]);
            if (!vid) return vid.error();
            auto vni = vni_arg(t->port, a[2]);
            if (!vni) return vni.error();
            if (auto st = with_port(t->port, t->vtep->vtep().map(*vid, *vni)); !st) {
              return st.error();
            }
            Reply r;
            auto br = session_bridge(dp, s);
            if (br && !(*br)->port_config(t->port).egress_tagged(*vid)) {
              r.text = fmt::format(
                  "note: port {} is not a tagged member of VLAN {} yet (port/mode {} trunk …)\n",
                  t->port, *vid, t->port);
            }
            return r;
          });
  reg.add("vtep/map/del", "PORT VID VNI",
          "stop carrying VLAN VID as VNI (its flood list and entries go too)",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 3, 3, "vtep/map/del PORT VID VNI");
            if (!t) return t.error();
            auto vid = vid_arg(t->port, a[1]);
            if (!vid) return vid.error();
            auto vni = vni_arg(t->port, a[2]);
            if (!vni) return vni.error();
            overlay::Vtep& v = t->vtep->vtep();
            if (v.vni_of(*vid) != *vni) {
              return make_error(ENOENT, "port {}: VLAN {} is not carried as VNI {} (vtep/show {})",
                                t->port, *vid, *vni, t->port);
            }
            std::vector<Endpoint> groups;
            if (auto it = v.flood_lists().find(*vni); it != v.flood_lists().end()) {
              for (const auto& e : it->second) {
                if (e.is_multicast()) groups.push_back(e);
              }
            }
            auto removed = v.unmap(*vid);
            if (!removed) return with_port(t->port, removed.error()).error();
            for (const auto& g : groups) {
              if (!group_used(v, g)) (void)t->vtep->set_group(g, false);
            }
            Reply r;
            r.text = fmt::format("removed {} flood, {} static, {} learned entries\n",
                                 removed->floods, removed->statics, removed->learned);
            r.json = {{"flood", removed->floods},
                      {"static", removed->statics},
                      {"learned", removed->learned}};
            return r;
          });
  reg.add("vtep/flood/add", "PORT VNI REMOTE",
          "flood VNI to REMOTE too (a VTEP, or a multicast group: joined)",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 3, 3, "vtep/flood/add PORT VNI REMOTE");
            if (!t) return t.error();
            auto vni = carried_vni(*t, a[1]);
            if (!vni) return vni.error();
            auto e = remote_arg(*t, a[2]);
            if (!e) return e.error();
            overlay::Vtep& v = t->vtep->vtep();
            const bool join = e->is_multicast() && !group_used(v, *e);
            if (join) {
              if (auto st = with_port(t->port, t->vtep->set_group(*e, true)); !st) {
                return st.error();
              }
            }
            if (auto st = v.add_flood(*vni, *e); !st) {
              if (join) (void)t->vtep->set_group(*e, false);
              return with_port(t->port, st).error();
            }
            return Reply{};
          });
  reg.add("vtep/flood/del", "PORT VNI REMOTE", "stop flooding VNI to REMOTE",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 3, 3, "vtep/flood/del PORT VNI REMOTE");
            if (!t) return t.error();
            auto vni = vni_arg(t->port, a[1]);
            if (!vni) return vni.error();
            auto e = remote_arg(*t, a[2]);
            if (!e) return e.error();
            overlay::Vtep& v = t->vtep->vtep();
            if (auto st = v.remove_flood(*vni, *e); !st) return with_port(t->port, st).error();
            if (e->is_multicast() && !group_used(v, *e)) (void)t->vtep->set_group(*e, false);
            return Reply{};
          });
  reg.add("vtep/static/add", "PORT VNI MAC REMOTE", "inner MAC of VNI lives behind REMOTE",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 4, 4, "vtep/static/add PORT VNI MAC REMOTE");
            if (!t) return t.error();
            auto vni = carried_vni(*t, a[1]);
            if (!vni) return vni.error();
            auto mac = packet::MacAddress::parse(a[2]);
            if (!mac) return make_error(EINVAL, "port {}: MAC: {}", t->port, mac.error().message);
            auto e = remote_arg(*t, a[3]);
            if (!e) return e.error();
            if (e->is_multicast()) {
              return make_error(EINVAL, "port {}: remote {}: expected a unicast VTEP", t->port,
                                a[3]);
            }
            if (auto st = t->vtep->vtep().add_static(*vni, *mac, *e); !st) {
              return with_port(t->port, st).error();
            }
            return Reply{};
          });
  reg.add("vtep/static/del", "PORT VNI MAC REMOTE", "remove a static entry",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 4, 4, "vtep/static/del PORT VNI MAC REMOTE");
            if (!t) return t.error();
            auto vni = vni_arg(t->port, a[1]);
            if (!vni) return vni.error();
            auto mac = packet::MacAddress::parse(a[2]);
            if (!mac) return make_error(EINVAL, "port {}: MAC: {}", t->port, mac.error().message);
            auto e = remote_arg(*t, a[3]);
            if (!e) return e.error();
            overlay::Vtep& v = t->vtep->vtep();
            for (const auto& x : v.entries(TimePoint{})) {
              if (x.is_static && x.vni == *vni && x.mac == *mac && x.remote != *e) {
                return make_error(ENOENT, "port {}: VNI {} {} is behind {}, not {}", t->port, *vni,
                                  a[2], x.remote.to_string(), e->to_string());
              }
            }
            if (auto st = v.remove_static(*vni, *mac); !st) return with_port(t->port, st).error();
            return Reply{};
          });
  reg.add("vtep/fdb/flush", "PORT [VNI]", "forget the learned entries (of one VNI)",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            auto t = target(dp, s, a, 1, 2, "vtep/fdb/flush PORT [VNI]");
            if (!t) return t.error();
            std::optional<uint32_t> vni;
            if (a.size() == 2) {
              auto v = carried_vni(*t, a[1]);
              if (!v) return v.error();
              vni = *v;
            }
            size_t n = t->vtep->vtep().flush(vni);
            Reply r;
            r.text = fmt::format("flushed {} entries\n", n);
            r.json = {{"flushed", n}};
            return r;
          });
}

}  // namespace vnet::bridge
