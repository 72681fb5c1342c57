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

std::string_view acceptable_frames_name(AcceptableFrames a) {
  switch (a) {
    case AcceptableFrames::kAll:
      return "all";
    case AcceptableFrames::kTaggedOnly:
      return "tagged";
    case AcceptableFrames::kUntaggedOnly:
      return "untagged";
  }
  return "?";
}

Result<AcceptableFrames> parse_acceptable_frames(const std::string& text) {
  for (auto a :
       {AcceptableFrames::kAll, AcceptableFrames::kTaggedOnly, AcceptableFrames::kUntaggedOnly}) {
    if (text == acceptable_frames_name(a)) return a;
  }
  return make_error(EINVAL, "bad acceptable frame types '{}': expected all, tagged or untagged",
                    text);
}

std::string PortConfig::to_string() const {
  std::string s;
  if (mode == Mode::kAccess) {
    s = "access " + std::to_string(access_vlan);
  } else {
    s = "trunk " + (trunk_vlans.any() ? join_vlans(trunk_vlans) : std::string("none"));
    if (native_vlan) s += " native " + std::to_string(*native_vlan);
  }
  if (admit) s += " admit " + std::string(acceptable_frames_name(*admit));
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
  constexpr const char* kUsage =
      "expected 'access VLAN [admit all|tagged|untagged]' or 'trunk VLANS|none [native VLAN] "
      "[admit all|tagged|untagged]'";
  if (w.size() < 2) return make_error(EINVAL, "{}", kUsage);
  PortConfig c;
  if (w[0] == "access") {
    auto v = parse_vid(w[1]);
    if (!v) return v.error();
    c = access(*v);
  } else if (w[0] == "trunk") {
    std::vector<VlanId> vs;
    if (w[1] != "none") {
      auto list = parse_vlan_list(w[1]);
      if (!list) return list.error();
      vs = std::move(*list);
    }
    c = trunk(vs);
  } else {
    return make_error(EINVAL, "{}, got '{}'", kUsage, w[0]);
  }
  // Optional "KEY VALUE" pairs, each at most once: native (trunk only), then admit.
  size_t i = 2;
  if (c.mode == Mode::kTrunk && i < w.size() && w[i] == "native") {
    if (i + 1 >= w.size()) return make_error(EINVAL, "'native' needs a VLAN");
    auto n = parse_vid(w[i + 1]);
    if (!n) return n.error();
    c.native_vlan = *n;
    i += 2;
  }
  if (i < w.size() && w[i] == "admit") {
    if (i + 1 >= w.size()) return make_error(EINVAL, "'admit' needs all, tagged or untagged");
    auto a = parse_acceptable_frames(w[i + 1]);
    if (!a) return a.error();
    c.admit = *a;
    i += 2;
  }
  if (i < w.size()) {
    return make_error(EINVAL, "unexpected '{}' after '{}': {}", w[i], w[i - 1], kUsage);
  }
  if (c.mode == Mode::kTrunk && !c.native_vlan && c.admit == AcceptableFrames::kUntaggedOnly) {
    return make_error(EINVAL,
                      "a trunk without a native VLAN has no VLAN for untagged frames: 'admit "
                      "untagged' would admit nothing");
  }
  return c;
}

}  // namespace vnet::bridge
