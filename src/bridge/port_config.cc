#include "bridge/port_config.hh"

#include <charconv>

#include "packet/ethernet.hh"

namespace vnet::bridge {

PortConfig PortConfig::trunk(const std::vector<VlanId>& vlans, std::optional<VlanId> native) {
  PortConfig c;
  c.mode = Mode::kTrunk;
  for (VlanId v : vlans) c.trunk_vlans.set(v);
  c.native_vlan = native;
  return c;
}

std::vector<VlanId> PortConfig::members() const {
  std::vector<VlanId> out;
  for (VlanId v = 1; v <= packet::kVidMax; ++v) {
    if (is_member(v)) out.push_back(v);
  }
  return out;
}

static std::string join_vlans(const std::bitset<4096>& set) {
  std::string out;
  for (VlanId v = 1; v <= packet::kVidMax; ++v) {
    if (!set.test(v)) continue;
    VlanId end = v;
    while (end + 1 <= packet::kVidMax && set.test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += std::to_string(v);
    if (end > v) out += "-" + std::to_string(end);
    v = end;
  }
  return out;
}

std::string PortConfig::to_string() const {
  if (mode == Mode::kAccess) return "access " + std::to_string(access_vlan);
  std::string s = "trunk " + (trunk_vlans.any() ? join_vlans(trunk_vlans) : std::string("none"));
  if (native_vlan) s += " native " + std::to_string(*native_vlan);
  return s;
}

Result<VlanId> parse_vid(const std::string& text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v < 1 || v > packet::kVidMax) {
    return make_error(EINVAL, "bad VLAN '{}': expected a VID from 1 to 4094", text);
  }
  return static_cast<VlanId>(v);
}

Result<std::vector<VlanId>> parse_vlan_list(const std::string& text) {
  std::vector<VlanId> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = item.find('-');
    if (dash == std::string::npos) {
      auto v = parse_vid(item);
      if (!v) return v.error();
      out.push_back(*v);
    } else {
      auto a = parse_vid(item.substr(0, dash));
      if (!a) return a.error();
      auto b = parse_vid(item.substr(dash + 1));
      if (!b) return b.error();
      if (*b < *a) return make_error(EINVAL, "bad VLAN range '{}': end before start", item);
      for (VlanId v = *a; v <= *b; ++v) out.push_back(v);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

Result<PortConfig> PortConfig::parse(const std::vector<std::string>& w) {
  if (w.size() == 2 && w[0] == "access") {
    auto v = parse_vid(w[1]);
    if (!v) return v.error();
    return access(*v);
  }
  if ((w.size() == 2 || w.size() == 4) && w[0] == "trunk") {
    auto vs = parse_vlan_list(w[1]);
    if (!vs) return vs.error();
    std::optional<VlanId> native;
    if (w.size() == 4) {
      if (w[2] != "native")
        return make_error(EINVAL, "expected 'native VLAN' after the VLAN list, got '{}'", w[2]);
      auto n = parse_vid(w[3]);
      if (!n) return n.error();
      native = *n;
    }
    return trunk(*vs, native);
  }
  return make_error(EINVAL, "expected 'access VLAN' or 'trunk VLANS [native VLAN]'");
}

}  // namespace vnet::bridge
