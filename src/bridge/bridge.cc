#include "bridge/bridge.hh"

#include <algorithm>
#include <optional>

#include "base/byte_io.hh"
#include "bridge/arp_filter.hh"
#include "packet/ethernet.hh"
#include "packet/tag_stack.hh"

namespace vnet::bridge {

using packet::Frame;

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kSourceMulticast:
      return "source_multicast";
    case DropReason::kFrameTypeNotAdmitted:
      return "frame_type_not_admitted";
    case DropReason::kVlanNotMember:
      return "vlan_not_member";
    case DropReason::kUntaggedNotAllowed:
      return "untagged_not_allowed";
    case DropReason::kReservedVid:
      return "reserved_vid";
    case DropReason::kPortDiscarding:
      return "port_discarding";
    case DropReason::kPortLearning:
      return "port_learning";
    case DropReason::kMacLimit:
      return "mac_limit";
    case DropReason::kStaticMacConflict:
      return "static_mac_conflict";
    case DropReason::kSamePort:
      return "same_port";
    case DropReason::kExposedTag:
      return "exposed_tag";
    case DropReason::kStormGuard:
      return "storm_guard";
    case DropReason::kPortInactive:
      return "port_inactive";
    case DropReason::kTxQueueFull:
      return "tx_queue_full";
    case DropReason::kOffload:
      return "offload";
    case DropReason::kLinkSilent:
      return "link_silent";
    case DropReason::kUnauthorized:
      return "unauthorized";
    case DropReason::kArpFiltered:
      return "arp_filtered";
    case DropReason::kImpairCarrierDown:
      return "impair_carrier_down";
    case DropReason::kImpairMtu:
      return "impair_mtu";
    case DropReason::kImpairEveryNth:
      return "impair_every_nth";
    case DropReason::kImpairLoss:
      return "impair_loss";
    case DropReason::kImpairBurstLoss:
      return "impair_burst_loss";
    case DropReason::kImpairQueueFull:
      return "impair_queue_full";
    case DropReason::kCount:
      break;
  }
  return "?";
}

Result<PortState> parse_port_state(const std::string& text) {
  for (auto s : {PortState::kDiscarding, PortState::kLearning, PortState::kForwarding}) {
    if (text == port_state_name(s)) return s;
  }
  return make_error(EINVAL, "bad port state '{}': expected discarding, learning or forwarding",
                    text);
}

uint64_t PortCounters::total_drops() const {
  uint64_t t = 0;
  for (auto d : drops) t += d;
  return t;
}

Bridge::Bridge(std::string name) : name_(std::move(name)), flood_(4096) {
  vlans_.set(kDefaultVlan);
}

Status Bridge::add_port(PortNo port, PortConfig config) {
  if (port == 0 || port > 65535)
    return make_error(EINVAL, "port {} out of range: expected 1..65535", port);
  if (has_port(port)) return make_error(EEXIST, "port {} already exists", port);
  if (auto s = check_vlans_exist(config); !s) return s;
  if (ports_.size() <= port) ports_.resize(port + 1);
  ports_[port] = std::make_unique<Port>();
  ports_[port]->config = std::move(config);
  return {};
}

Status Bridge::remove_port(PortNo port) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  fdb_.flush(port);
  // Static entries pointing at the port go too.
  for (auto& e : fdb_.entries(TimePoint{})) {
    if (e.is_static && e.port == port) fdb_.remove(e.vlan, e.mac);
  }
  ports_[port].reset();
  rebuild_flood_lists();
  return {};
}

Status Bridge::check_vlans_exist(const PortConfig& config) const {
  for (VlanId v : config.members()) {
    if (!vlan_exists(v))
      return make_error(ENXIO, "VLAN {} does not exist: create it first (vlan/create {})", v, v);
  }
  return {};
}

Status Bridge::configure_port(PortNo port, PortConfig config) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  if (auto s = check_vlans_exist(config); !s) return s;
  ports_[port]->config = std::move(config);
  fdb_.flush(port);
  rebuild_flood_lists();
  return {};
}

Status Bridge::set_active(PortNo port, bool active) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  ports_[port]->active = active;
  if (!active) fdb_.flush(port);
  rebuild_flood_lists();
  return {};
}

Status Bridge::set_port_state(PortNo port, PortState state) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  ports_[port]->state = state;
  rebuild_flood_lists();
  return {};
}

Status Bridge::set_authorized(PortNo port, bool authorized) {
  if (!has_port(port)) return make_error(ENXIO, "no port {}", port);
  Port& p = *ports_[port];
  if (p.authorized == authorized) return {};
  p.authorized = authorized;
  if (!authorized) fdb_.flush(port);  // nothing is sent to it on what it said while open
  rebuild_flood_lists();
  return {};
}

