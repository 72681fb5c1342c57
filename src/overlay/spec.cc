#include "overlay/spec.hh"

#include <cerrno>

#include <fmt/format.h>

#include "base/parse.hh"

namespace vnet::overlay {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<uint32_t> vni_of(std::string_view opt, std::string_view text) {
  auto v = parse_int(text, 0, packet::kMaxVni);
  if (!v) return make_error(EINVAL, "vxlan {}: VNI '{}': expected 0 to 16777215", opt, text);
  return static_cast<uint32_t>(*v);
}

bool unspecified(const Endpoint& e) {
  return e.v6 ? e.v6addr == packet::Ipv6Address{} : e.v4.value == 0;
}

}  // namespace

Result<VtepSpec> parse_vtep_spec(std::string_view text) {
  auto parts = split(text, ',');
  VtepSpec spec;
  auto local = Endpoint::parse(parts[0]);
  if (!local) return make_error(EINVAL, "vxlan:{}: local address: {}", text, local.error().message);
  spec.local = *local;
  spec.config.port = local->port;
  spec.config.local = *local;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view opt = parts[i];
    auto eq = opt.find('=');
    std::string_view key = opt.substr(0, eq);
    std::string_view val = eq == std::string_view::npos ? "" : opt.substr(eq + 1);
    auto need_value = [&]() -> Status {
      if (eq == std::string_view::npos || val.empty()) {
        return make_error(EINVAL, "vxlan {}: expected {}=VALUE", key, key);
      }
      return {};
    };
    if (key == "csum" || key == "nolearning" || key == "known-peers" || key == "inner-tags") {
      if (eq != std::string_view::npos) return make_error(EINVAL, "vxlan {}: takes no value", key);
      if (key == "csum") spec.config.udp_checksum = true;
      if (key == "nolearning") spec.config.learning = false;
      if (key == "known-peers") spec.config.known_peers_only = true;
      if (key == "inner-tags") spec.config.inner_tags = true;
    } else if (key == "map") {
      if (auto st = need_value(); !st) return st.error();
      auto w = split(val, ':');
      Result<int64_t> vid = make_error(EINVAL, "");
      if (w.size() == 2) vid = parse_int(w[0], 1, 4094);
      if (!vid) return make_error(EINVAL, "vxlan map={}: expected VID:VNI with VID 1 to 4094", val);
      auto vni = vni_of("map", w[1]);
      if (!vni) return vni.error();
      spec.maps.push_back({static_cast<uint16_t>(*vid), *vni});
    } else if (key == "flood") {
      if (auto st = need_value(); !st) return st.error();
      auto at = val.find('@');
      if (at == std::string_view::npos) {
        return make_error(EINVAL, "vxlan flood={}: expected VNI@REMOTE", val);
      }
      auto vni = vni_of("flood", val.substr(0, at));
      if (!vni) return vni.error();
      auto remote = Endpoint::parse(val.substr(at + 1), spec.config.port);
      if (!remote) return make_error(EINVAL, "vxlan flood={}: {}", val, remote.error().message);
      spec.floods.emplace_back(*vni, *remote);
    } else if (key == "static") {
      if (auto st = need_value(); !st) return st.error();
      auto w = split(val, '@');
      if (w.size() != 3) return make_error(EINVAL, "vxlan static={}: expected VNI@MAC@REMOTE", val);
      auto vni = vni_of("static", w[0]);
      if (!vni) return vni.error();
      auto mac = packet::MacAddress::parse(w[1]);
      if (!mac) return make_error(EINVAL, "vxlan static={}: {}", val, mac.error().message);
      auto remote = Endpoint::parse(w[2], spec.config.port);
      if (!remote) return make_error(EINVAL, "vxlan static={}: {}", val, remote.error().message);
      spec.statics.push_back({*vni, *mac, *remote});
    } else if (key == "mtu") {
      if (auto st = need_value(); !st) return st.error();
      auto v = parse_int(val, 1280, 65535);
      if (!v) return make_error(EINVAL, "vxlan mtu={}: expected 1280 to 65535 bytes", val);
      spec.config.underlay_mtu = static_cast<size_t>(*v);
    } else if (key == "vni") {
      if (auto st = need_value(); !st) return st.error();
      auto vni = vni_of("vni", val);
      if (!vni) return vni.error();
      spec.config.untagged_vni = *vni;
    } else if (key == "ttl") {
      if (auto st = need_value(); !st) return st.error();
      auto v = parse_int(val, 1, 255);
      if (!v) return make_error(EINVAL, "vxlan ttl={}: expected 1 to 255", val);
      spec.ttl = static_cast<int>(*v);
    } else if (key == "netns") {
      if (auto st = need_value(); !st) return st.error();
      if (val.empty() || val.front() != '/') {
        return make_error(EINVAL,
                          "vxlan netns={}: expected an absolute path to a network "
                          "namespace (/run/netns/NAME, /proc/PID/ns/net)",
                          val);
      }
      spec.netns = std::string(val);
    } else if (key == "ageing") {
      if (auto st = need_value(); !st) return st.error();
      auto v = parse_int(val, 1, 1000000);
      if (!v) return make_error(EINVAL, "vxlan ageing={}: expected 1 to 1000000 seconds", val);
      spec.config.ageing = std::chrono::seconds(*v);
    } else {
      return make_error(EINVAL,
                        "vxlan: unknown option '{}' (map, vni, flood, static, csum, nolearning, "
                        "known-peers, inner-tags, mtu, ageing, ttl, netns)",
                        opt);
    }
  }
  if (spec.config.untagged_vni && !spec.maps.empty()) {
    return make_error(EINVAL, "vxlan:{}: vni= (one VNI, untagged) and map= exclude each other",
                      text);
  }
  if (spec.maps.empty() && !spec.config.untagged_vni) {
    return make_error(EINVAL, "vxlan:{}: expected at least one map=VID:VNI (or vni=VNI)", text);
  }
  if (unspecified(spec.local)) {
    if (spec.config.udp_checksum && !spec.local.v6) {
      return make_error(EINVAL, "vxlan:{}: csum needs a local address, not 0.0.0.0", text);
    }
    spec.config.local.reset();  // checksums (IPv6) are left to the kernel
  }
  return spec;
}

