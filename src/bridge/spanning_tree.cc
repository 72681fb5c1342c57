#include "bridge/spanning_tree.hh"

#include <algorithm>
#include <variant>

#include "base/hash.hh"
#include "base/log.hh"
#include "stp/bpdu.hh"

namespace vnet::bridge {
namespace {

// A locally administered unicast address from the bridge name (FNV-1a), so a bridge keeps its
// identifier across restarts and two bridges of one lab differ.
packet::MacAddress address_for(const std::string& name) {
  uint64_t h = fnv1a("vnet-bridge:" + name);
  packet::MacAddress m;
  m.bytes[0] = 0x02;
  for (int i = 1; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(h >> (8 * (i - 1)));
  return m;
}

std::string root_port_text(const std::optional<stp::PortNo>& p) {
  return p ? fmt::format("via port {}", *p) : std::string("(this bridge)");
}

}  // namespace

std::string_view stp_mode_name(StpMode m) {
  switch (m) {
    case StpMode::kOff:
      return "off";
    case StpMode::kStp:
      return "stp";
    case StpMode::kRstp:
      return "rstp";
  }
  return "?";
}

Result<StpMode> parse_stp_mode(const std::string& text) {
  if (text == "off") return StpMode::kOff;
  if (text == "stp") return StpMode::kStp;
  if (text == "rstp") return StpMode::kRstp;
  return make_error(EINVAL, "spanning tree mode '{}': expected rstp, stp or off", text);
}

SpanningTree::SpanningTree(Bridge& bridge) : br_(bridge), address_(address_for(bridge.name())) {}

SpanningTree::~SpanningTree() = default;

Status SpanningTree::set_mode(StpMode mode, TimePoint now) {
  if (mode == mode_) return {};
  if (mode == StpMode::kOff) {
    engine_.reset();
    mode_ = mode;
    for (PortNo p : br_.port_numbers()) (void)br_.set_port_state(p, PortState::kForwarding);
    log::info("{} stp: off, every port forwarding", br_.name());
    return {};
  }
  stp::BridgeConfig c = config_;
  c.force_version = mode == StpMode::kStp ? 0 : 2;
  if (engine_) {
    if (auto s = engine_->configure(c, now); !s) return s;
    config_ = c;
    mode_ = mode;
    apply();
    return {};
  }
  auto e = stp::Rstp::create(c, address_, now);
  if (!e) return e.error();
  engine_.emplace(std::move(*e));
  config_ = c;
  mode_ = mode;
  log::info("{} stp: {} on, bridge id {}", br_.name(), stp_mode_name(mode),
            stp::to_string(engine_->status().bridge_id));
  for (PortNo p : br_.port_numbers()) sync_port(p, now);
  apply();
  return {};
}

Status SpanningTree::set_config(const stp::BridgeConfig& config, TimePoint now) {
  stp::BridgeConfig c = config;
  c.force_version = mode_ == StpMode::kStp ? 0 : 2;
  if (auto s = stp::validate(c); !s) return s;
  if (engine_) {
    if (auto s = engine_->configure(c, now); !s) return s;
    apply();
  }
  config_ = c;
  return {};
}

Status SpanningTree::set_port_config(PortNo port, const stp::PortConfig& config, TimePoint now) {
  if (auto s = stp::validate(config, config_.path_cost_method); !s) return s;
  if (engine_ && engine_->port_config(port)) {
    if (auto s = engine_->configure_port(port, config, now); !s) return s;
    apply();
  }
  port_configs_[port] = config;
  return {};
}

stp::PortConfig SpanningTree::port_config(PortNo port) const {
  auto it = port_configs_.find(port);
  return it == port_configs_.end() ? stp::PortConfig{} : it->second;
}

void SpanningTree::on_control(PortNo port, packet::Frame&& frame, TimePoint now) {
  if (!engine_) return;
  std::span<const uint8_t> bytes = frame.bytes();
  if (bytes.size() < 6 || !std::equal(stp::kBridgeGroupAddress.bytes.begin(),
                                      stp::kBridgeGroupAddress.bytes.end(), bytes.begin())) {
    return;  // LACP, EAPOL, LLDP …: not spanning tree's
  }
  auto bpdu = stp::decode_bpdu_frame(bytes);
  if (!bpdu) {
    ++bad_bpdus_;
    return;
  }
  engine_->receive(port, *bpdu, now);
  apply();
}

void SpanningTree::sync_port(PortNo port, TimePoint now) {
  if (!engine_ || !br_.has_port(port)) return;
  if (!engine_->port_config(port)) {
    if (auto s = engine_->add_port(port, port_config(port), now); !s) {
      log::warn("{} stp: port {}: {}", br_.name(), port, s.error().message);
      return;
    }
  }
  auto st = engine_->port_status(port);
  bool up = br_.active(port);
  if (st && st->link_up != up) {
    if (up) {
      engine_->link_up(port, kLinkSpeedMbps, true, now);
    } else {
      engine_->link_down(port, now);
    }
  }
  apply();
}

void SpanningTree::port_removed(PortNo port, TimePoint now) {
  if (!engine_ || !engine_->port_config(port)) return;
  (void)engine_->remove_port(port, now);
  apply();
}

void SpanningTree::tick(TimePoint now) {
  if (!engine_) return;
  engine_->tick(now);
  apply();
}

Status SpanningTree::mcheck(PortNo port, TimePoint now) {
  if (!engine_) return make_error(ENOTCONN, "spanning tree is off on bridge {}", br_.name());
  if (!engine_->port_config(port)) return make_error(ENXIO, "port {} has no spanning tree", port);
  engine_->mcheck(port, now);
  apply();
  return {};
}

Status SpanningTree::clear_error(PortNo port, TimePoint now) {
  if (!engine_) return make_error(ENOTCONN, "spanning tree is off on bridge {}", br_.name());
  if (auto s = engine_->clear_error(port, now); !s) return s;
  apply();
  return {};
}

std::optional<TimePoint> SpanningTree::next_tick() const {
  if (!engine_) return std::nullopt;
  return engine_->next_tick();
}

void SpanningTree::apply() {
  if (!engine_) return;
  const std::string& name = br_.name();
  for (auto& action : engine_->take_actions()) {
    std::visit(
        [&](auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, stp::SendBpdu>) {
            auto bytes = stp::encode_bpdu_frame(address_, a.bpdu);
            (void)br_.send_control(a.port, packet::Frame::copy_of(bytes));
          } else if constexpr (std::is_same_v<A, stp::SetPortState>) {
            if (br_.has_port(a.port)) {
              (void)br_.set_port_state(a.port, a.state);
              log::info("{} stp: port {} {}", name, a.port, stp::state_name(a.state));
            }
          } else if constexpr (std::is_same_v<A, stp::Flush>) {
            size_t n = br_.fdb().flush(a.port);
            if (n) log::info("{} stp: port {} flushed {} learned addresses", name, a.port, n);
          } else if constexpr (std::is_same_v<A, stp::PortErrorDisabled>) {
            log::warn(
                "{} stp: port {} error-disabled by BPDU guard (a BPDU on an edge port); "
                "stp/clear {} brings it back",
                name, a.port, a.port);
          } else if constexpr (std::is_same_v<A, stp::RoleChanged>) {
            log::info("{} stp: port {} role {} → {}", name, a.port, stp::role_name(a.from),
                      stp::role_name(a.to));
          } else if constexpr (std::is_same_v<A, stp::RootChanged>) {
            log::info("{} stp: root {} cost {} {}", name, stp::to_string(a.root), a.root_path_cost,
                      root_port_text(a.root_port));
          } else if constexpr (std::is_same_v<A, stp::TopologyChange>) {
            log::info("{} stp: topology change on port {} ({})", name, a.port,
                      stp::tc_cause_name(a.cause));
          } else if constexpr (std::is_same_v<A, stp::ProtocolChanged>) {
            log::info("{} stp: port {} speaks {}", name, a.port,
                      a.rstp ? "RSTP" : "802.1D STP (a legacy bridge is there)");
          } else if constexpr (std::is_same_v<A, stp::Inconsistent>) {
            log::warn("{} stp: port {} {} {}", name, a.port,
                      a.guard == stp::Guard::kRoot ? "root-inconsistent" : "loop-inconsistent",
                      a.active ? "(held discarding)" : "cleared");
          }
        },
        action);
  }
}

}  // namespace vnet::bridge