Status Bridge::set_drop_arp_for(PortNo port, std::vector<packet::Ipv4Address> senders) {
  if (!has_port(port)) return make_error(ENXIO, "no port {}", port);
  std::sort(senders.begin(), senders.end());
  senders.erase(std::unique(senders.begin(), senders.end()), senders.end());
  ports_[port]->drop_arp_for = std::move(senders);
  return {};
}

Status Bridge::send_control(PortNo port, Frame frame) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  if (!ports_[port]->active)
    return make_error(ENETDOWN, "port {} is inactive (no backend, or link down)", port);
  if (frame.size() < packet::EthernetHeader::kWireSize)
    return make_error(EINVAL, "control frame of {} bytes: need at least 14", frame.size());
  enqueue(port, *ports_[port], std::move(frame));
  return {};
}

void Bridge::reset_counters(PortNo port) {
  if (has_port(port)) ports_[port]->counters = {};
}

void Bridge::count_drop(PortNo port, DropReason reason, uint64_t n) {
  if (has_port(port)) ports_[port]->counters.drops[static_cast<size_t>(reason)] += n;
}

void Bridge::set_drop_observer(PortNo port, BridgeDropObserver* observer) {
  if (has_port(port)) ports_[port]->observer = observer;
}

std::vector<PortNo> Bridge::port_numbers() const {
  std::vector<PortNo> out;
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (ports_[p]) out.push_back(p);
  }
  return out;
}

Status Bridge::create_vlan(VlanId vlan) {
  if (vlan < 1 || vlan > packet::kVidMax)
    return make_error(EINVAL, "VLAN {} out of range: expected 1..4094", vlan);
  if (vlans_.test(vlan)) return make_error(EEXIST, "VLAN {} already exists", vlan);
  vlans_.set(vlan);
  return {};
}

Status Bridge::remove_vlan(VlanId vlan) {
  if (!vlan_exists(vlan)) return make_error(ENXIO, "VLAN {} does not exist", vlan);
  if (vlan == kDefaultVlan)
    return make_error(EPERM, "VLAN 1 is the default VLAN and cannot be removed");
  if (!vlan_ports(vlan).empty())
    return make_error(EADDRINUSE, "VLAN {} still has member ports", vlan);
  vlans_.reset(vlan);
  fdb_.flush(std::nullopt, vlan);
  return {};
}

std::vector<VlanId> Bridge::vlan_ids() const {
  std::vector<VlanId> out;
  for (VlanId v = 1; v <= packet::kVidMax; ++v) {
    if (vlans_.test(v)) out.push_back(v);
  }
  return out;
}

std::vector<PortNo> Bridge::vlan_ports(VlanId vlan) const {
  std::vector<PortNo> out;
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (ports_[p] && ports_[p]->config.is_member(vlan)) out.push_back(p);
  }
  return out;
}

void Bridge::rebuild_flood_lists() {
  for (auto& l : flood_) l.clear();
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (!ports_[p] || !ports_[p]->active || ports_[p]->state != PortState::kForwarding ||
        !ports_[p]->authorized) {
      continue;
    }
    const auto& c = ports_[p]->config;
    if (c.mode == PortConfig::Mode::kAccess) {
      flood_[c.access_vlan].push_back(p);
    } else {
      for (VlanId v : c.members()) flood_[v].push_back(p);
    }
  }
}

void Bridge::ingress(PortNo in, std::span<Frame> frames, TimePoint now) {
  for (Frame& f : frames) {
    if (!has_port(in)) return;  // the control hook may have reconfigured the bridge
    Port& port = *ports_[in];
    ++port.counters.rx_frames;
    port.counters.rx_bytes += f.size();
    if (!port.active) {
      drop(in, port, DropReason::kPortInactive, f);
      continue;
    }
    process(in, port, f, now);
  }
}

// Removes the tag at offset 12 in place.
static void strip_tag(Frame& f) {
  uint8_t* d = f.data();
  std::memmove(d + 4, d, 12);
  f.pull_front(4);
  if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start -= 4;
}