Result<Vtep> make_vtep(const VtepSpec& spec) {
  Vtep v(spec.config);
  for (const auto& m : spec.maps) {
    if (auto st = v.map(m.vid, m.vni); !st)
      return make_error(st.error().code, "vxlan map: {}", st.error().message);
  }
  for (const auto& [vni, e] : spec.floods) {
    if (auto st = v.add_flood(vni, e); !st)
      return make_error(EINVAL, "vxlan flood: {}", st.error().message);
  }
  for (const auto& s : spec.statics) {
    if (auto st = v.add_static(s.vni, s.mac, s.remote); !st) {
      return make_error(EINVAL, "vxlan static: {}", st.error().message);
    }
  }
  return v;
}

Result<UdpCableSpec> parse_udp_cable_spec(std::string_view text) {
  auto parts = split(text, ',');
  UdpCableSpec spec;
  auto port_required = [](std::string_view what, std::string_view t) -> Result<Endpoint> {
    auto e = Endpoint::parse(t, 0);
    if (!e) return make_error(EINVAL, "udp {}: {}", what, e.error().message);
    if (e->port == 0) {
      return make_error(EINVAL, "udp {} '{}': expected ADDR:PORT ([V6ADDR]:PORT) with a port", what,
                        t);
    }
    return e;
  };
  auto local = port_required("local", parts[0]);
  if (!local) return local.error();
  spec.local = *local;
  bool have_remote = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view opt = parts[i];
    if (opt.substr(0, 7) != "remote=") {
      return make_error(EINVAL, "udp: unknown option '{}' (remote=ADDR:PORT)", opt);
    }
    auto remote = port_required("remote", opt.substr(7));
    if (!remote) return remote.error();
    spec.remote = *remote;
    have_remote = true;
  }
  if (!have_remote) return make_error(EINVAL, "udp:{}: expected remote=ADDR:PORT", text);
  if (spec.remote.v6 != spec.local.v6) {
    return make_error(EINVAL, "udp:{}: local and remote are of different address families", text);
  }
  if (spec.remote.is_multicast() || unspecified(spec.remote)) {
    return make_error(EINVAL, "udp:{}: remote {} is not a unicast address", text,
                      spec.remote.to_string());
  }
  return spec;
}

