// Rstp: configuration, inputs, time, queries. The state machines are in rstp_machines.cc.

#include "stp/rstp.hh"

#include <algorithm>

#include "stp/rstp_impl.hh"

namespace vnet::stp {

namespace {

constexpr int kMaxIterations = 100000;
constexpr uint32_t kMaxLongCost = 200'000'000;  // §17.14 Table 17-3
constexpr uint32_t kMaxShortCost = 65535;       // 802.1D-1998 §8.10.2
constexpr uint32_t kUnknownSpeedMbps = 10;      // a link of unknown speed costs as 10 Mb/s

// The range a received time must fall in, in 1/256 s.
bool in_range(uint16_t wire, uint16_t lo_s, uint16_t hi_s) {
  return wire >= to_wire(lo_s) && wire <= to_wire(hi_s);
}

}  // namespace

std::string_view role_name(PortRole r) {
  switch (r) {
    case PortRole::kDisabled:
      return "disabled";
    case PortRole::kRoot:
      return "root";
    case PortRole::kDesignated:
      return "designated";
    case PortRole::kAlternate:
      return "alternate";
    case PortRole::kBackup:
      return "backup";
  }
  return "?";
}

std::string_view state_name(PortState s) {
  switch (s) {
    case PortState::kDiscarding:
      return "discarding";
    case PortState::kLearning:
      return "learning";
    case PortState::kForwarding:
      return "forwarding";
  }
  return "?";
}

std::string_view tc_cause_name(TcCause c) {
  switch (c) {
    case TcCause::kDetected:
      return "detected";
    case TcCause::kTcnReceived:
      return "tcn-received";
    case TcCause::kTcReceived:
      return "tc-received";
  }
  return "?";
}

uint32_t path_cost_for_speed(uint32_t speed_mbps, PathCostMethod method) {
  if (speed_mbps == 0) speed_mbps = kUnknownSpeedMbps;
  if (method == PathCostMethod::kLong) {
    // §17.14 Table 17-3: 20,000,000,000 / (speed in kb/s), at least 1.
    return std::max<uint32_t>(1, 20'000'000 / speed_mbps);
  }
  // 802.1D-1998 Table 8-5.
  if (speed_mbps >= 10000) return 2;
  if (speed_mbps >= 1000) return 4;
  if (speed_mbps >= 100) return 19;
  if (speed_mbps >= 16) return 62;
  if (speed_mbps >= 10) return 100;
  return 250;
}

Status validate(const BridgeConfig& c) {
  if (c.priority > 61440 || c.priority % 4096 != 0) {
    return make_error(EINVAL, "bridge priority {}: expected 0–61440 in steps of 4096", c.priority);
  }
  if (c.system_id > 4095) {
    return make_error(EINVAL, "bridge system_id {}: expected 0–4095", c.system_id);
  }
  if (c.force_version != 0 && c.force_version != 2) {
    return make_error(EINVAL, "bridge force_version {}: expected 0 (STP) or 2 (RSTP)",
                      c.force_version);
  }
  if (c.hello_time < 1 || c.hello_time > 2) {
    return make_error(EINVAL, "bridge hello_time {}: expected 1–2 s", c.hello_time);
  }
  if (c.max_age < 6 || c.max_age > 40) {
    return make_error(EINVAL, "bridge max_age {}: expected 6–40 s", c.max_age);
  }
  if (c.forward_delay < 4 || c.forward_delay > 30) {
    return make_error(EINVAL, "bridge forward_delay {}: expected 4–30 s", c.forward_delay);
  }
  if (c.tx_hold_count < 1 || c.tx_hold_count > 10) {
    return make_error(EINVAL, "bridge tx_hold_count {}: expected 1–10", c.tx_hold_count);
  }
  // §17.14: 2 × (Bridge_Forward_Delay − 1.0 s) ≥ Bridge_Max_Age ≥ 2 × (Bridge_Hello_Time + 1.0 s).
  if (2 * (c.forward_delay - 1) < c.max_age) {
    return make_error(EINVAL,
                      "bridge max_age {} s breaks 2 × (forward_delay − 1 s) ≥ max_age (§17.14): "
                      "2 × ({} − 1) = {}",
                      c.max_age, c.forward_delay, 2 * (c.forward_delay - 1));
  }
  if (c.max_age < 2 * (c.hello_time + 1)) {
    return make_error(EINVAL,
                      "bridge max_age {} s breaks max_age ≥ 2 × (hello_time + 1 s) (§17.14): "
                      "2 × ({} + 1) = {}",
                      c.max_age, c.hello_time, 2 * (c.hello_time + 1));
  }
  return {};
}

Status validate(const PortConfig& c, PathCostMethod method) {
  if (c.priority > 240 || c.priority % 16 != 0) {
    return make_error(EINVAL, "port priority {}: expected 0–240 in steps of 16", c.priority);
  }
  uint32_t max_cost = method == PathCostMethod::kLong ? kMaxLongCost : kMaxShortCost;
  if (c.path_cost > max_cost) {
    return make_error(EINVAL, "port path_cost {}: expected 1–{} ({} method) or 0 for automatic",
                      c.path_cost, max_cost, method == PathCostMethod::kLong ? "long" : "short");
  }
  if (c.bpdu_guard && c.bpdu_filter) {
    return make_error(EINVAL,
                      "port bpdu_guard and bpdu_filter together: a filtered port never sees the "
                      "BPDU the guard acts on; expected one of them");
  }
  return {};
}

// ---- construction

namespace {
// §9.2.5: priority and system ID extension, then the MAC address.
BridgeId bridge_id_of(const BridgeConfig& c, const packet::MacAddress& mac) {
  return BridgeId::make(c.priority, c.system_id, mac);
}
}  // namespace

Result<Rstp> Rstp::create(const BridgeConfig& config, const packet::MacAddress& mac,
                          TimePoint now) {
  if (auto ok = validate(config); !ok) return ok.error();
  auto impl = std::make_unique<Impl>();
  impl->cfg = config;
  impl->mac = mac;
  impl->epoch = impl->now = now;
  impl->bridge_identifier = bridge_id_of(config, mac);
  impl->bridge_priority = {impl->bridge_identifier, 0, impl->bridge_identifier, {}, {}};
  impl->bridge_times = {0, config.max_age, config.forward_delay, config.hello_time};
  impl->root_priority = impl->bridge_priority;
  impl->root_times = impl->bridge_times;
  impl->enter_prs(PrsState::kInitBridge);  // BEGIN
  impl->run();
  return Rstp(std::move(impl));
}

Rstp::Rstp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Rstp::Rstp(Rstp&&) noexcept = default;
Rstp& Rstp::operator=(Rstp&&) noexcept = default;
Rstp::~Rstp() = default;

// ---- glue

Port* Rstp::Impl::find(PortNo n) {
  auto it = ports.find(n);
  return it == ports.end() ? nullptr : &it->second;
}

void Rstp::Impl::advance(TimePoint t) {
  if (t > now) now = t;
  if (t < epoch) return;
  int64_t due = (t - epoch) / std::chrono::seconds(1);
  int64_t n = due - ticks_done;
  if (n <= 0) return;
  if (n > kMaxCatchUpTicks) {
    counters.skipped_ticks += static_cast<uint64_t>(n - kMaxCatchUpTicks);
    ticks_done = due - kMaxCatchUpTicks;
    n = kMaxCatchUpTicks;
  }
  for (int64_t i = 0; i < n; ++i) {
    ++ticks_done;
    port_timers_tick();
    run();
  }
}

// §17.22 Port Timers: every timer that is not zero is decremented once a second.
void Rstp::Impl::port_timers_tick() {
  auto dec = [](uint16_t& t) {
    if (t > 0) --t;
  };
  for (auto& [n, p] : ports) {
    dec(p.hello_when);
    dec(p.tc_while);
    dec(p.fd_while);
    dec(p.rcvd_info_while);
    dec(p.rr_while);
    dec(p.rb_while);
    dec(p.mdelay_while);
    dec(p.edge_delay_while);
    dec(p.tx_count);
  }
}

// The machines run concurrently in the standard; here they are stepped in turn until none has an
// enabled transition. Port Transmit steps only once the others are at rest, so that a BPDU
// carries the outcome of the whole input (any interleaving is allowed by the standard).
void Rstp::Impl::run() {
  for (int i = 0; i < kMaxIterations; ++i) {
    bool changed = step_prs();
    for (auto& [n, p] : ports) {
      changed |= step_prx(p);
      changed |= step_ppm(p);
      changed |= step_bdm(p);
      changed |= step_pim(p);
      changed |= step_prt(p);
      changed |= step_pst(p);
      changed |= step_tcm(p);
    }
    if (!changed) {
      for (auto& [n, p] : ports) changed |= step_ptx(p);
    }
    if (!changed) return;
  }
  ++counters.iteration_limit;
}

void Rstp::Impl::init_port(Port& p) {
  p.port_id = PortId::make(p.config.priority, static_cast<uint16_t>(p.number));
  p.designated_times = root_times;
  p.designated_times.hello_time = bridge_times.hello_time;
  p.port_times = p.designated_times;
  p.port_path_cost =
      p.config.path_cost ? p.config.path_cost : path_cost_for_speed(0, cfg.path_cost_method);
  // BEGIN: every machine to its initial state.
  enter_prt(p, PrtState::kInitPort);
  enter_prx(p, PrxState::kDiscard);
  enter_ppm(p, PpmState::kCheckingRstp);
  enter_bdm(p, p.config.admin_edge ? BdmState::kEdge : BdmState::kNotEdge);
  enter_ptx(p, PtxState::kTransmitInit);
  enter_pim(p, PimState::kDisabled);
  enter_pst(p, PstState::kDiscarding);
  enter_tcm(p, TcmState::kInactive);
}

void Rstp::Impl::update_enabled(Port& p) {
  p.port_enabled = p.config.enabled && p.link_up && !p.error_disabled;
}

void Rstp::Impl::update_path_cost(Port& p) {
  uint32_t cost = p.config.path_cost ? p.config.path_cost
                                     : path_cost_for_speed(p.speed_mbps, cfg.path_cost_method);
  if (cost != p.port_path_cost) {
    p.port_path_cost = cost;
    p.reselect = true;
    p.selected = false;
  }
}

void Rstp::Impl::reselect_all() {
  for (auto& [n, p] : ports) {
    p.reselect = true;
    p.selected = false;
  }
}

void Rstp::Impl::report_root() {
  std::optional<PortNo> root_port;
  if (root_port_id.value != 0) root_port = root_port_id.number();
  if (root_reported && reported_root == root_priority.root &&
      reported_cost == root_priority.root_path_cost && reported_root_port == root_port) {
    return;
  }
  // The first selection (this bridge as root, no port) is the starting point, not a change.
  bool first = !root_reported;
  root_reported = true;
  reported_root = root_priority.root;
  reported_cost = root_priority.root_path_cost;
  reported_root_port = root_port;
  if (!first) actions.push_back(RootChanged{reported_root, reported_cost, root_port});
}

// ---- inputs

Status Rstp::add_port(PortNo port, const PortConfig& config, TimePoint now) {
  if (port < 1 || port > 4095) {
    return make_error(EINVAL, "port {}: expected a port number 1–4095 (§9.2.7)", port);
  }
  if (auto ok = validate(config, impl_->cfg.path_cost_method); !ok) {
    return make_error(EINVAL, "port {}: {}", port, ok.error().message);
  }
  impl_->advance(now);
  auto [it, inserted] = impl_->ports.try_emplace(port);
  if (!inserted) return make_error(EEXIST, "port {} already exists", port);
  Port& p = it->second;
  p.number = port;
  p.config = config;
  impl_->actions.push_back(SetPortState{port, PortState::kDiscarding});
  impl_->init_port(p);
  impl_->run();
  return {};
}

Status Rstp::remove_port(PortNo port, TimePoint now) {
  impl_->advance(now);
  if (!impl_->ports.erase(port)) return make_error(ENOENT, "port {}: no such port", port);
  impl_->reselect_all();
  impl_->run();
  return {};
}

Status Rstp::configure_port(PortNo port, const PortConfig& config, TimePoint now) {
  Port* p = impl_->find(port);
  if (!p) return make_error(ENOENT, "port {}: no such port", port);
  if (auto ok = validate(config, impl_->cfg.path_cost_method); !ok) {
    return make_error(EINVAL, "port {}: {}", port, ok.error().message);
  }
  impl_->advance(now);
  PortConfig old = p->config;
  p->config = config;
  if (old.priority != config.priority || old.root_guard != config.root_guard) {
    p->port_id = PortId::make(config.priority, static_cast<uint16_t>(port));
    impl_->reselect_all();
  }
  if (!config.loop_guard && p->loop_inconsistent) {
    p->loop_inconsistent = false;
    impl_->actions.push_back(Inconsistent{port, Guard::kLoop, false});
  }
  impl_->update_path_cost(*p);
  impl_->update_enabled(*p);
  impl_->run();
  return {};
}

Status Rstp::configure(const BridgeConfig& config, TimePoint now) {
  if (auto ok = validate(config); !ok) return ok.error();
  impl_->advance(now);
  Impl& b = *impl_;
  BridgeConfig old = b.cfg;
  b.cfg = config;
  b.bridge_identifier = bridge_id_of(config, b.mac);
  b.bridge_priority = {b.bridge_identifier, 0, b.bridge_identifier, {}, {}};
  b.bridge_times = {0, config.max_age, config.forward_delay, config.hello_time};
  for (auto& [n, p] : b.ports) {
    // §17.13.4: a new Force Protocol Version is tried at once, as if by mcheck.
    if (old.force_version != config.force_version) p.mcheck = true;
    b.update_path_cost(p);
  }
  b.reselect_all();
  b.run();
  return {};
}

void Rstp::link_up(PortNo port, uint32_t speed_mbps, bool full_duplex, TimePoint now) {
  impl_->advance(now);
  Port* p = impl_->find(port);
  if (!p) return;
  p->link_up = true;
  p->speed_mbps = speed_mbps;
  p->full_duplex = full_duplex;
  impl_->update_path_cost(*p);
  impl_->update_enabled(*p);
  impl_->run();
}

void Rstp::link_down(PortNo port, TimePoint now) {
  impl_->advance(now);
  Port* p = impl_->find(port);
  if (!p) return;
  p->link_up = false;
  impl_->update_enabled(*p);
  impl_->run();
}

void Rstp::receive(PortNo port, const Bpdu& bpdu, TimePoint now) {
  impl_->advance(now);
  Port* p = impl_->find(port);
  if (!p) {
    ++impl_->counters.rx_unknown_port;
    return;
  }
  PortCounters& c = p->counters;
  if (!p->port_enabled) {
    ++c.rx_disabled;
    return;
  }
  if (p->config.bpdu_filter) {
    ++c.rx_filtered;
    return;
  }
  if (p->config.bpdu_guard) {
    ++c.bpdu_guard_trips;
    p->error_disabled = true;
    impl_->update_enabled(*p);
    impl_->actions.push_back(PortErrorDisabled{port});
    impl_->run();
    return;
  }
  if (bpdu.type != BpduType::kConfig && bpdu.type != BpduType::kTcn &&
      bpdu.type != BpduType::kRst) {
    ++c.rx_malformed;
    return;
  }
  if (bpdu.type == BpduType::kRst && bpdu.version < 2) {
    ++c.rx_malformed;
    return;
  }
  if (bpdu.type != BpduType::kTcn) {
    // §9.3.4 a: the port's own BPDU looped back.
    if (bpdu.bridge == impl_->bridge_identifier && bpdu.port == p->port_id) {
      ++c.rx_looped_back;
      return;
    }
    const BpduTimes& t = bpdu.times;
    if (!in_range(t.max_age, 6, 40) || !in_range(t.hello_time, 1, 10) ||
        !in_range(t.forward_delay, 4, 30) || t.message_age >= t.max_age) {
      ++c.rx_bad_times;
      return;
    }
  }
  switch (bpdu.type) {
    case BpduType::kConfig:
      ++c.rx_config;
      break;
    case BpduType::kTcn:
      ++c.rx_tcn;
      break;
    case BpduType::kRst:
      ++c.rx_rst;
      break;
  }
  p->rcvd_bpdu_value = bpdu;
  p->rcvd_bpdu = true;
  impl_->run();
}

void Rstp::tick(TimePoint now) { impl_->advance(now); }

void Rstp::mcheck(PortNo port, TimePoint now) {
  impl_->advance(now);
  Port* p = impl_->find(port);
  if (!p) return;
  p->mcheck = true;
  impl_->run();
}

Status Rstp::clear_error(PortNo port, TimePoint now) {
  Port* p = impl_->find(port);
  if (!p) return make_error(ENOENT, "port {}: no such port", port);
  if (!p->error_disabled) return make_error(EALREADY, "port {} is not error-disabled", port);
  impl_->advance(now);
  p->error_disabled = false;
  impl_->update_enabled(*p);
  impl_->run();
  return {};
}

std::vector<Action> Rstp::take_actions() { return std::exchange(impl_->actions, {}); }

TimePoint Rstp::next_tick() const {
  return impl_->epoch + std::chrono::seconds(impl_->ticks_done + 1);
}

// ---- queries

BridgeStatus Rstp::status() const {
  const Impl& b = *impl_;
  BridgeStatus s;
  s.bridge_id = b.bridge_identifier;
  s.root_id = b.root_priority.root;
  s.root_path_cost = b.root_priority.root_path_cost;
  if (b.root_port_id.value != 0) s.root_port = b.root_port_id.number();
  s.max_age = b.root_times.max_age;
  s.hello_time = b.root_times.hello_time;
  s.forward_delay = b.root_times.forward_delay;
  s.message_age = b.root_times.message_age;
  s.force_version = b.cfg.force_version;
  s.topology_change = std::any_of(b.ports.begin(), b.ports.end(),
                                  [](const auto& kv) { return kv.second.tc_while != 0; });
  s.topology_changes = b.topology_changes;
  s.last_topology_change = b.last_topology_change;
  s.counters = b.counters;
  return s;
}

std::vector<PortNo> Rstp::ports() const {
  std::vector<PortNo> out;
  for (const auto& [n, p] : impl_->ports) out.push_back(n);
  return out;
}

std::optional<PortStatus> Rstp::port_status(PortNo port) const {
  auto it = impl_->ports.find(port);
  if (it == impl_->ports.end()) return std::nullopt;
  const Port& p = it->second;
  PortStatus s;
  s.port = port;
  s.id = p.port_id;
  s.role = p.role;
  s.state = p.reported_state;
  s.path_cost = p.port_path_cost;
  s.link_up = p.link_up;
  s.enabled = p.port_enabled;
  s.oper_edge = p.oper_edge;
  s.oper_p2p = p.oper_p2p();
  s.send_rstp = p.send_rstp;
  s.error_disabled = p.error_disabled;
  s.root_inconsistent = p.root_inconsistent;
  s.loop_inconsistent = p.loop_inconsistent;
  s.topology_change = p.tc_while != 0;
  s.designated_root = p.port_priority.root;
  s.designated_cost = p.port_priority.root_path_cost;
  s.designated_bridge = p.port_priority.designated_bridge;
  s.designated_port = p.port_priority.designated_port;
  s.counters = p.counters;
  return s;
}

const BridgeConfig& Rstp::config() const { return impl_->cfg; }

std::optional<PortConfig> Rstp::port_config(PortNo port) const {
  auto it = impl_->ports.find(port);
  if (it == impl_->ports.end()) return std::nullopt;
  return it->second.config;
}

}  // namespace vnet::stp