// Known unicast to its port, anything else flooded in the VLAN; each egress by classify_egress.
// The classified tag is removed (pop_outer) only once the frame is not filtered on its ingress
// port: a drop is reported with the frame as received.
[[gnu::always_inline]] inline void Bridge::forward(PortNo in, Port& port, Frame& f, VlanId vid,
                                                   uint16_t leading_type, uint16_t tci,
                                                   bool pop_outer, TimePoint now) {
  packet::MacAddress dst;
  std::memcpy(dst.bytes.data(), f.data(), 6);
  std::optional<PortNo> out;
  if (!dst.is_multicast()) out = fdb_.lookup(vid, dst, now);
  if (out && *out == in) return drop(in, port, DropReason::kSamePort, f);
  if (pop_outer) strip_tag(f);
  if (out && has_port(*out) && ports_[*out]->active &&
      ports_[*out]->state == PortState::kForwarding && ports_[*out]->authorized &&
      ports_[*out]->config.is_member(vid)) {
    Port& to = *ports_[*out];
    EgressDecision e = classify_egress(vid, to.config, leading_type);
    if (e.action == EgressAction::kDrop) return drop(*out, to, e.reason, f, false);
    return emit(*out, std::move(f), e.action, tci);
  }
  // Flood within the VLAN: clone for all but the last receiver.
  PortNo last = 0;
  EgressAction last_action = EgressAction::kDrop;
  for (PortNo p : flood_[vid]) {
    if (p == in) continue;
    EgressDecision e = classify_egress(vid, ports_[p]->config, leading_type);
    if (e.action == EgressAction::kDrop) {
      drop(p, *ports_[p], e.reason, f, false);
      continue;
    }
    if (last_action != EgressAction::kDrop) emit(last, f.clone(), last_action, tci);
    last = p;
    last_action = e.action;
  }
  if (last_action != EgressAction::kDrop) emit(last, std::move(f), last_action, tci);
}

void Bridge::process(PortNo in, Port& port, Frame& f, TimePoint now) {
  if (f.size() < packet::EthernetHeader::kWireSize) {
    return drop(in, port, DropReason::kMalformed, f);
  }
  const uint8_t* d = f.data();
  if (is_reserved_group_address(d)) {
    ++port.counters.control;
    if (control_hook_) control_hook_(in, std::move(f), now);
    return;
  }
  if (d[6] & 1) return drop(in, port, DropReason::kSourceMulticast, f);
  if (!port.authorized) [[unlikely]] {
    if (unauthorized_hook_) {
      packet::MacAddress from;
      std::memcpy(from.bytes.data(), d + 6, 6);
      unauthorized_hook_(in, from, now);
      if (!has_port(in)) return;  // the hook may not remove the port, but never trust it
    }
    return drop(in, port, DropReason::kUnauthorized, f);
  }
  packet::TagStack tags;
  if (packet::parse_tag_stack(f.bytes(), tags) != packet::TagStackError::kNone) {
    return drop(in, port, DropReason::kMalformed, f);
  }
  const IngressDecision c = classify_ingress(port.config, tags);
  if (!c.admitted) return drop(in, port, c.drop, f);
  if (port.state == PortState::kDiscarding) {
    return drop(in, port, DropReason::kPortDiscarding, f);
  }
  if (!port.drop_arp_for.empty()) [[unlikely]] {
    switch (arp_filter_verdict(f.bytes(), tags, port.drop_arp_for)) {
      case ArpVerdict::kDeny:
        return drop(in, port, DropReason::kArpFiltered, f);
      case ArpVerdict::kMalformed:
        return drop(in, port, DropReason::kMalformed, f);
      case ArpVerdict::kPass:
        break;
    }
  }

  packet::MacAddress src;
  std::memcpy(src.bytes.data(), d + 6, 6);
  switch (fdb_.learn(c.vid, src, in, now, port.config.mac_limit)) {
    case Fdb::LearnResult::kLimitReached:
      return drop(in, port, DropReason::kMacLimit, f);
    case Fdb::LearnResult::kStaticConflict:
      return drop(in, port, DropReason::kStaticMacConflict, f);
    default:
      break;
  }
  if (port.state == PortState::kLearning) return drop(in, port, DropReason::kPortLearning, f);
  const packet::TagHeader push{static_cast<uint16_t>(packet::EtherType::kVlan), c.pcp, c.dei,
                               c.vid};
  forward(in, port, f, c.vid, c.leading_type, push.tci(), c.pop_outer, now);
}

void Bridge::emit(PortNo out, Frame&& f, EgressAction action, uint16_t tci) {
  if (action == EgressAction::kTag) {
    uint8_t* d = f.push_front(4);
    if (!d) {  // no headroom (cannot happen for our frames, but never write out of bounds)
      Frame copy = Frame::make(f.size() + 4);
      std::memcpy(copy.data() + 16, f.data() + 12, f.size() - 12);
      std::memcpy(copy.data(), f.data(), 12);
      copy.offload = f.offload;
      f = std::move(copy);
      d = f.data();
    } else {
      std::memmove(d, d + 4, 12);
    }
    store_be16(d + 12, static_cast<uint16_t>(packet::EtherType::kVlan));
    store_be16(d + 14, tci);
    if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start += 4;
  }
  enqueue(out, *ports_[out], std::move(f));
}

void Bridge::enqueue(PortNo out, Port& port, Frame&& f) {
  ++port.counters.tx_frames;
  port.counters.tx_bytes += f.size();
  port.out.push_back(std::move(f));
  if (!port.queued) {
    port.queued = true;
    dirty_.push_back(out);
  }
}

}  // namespace vnet::bridge