namespace {

// One side of a udp:// locator: the last ':' splits address and port (libvdeplug_udp.c's
// rindex); "[V6]:PORT" is accepted too. `addr` empty when there is none.
struct HostPort {
  std::string addr;
  std::string port;
};
HostPort split_host_port(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return {"", std::string(s)};
  std::string_view a = s.substr(0, colon);
  if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  return {std::string(a), std::string(s.substr(colon + 1))};
}

std::string join_host_port(const std::string& addr, const std::string& port) {
  return addr.find(':') != std::string::npos ? fmt::format("[{}]:{}", addr, port)
                                             : fmt::format("{}:{}", addr, port);
}

Result<std::string> udp_locator(std::string_view spec, std::string_view rest) {
  auto arrow = rest.find("->");
  if (arrow == std::string_view::npos) {
    return make_error(EINVAL, "{}: expected udp://[SRCADDR:]SRCPORT->DSTADDR:DSTPORT", spec);
  }
  HostPort src = split_host_port(rest.substr(0, arrow));
  HostPort dst = split_host_port(rest.substr(arrow + 2));
  if (dst.addr.empty()) {
    return make_error(EINVAL, "{}: destination '{}': expected DSTADDR:DSTPORT", spec,
                      rest.substr(arrow + 2));
  }
  auto dst_ep = Endpoint::parse(join_host_port(dst.addr, dst.port), 0);
  if (!dst_ep) {
    return make_error(EINVAL, "{}: destination: {} (vnet takes address literals, not host names)",
                      spec, dst_ep.error().message);
  }
  if (src.addr.empty()) src.addr = dst_ep->v6 ? "::" : "0.0.0.0";
  std::string out = fmt::format("udp:{},remote={}", join_host_port(src.addr, src.port),
                                join_host_port(dst.addr, dst.port));
  if (auto st = parse_udp_cable_spec(std::string_view(out).substr(4)); !st) {
    return make_error(EINVAL, "{}: {}", spec, st.error().message);
  }
  return out;
}

Result<std::string> vxlan_locator(std::string_view spec, std::string_view rest) {
  auto parts = split(rest, '/');
  std::string group(parts[0]);
  std::string port = "4789", vni = "1", ttl = "1", ageing;
  bool v4 = false, v6 = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.empty()) continue;
    auto eq = p.find('=');
    std::string_view key = p.substr(0, eq);
    std::string val(eq == std::string_view::npos ? "" : p.substr(eq + 1));
    if (key == "port") {
      port = val;
    } else if (key == "vni") {
      vni = val;
    } else if (key == "ttl") {
      ttl = val;
    } else if (key == "expiretime") {
      ageing = val;
    } else if (key == "v4") {
      v4 = true;
    } else if (key == "v6") {
      v6 = true;
    } else if (key == "if" || key == "rcvbuf" || key == "hashsize") {
      return make_error(EINVAL,
                        "{}: /{} is not supported by vnet (route the group instead: ip route add "
                        "224.0.0.0/4 dev IF)",
                        spec, key);
    } else {
      return make_error(EINVAL, "{}: unknown key '{}' (port, vni, ttl, v4, v6, expiretime)", spec,
                        key);
    }
  }
  // Numbers only: a value never adds options to the spec it becomes ("/ttl=1,nolearning").
  struct Number {
    const char* key;
    const std::string& value;
    int64_t lo, hi;
  };
  for (const Number& n : {Number{"port", port, 1, 65535}, Number{"vni", vni, 0, packet::kMaxVni},
                          Number{"ttl", ttl, 1, 255}, Number{"expiretime", ageing, 1, 1000000}}) {
    if (&n.value == &ageing && ageing.empty()) continue;
    if (!parse_int(n.value, n.lo, n.hi)) {
      return make_error(EINVAL, "{}: /{}={}: expected a number from {} to {}", spec, n.key, n.value,
                        n.lo, n.hi);
    }
  }
  if (group.empty()) group = v6 && !v4 ? "ff05:56de::1" : "239.0.0.1";
  auto g = Endpoint::parse(join_host_port(group, port), 0);
  if (!g) return make_error(EINVAL, "{}: group: {}", spec, g.error().message);
  if (!g->is_multicast()) {
    return make_error(EINVAL, "{}: {} is not a multicast group (vxlan:// floods to a group)", spec,
                      group);
  }
  std::string out = fmt::format("vxlan:{},vni={},flood={}@{},ttl={}",
                                join_host_port(g->v6 ? "::" : "0.0.0.0", port), vni, vni,
                                join_host_port(group, port), ttl);
  if (!ageing.empty()) out += ",ageing=" + ageing;
  if (auto st = parse_vtep_spec(std::string_view(out).substr(6)); !st) {
    return make_error(EINVAL, "{}: {}", spec, st.error().message);
  }
  return out;
}

}  // namespace

std::optional<Result<std::string>> from_vde_locator(std::string_view spec) {
  if (spec.substr(0, 6) == "udp://") return udp_locator(spec, spec.substr(6));
  if (spec.substr(0, 8) == "vxlan://") return vxlan_locator(spec, spec.substr(8));
  return std::nullopt;
}

Result<std::vector<uint16_t>> check_tunnel_spec(std::string_view spec) {
  std::string text(spec);
  if (auto locator = from_vde_locator(spec)) {
    if (!*locator) return locator->error();
    text = **locator;
  }
  std::string_view t = text;
  if (t.substr(0, 4) == "udp:") {
    if (auto c = parse_udp_cable_spec(t.substr(4)); !c) return c.error();
    return std::vector<uint16_t>{};
  }
  if (t.substr(0, 6) == "vxlan:") {
    auto v = parse_vtep_spec(t.substr(6));
    if (!v) return v.error();
    if (auto vtep = make_vtep(*v); !vtep) return vtep.error();
    std::vector<uint16_t> vids;
    for (const auto& m : v->maps) vids.push_back(m.vid);
    return vids;
  }
  return make_error(EINVAL, "'{}': expected vxlan:…, udp:…, udp://… or vxlan://…", spec);
}

}  // namespace vnet::overlay
