#include "overlay/spec.hh"

#include <cerrno>

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
                        "vxlan: unknown option '{}' (map, flood, static, csum, nolearning, "
                        "known-peers, inner-tags, mtu, ageing, netns)",
                        opt);
    }
  }
  if (spec.maps.empty()) {
    return make_error(EINVAL, "vxlan:{}: expected at least one map=VID:VNI", text);
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

}  // namespace vnet::overlay
