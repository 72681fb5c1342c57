#include "bridge/dataplane.hh"

#include <algorithm>

#include "base/log.hh"
#include "packet/offload.hh"

namespace vnet::bridge {

namespace {
// The pool's trim interval: buffers no frame needed for this long go back to the heap.
constexpr Duration kTrimEvery = std::chrono::seconds(2);
// Ageing runs at the next expiry, but not more than once a second.
constexpr Duration kAgeingMinInterval = std::chrono::seconds(1);
}  // namespace

Dataplane::Dataplane(EventLoop& loop, uint32_t numports) : loop_(loop), numports_(numports) {}

Dataplane::~Dataplane() {
  loop_.cancel_timer(ageing_timer_);
  loop_.cancel_timer(trim_timer_);
  loop_.cancel_timer(storm_log_timer_);
  loop_.cancel_timer(stp_timer_);
  loop_.cancel_timer(nac_timer_);
  trees_.clear();
  for (auto& [k, fd] : radius_fds_) loop_.unwatch(fd.get());
  radius_fds_.clear();
  access_.clear();
  if (links_) loop_.unwatch(links_->fd());
  vde_.clear();
  for (auto& [k, a] : attachments_) {
    if (a.egress_timer) loop_.cancel_timer(a.egress_timer);
    if (a.ingress_timer) loop_.cancel_timer(a.ingress_timer);
    if (a.backend) {
      for (int fd : a.backend->fds()) loop_.unwatch(fd);
    }
  }
}

Result<Bridge*> Dataplane::create_bridge(const std::string& name) {
  if (name.empty()) return make_error(EINVAL, "bridge name is empty");
  if (bridges_.count(name)) return make_error(EEXIST, "bridge {} already exists", name);
  auto b = std::make_unique<Bridge>(name);
  Bridge* raw = b.get();
  bridges_[name] = std::move(b);
  // Reserved addresses: EAPOL to port access control, the rest to spanning tree.
  raw->set_control_hook([this, raw](PortNo p, packet::Frame&& f, TimePoint now) {
    on_control(*raw, p, std::move(f), now);
  });
  raw->set_unauthorized_hook([this, raw](PortNo p, const packet::MacAddress& src, TimePoint now) {
    on_unauthorized(*raw, p, src, now);
  });
  return raw;
}

Status Dataplane::remove_bridge(const std::string& name) {
  auto it = bridges_.find(name);
  if (it == bridges_.end()) return make_error(ENXIO, "no bridge named {}", name);
  for (PortNo p : it->second->port_numbers()) forget_port(*it->second, p);
  trees_.erase(it->second.get());
  access_.erase(it->second.get());
  vde_.erase(it->second.get());
  static_only_.erase(it->second.get());
  bridges_.erase(it);
  return {};
}

Bridge* Dataplane::bridge(const std::string& name) {
  auto it = bridges_.find(name);
  return it == bridges_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Dataplane::bridge_names() const {
  std::vector<std::string> out;
  for (auto& [n, _] : bridges_) out.push_back(n);
  return out;
}

Dataplane::Attachment* Dataplane::find(const Bridge& br, PortNo port) {
  auto it = attachments_.find({&br, port});
  return it == attachments_.end() ? nullptr : &it->second;
}

void Dataplane::update_active(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  bool active = a && a->admin_up && a->carrier && (a->backend || a->cable);
  if (a && a->cable) {
    Attachment* peer = find(*a->cable->first, a->cable->second);
    active = active && peer && peer->admin_up;
  }
  bool was = br.active(port);
  (void)br.set_active(port, active);
  if (was != br.active(port)) {
    stp_port_changed(br, port);
    if (access_.count(&br)) nac_changed();  // nac_run() tells the port's authenticator
  }
}

Result<PortNo> Dataplane::attach(Bridge& br, PortNo port, std::unique_ptr<io::Backend> backend,
                                 bool dynamic) {
  if (port == 0) {
    for (PortNo p = 1; p <= numports_; ++p) {
      if (!br.has_port(p)) {
        port = p;
        break;
      }
    }
    if (port == 0)
      return make_error(ENOSPC, "bridge {}: all {} ports are in use", br.name(), numports_);
  }
  Attachment* existing = find(br, port);
  if (existing && (existing->backend || existing->cable)) {
    return make_error(EADDRINUSE, "bridge {} port {} already has {}", br.name(), port,
                      existing->backend ? existing->backend->describe() : std::string("a cable"));
  }
  if (!br.has_port(port)) {
    if (auto s = br.add_port(port); !s) return s.error();
  } else {
    dynamic = false;  // a configured port stays configured
  }
  Attachment& a = attachments_[{&br, port}];
  a.dynamic = dynamic;
  a.backend = std::move(backend);
  if (timestamps_) a.backend->set_timestamps(true);
  Bridge* b = &br;
  for (int fd : a.backend->fds()) {
    if (auto s = loop_.watch(fd, [this, b, port] { poll_port(*b, port); }); !s) return s.error();
  }
  if (!a.admin_up) a.backend->set_carrier(false);  // the link was set down before the attach
  watch_carrier(br, port, a);
  update_active(br, port);
  log::info("{} port {}: attached {}", br.name(), port, a.backend->describe());
  return port;
}

Status Dataplane::attach_spec(Bridge& br, PortNo port, const std::string& spec) {
  if (!br.has_port(port)) {
    if (auto s = br.add_port(port); !s) return s;
  }
  if (spec.rfind("qemu-stream:", 0) == 0) {
    Bridge* b = &br;
    auto l = io::QemuStreamListener::open(loop_, spec.substr(12), port,
                                          [this, b](uint32_t p, std::unique_ptr<io::Backend> be) {
                                            return attach(*b, p, std::move(be), false);
                                          });
    if (!l) return l.error();
    attachments_[{&br, port}].listener = std::move(*l);
    return {};
  }
  auto be = io::make_backend(spec);
  if (!be) return be.error();
  auto r = attach(br, port, std::move(*be), false);
  if (!r) return r.error();
  return {};
}

void Dataplane::drop_backend(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a || !a->backend) return;
  for (int fd : a->backend->fds()) loop_.unwatch(fd);
  log::info("{} port {}: detached {}", br.name(), port, a->backend->describe());
  // Destroying the backend may run inside its own callback: defer the destruction.
  auto dead = std::make_shared<std::unique_ptr<io::Backend>>(std::move(a->backend));
  loop_.defer([dead] {});
  if (a->dynamic && !a->listener) {
    erase_attachment(br, port);
    (void)br.remove_port(port);
  } else {
    update_active(br, port);
  }
}

Status Dataplane::detach(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a) return make_error(ENXIO, "bridge {} port {} has nothing attached", br.name(), port);
  if (a->cable) {
    auto [pb, pp] = *a->cable;
    if (Attachment* peer = find(*pb, pp)) peer->cable.reset();
    a->cable.reset();
    update_active(*pb, pp);
  }
  a->listener.reset();
  drop_backend(br, port);
  update_active(br, port);
  return {};
}

void Dataplane::forget_port(Bridge& br, PortNo port) {
  if (find(br, port)) {
    (void)detach(br, port);
    erase_attachment(br, port);
  }
  if (auto it = trees_.find(&br); it != trees_.end()) {
    it->second->port_removed(port, loop_.clock().now());
    stp_changed();
  }
  if (auto it = access_.find(&br); it != access_.end()) it->second->port_removed(port);
  radius_close(br, port);
}

// A backend on a kernel interface: its carrier now, and from now on through the link monitor.
void Dataplane::watch_carrier(Bridge& br, PortNo port, Attachment& a) {
  a.carrier = true;
  int ifindex = a.backend ? a.backend->link_ifindex() : 0;
  if (ifindex == 0) return;
  if (auto r = io::LinkMonitor::running(ifindex)) a.carrier = *r;
  if (!a.carrier) log::info("{} port {}: no carrier on {}", br.name(), port, a.backend->describe());
  if (links_ || links_failed_) return;
  auto m = io::LinkMonitor::open();
  if (!m) {
    links_failed_ = true;
    log::warn("{}: ports will not follow their interfaces' carrier", m.error().message);
    return;
  }
  links_.emplace(std::move(*m));
  if (auto s = loop_.watch(links_->fd(),
                           [this] {
                             links_->read([this](int ifindex, bool running) {
                               on_carrier(ifindex, running);
                             });
                           });
      !s) {
    log::warn("link monitor: {}", s.error().message);
    links_.reset();
    links_failed_ = true;
  }
}

// ifindex 0: notifications were lost, every port asks its interface again.
void Dataplane::on_carrier(int ifindex, bool running) {
  for (auto& [key, a] : attachments_) {
    int mine = a.backend ? a.backend->link_ifindex() : 0;
    if (mine == 0 || (ifindex != 0 && mine != ifindex)) continue;
    bool now = running;
    if (ifindex == 0) now = io::LinkMonitor::running(mine).value_or(true);
    if (now == a.carrier) continue;
    a.carrier = now;
    Bridge& br = *const_cast<Bridge*>(key.first);
    log::info("{} port {}: carrier {} on {}", br.name(), key.second, now ? "up" : "lost",
              a.backend->describe());
    update_active(br, key.second);
  }
}

SpanningTree& Dataplane::spanning_tree(Bridge& br) {
  auto& t = trees_[&br];
  if (!t) t = std::make_unique<SpanningTree>(br);
  return *t;
}

const SpanningTree* Dataplane::find_spanning_tree(const Bridge& br) const {
  auto it = trees_.find(const_cast<Bridge*>(&br));
  return it == trees_.end() ? nullptr : it->second.get();
}

void Dataplane::stp_port_changed(Bridge& br, PortNo port) {
  auto it = trees_.find(&br);
  if (it == trees_.end() || it->second->mode() == StpMode::kOff) return;
  it->second->sync_port(port, loop_.clock().now());
  stp_changed();
}

// Runs from the event loop only: a change made inside a datapath call (a backend closing while
// its output is sent) must not drain a bridge that is being drained.
void Dataplane::stp_changed() {
  loop_.cancel_timer(stp_timer_);
  stp_timer_ = loop_.add_timer(Duration{0}, [this] {
    stp_timer_ = 0;
    stp_run();
  });
}

// Ticks every tree that is due, sends what the engines queued, and arms the timer at the
// earliest next tick (none while every tree is off).
void Dataplane::stp_run() {
  TimePoint now = loop_.clock().now();
  std::optional<TimePoint> next;
  for (auto& entry : trees_) {
    Bridge* br = entry.first;  // not a structured binding: clang 14 cannot capture one
    SpanningTree* tree = entry.second.get();
    auto due = tree->next_tick();
    if (!due) continue;
    if (*due <= now) {
      tree->tick(now);
      due = tree->next_tick();
    }
    cables_crossed_ = 0;
    br->drain([&](PortNo p, std::vector<packet::Frame>& out) { deliver(*br, p, out, now); });
    run_cables(now);
    if (due && (!next || *due < *next)) next = due;
  }
  if (next) {
    loop_.cancel_timer(stp_timer_);
    stp_timer_ = loop_.add_timer_at(*next, [this] {
      stp_timer_ = 0;
      stp_run();
    });
  }
}

// The port's chain goes with it: held frames are dropped (counted on their stages) and the
// egress timer is cancelled.
void Dataplane::erase_attachment(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a) return;
  a->egress.drop_held();
  a->ingress.drop_held();
  if (a->egress_timer) loop_.cancel_timer(a->egress_timer);
  if (a->ingress_timer) loop_.cancel_timer(a->ingress_timer);
  if (!a->taps.empty()) {
    --tapped_ports_;
    br.set_drop_observer(port, nullptr);
  }
  attachments_.erase({&br, port});
}

Status Dataplane::connect_cable(Bridge& a, PortNo pa, Bridge& b, PortNo pb) {
  if (&a == &b && pa == pb) return make_error(EINVAL, "a cable needs two different ports");
  for (auto [br, p] : {std::pair<Bridge*, PortNo>{&a, pa}, {&b, pb}}) {
    if (!br->has_port(p)) return make_error(ENXIO, "bridge {} has no port {}", br->name(), p);
    Attachment* at = find(*br, p);
    if (at && (at->backend || at->cable))
      return make_error(EADDRINUSE, "bridge {} port {} is in use", br->name(), p);
  }
  attachments_[{&a, pa}].cable = std::pair{&b, pb};
  attachments_[{&b, pb}].cable = std::pair{&a, pa};
  update_active(a, pa);
  update_active(b, pb);
  return {};
}

Status Dataplane::set_link(Bridge& br, PortNo port, bool up) {
  if (!br.has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br.name(), port);
  Attachment& a = attachments_[{&br, port}];
  a.admin_up = up;
  update_active(br, port);
  if (a.cable) update_active(*a.cable->first, a.cable->second);
  if (a.backend) a.backend->set_carrier(up);
  return {};
}

Status Dataplane::set_silent(Bridge& br, PortNo port, bool silent) {
  if (!br.has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br.name(), port);
  Attachment& a = attachments_[{&br, port}];
  a.silent = silent;
  if (a.cable) attachments_[*a.cable].silent = silent;
  log::info("{} port {}: link {}", br.name(), port, silent ? "silent" : "no longer silent");
  return {};
}

Status Dataplane::add_egress_stage(Bridge& br, PortNo port, std::unique_ptr<EgressStage> stage,
                                   size_t at) {
  if (!br.has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br.name(), port);
  if (auto s = attachments_[{&br, port}].egress.add(std::move(stage), at); !s) {
    return make_error(s.error().code, "bridge {} port {}: {}", br.name(), port, s.error().message);
  }
  update_timestamps();
  return {};
}

Result<std::unique_ptr<EgressStage>> Dataplane::remove_egress_stage(Bridge& br, PortNo port,
                                                                    std::string_view name,
                                                                    HeldFrames held) {
  Attachment* a = find(br, port);
  if (!a) return make_error(ENOENT, "bridge {} port {} has no egress stages", br.name(), port);
  TimePoint now = loop_.clock().now();
  released_.clear();
  auto stage = a->egress.remove(name, held, released_, now);
  if (!stage) {
    return make_error(stage.error().code, "bridge {} port {}: {}", br.name(), port,
                      stage.error().message);
  }
  update_timestamps();
  if (!released_.empty()) {
    output(br, port, *a, released_, held_cables(released_));
    run_cables(now);
  }
  if (Attachment* still = find(br, port)) schedule_egress(br, port, *still);
  return stage;
}

const EgressChain* Dataplane::egress_chain(const Bridge& br, PortNo port) const {
  auto it = attachments_.find({&br, port});
  return it == attachments_.end() ? nullptr : &it->second.egress;
}

EgressChain* Dataplane::egress_chain(const Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  return a ? &a->egress : nullptr;
}

bool Dataplane::egress_timer_armed(const Bridge& br, PortNo port) const {
  auto it = attachments_.find({&br, port});
  return it != attachments_.end() && it->second.egress_timer != 0;
}

Status Dataplane::start_vde(Bridge& br, const std::string& dir) {
  if (vde_.count(&br))
    return make_error(EEXIST, "bridge {} already serves VDE at {}", br.name(), vde_[&br]->dir());
  Bridge* b = &br;
  auto s = io::VdeServer::open(loop_, dir, [this, b](uint32_t p, std::unique_ptr<io::Backend> be) {
    return attach(*b, p, std::move(be), true);
  });
  if (!s) return s.error();
  vde_[&br] = std::move(*s);
  return {};
}

std::vector<std::string> Dataplane::vde_dirs() const {
  std::vector<std::string> out;
  for (auto& [b, s] : vde_) out.push_back(s->dir());
  return out;
}

std::string Dataplane::vde_dir(const Bridge& br) const {
  auto it = vde_.find(&br);
  return it == vde_.end() ? std::string() : it->second->dir();
}

std::optional<std::pair<Bridge*, PortNo>> Dataplane::cable_peer(const Bridge& br,
                                                                PortNo port) const {
  auto it = attachments_.find({&br, port});
  if (it == attachments_.end()) return std::nullopt;
  return it->second.cable;
}

io::Backend* Dataplane::backend(const Bridge& br, PortNo port) {
  auto it = attachments_.find({&br, port});
  return it == attachments_.end() ? nullptr : it->second.backend.get();
}

PortInfo Dataplane::port_info(const Bridge& br, PortNo port) const {
  PortInfo info;
  auto it = attachments_.find({&br, port});
  if (it == attachments_.end()) return info;
  const Attachment& a = it->second;
  if (a.backend) {
    info.backend = a.backend->describe();
    info.counters = a.backend->counters();
  }
  if (a.cable) info.cable = a.cable->first->name() + ":" + std::to_string(a.cable->second);
  if (!a.backend && a.listener) info.backend = "qemu-stream listener (waiting)";
  info.dynamic = a.dynamic;
  info.admin_up = a.admin_up;
  info.silent = a.silent;
  return info;
}

void Dataplane::poll_port(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a || !a->backend) return;
  rx_.clear();
  a->backend->receive(rx_, io::kBatch);
  if (a->backend->closed()) {
    drop_backend(br, port);
    return;
  }
  if (!a->taps.empty() && !rx_.empty()) {
    tap(*a, capture::Point::kPre, capture::Direction::kInbound, rx_, loop_.clock().now(),
        a->silent ? drop_reason_name(DropReason::kLinkSilent) : std::string_view{});
  }
  if (a->silent && !rx_.empty()) {
    br.count_drop(port, DropReason::kLinkSilent, rx_.size());
    rx_.clear();
    return;
  }
  // Where the backend reads kernel arrival times, a delay counts from when the switch usually
  // reads a frame after its arrival (read_lag_), not from when it read this one: an undelayed
  // frame meets that usual lag too, so the delay adds what was set on top of the unimpaired
  // path, and a wake-up that came unusually late (a VM's vCPU halted, the host busy) is not
  // added to the delay.
  batch_time_.reset();
  if (auto arrival = a->backend->arrival()) {
    const Duration lag = std::max(loop_.clock().now() - *arrival, Duration{0});
    batch_time_ = *arrival + std::min(lag, read_lag_);
    if (lag > read_lag_) {
      read_lag_ += kReadLagStep;
    } else if (lag < read_lag_) {
      read_lag_ = std::max(read_lag_ - kReadLagStep, Duration{0});
    }
  }
  if (!rx_.empty() && !a->ingress.empty()) {
    a->ingress.run(rx_, stage_time(loop_.clock().now()));
    Bridge* b = &br;
    arm_stage_timer(a->ingress, a->ingress_timer, a->ingress_due,
                    [this, b, port] { on_ingress_timer(*b, port); });
  }
  if (!rx_.empty() && !a->taps.empty()) {
    tap(*a, capture::Point::kPost, capture::Direction::kInbound, rx_, loop_.clock().now());
  }
  if (!rx_.empty()) process(br, port, rx_);
  batch_time_.reset();
}

void Dataplane::update_timestamps() {
  bool want = false;
  for (const auto& [key, a] : attachments_) want |= !a.egress.empty() || !a.ingress.empty();
  if (want == timestamps_) return;
  timestamps_ = want;
  for (auto& [key, a] : attachments_) {
    if (a.backend) a.backend->set_timestamps(want);
  }
}

void Dataplane::process(Bridge& br, PortNo port, std::vector<packet::Frame>& frames) {
  TimePoint now = loop_.clock().now();
  cables_crossed_ = 0;
  br.ingress(port, frames, now);
  br.drain([&](PortNo p, std::vector<packet::Frame>& out) { deliver(br, p, out, now); });
  if (!ageing_timer_ && br.fdb().size() > 0) arm_ageing(now);
  run_cables(now);
  if (!trim_timer_) arm_trim();
}

// Frames that crossed cables: ingress on the far bridge, possibly crossing further. Past as many
// cables as there are bridges they are going round a loop: the storm guard ends them.
// First in, first out: a cable is a link, and a link does not reorder (802.1D-2004 §6.3.3).
// Were the list worked from its end, what a bridge sends in answer would overtake what was sent
// before it on the same cable; spanning tree reads a stale BPDU arriving late as news (a port
// that had agreed and forwards would take an old designated claim for a dispute, §17.21.10, and
// go discarding until it may transmit again, up to a hello time later).
void Dataplane::run_cables(TimePoint now) {
  for (size_t next = 0; next < work_.size(); ++next) {
    Pending w = std::move(work_[next]);
    if (w.cables > bridges_.size()) {
      if (tapped_ports_) {
        if (Attachment* a = find(*w.br, w.port); a && !a->taps.empty()) {
          for (auto point : {capture::Point::kPre, capture::Point::kPost}) {
            tap(*a, point, capture::Direction::kInbound, w.frames, now,
                drop_reason_name(DropReason::kStormGuard));
          }
        }
      }
      storm_guard_drop(*w.br, w.port, w.frames.size(), now);
    } else {
      cables_crossed_ = w.cables;
      if (tapped_ports_) {
        if (Attachment* a = find(*w.br, w.port); a && !a->taps.empty()) {
          tap(*a, capture::Point::kPre, capture::Direction::kInbound, w.frames, now);
          tap(*a, capture::Point::kPost, capture::Direction::kInbound, w.frames, now);
        }
      }
      w.br->ingress(w.port, w.frames, now);
      w.br->drain([&](PortNo p, std::vector<packet::Frame>& out) { deliver(*w.br, p, out, now); });
      if (!ageing_timer_ && w.br->fdb().size() > 0) arm_ageing(now);
    }
    w.frames.clear();
    spare_.push_back(std::move(w.frames));
  }
  work_.clear();
  cables_crossed_ = 0;
}

void Dataplane::storm_guard_drop(Bridge& br, PortNo port, size_t frames, TimePoint now) {
  br.count_drop(port, DropReason::kStormGuard, frames);
  storm_unlogged_ += frames;
  storm_where_ = br.name() + " port " + std::to_string(port);
  storm_guard_log(now);
  if (storm_unlogged_ && !storm_log_timer_) {
    // Logged within the second, even if no further drop or ageing comes by.
    storm_log_timer_ = loop_.add_timer(*storm_logged_ + std::chrono::seconds(1) - now, [this] {
      storm_log_timer_ = 0;
      storm_guard_log(loop_.clock().now());
    });
  }
}

// At most one line a second; what was dropped since is logged by the next drop, the next ageing
// run or the storm guard's timer, whichever comes first after that second.
void Dataplane::storm_guard_log(TimePoint now) {
  if (!storm_unlogged_ || (storm_logged_ && now - *storm_logged_ < std::chrono::seconds(1))) {
    return;
  }
  log::warn(
      "storm guard: dropped {} frames that crossed more than {} cables (a loop of cables?), "
      "latest arriving at {}",
      storm_unlogged_, bridges_.size(), storm_where_);
  storm_unlogged_ = 0;
  storm_logged_ = now;
}

// The most cables any of `frames` (released by an egress stage of a cable port) had crossed.
size_t Dataplane::held_cables(const std::vector<packet::Frame>& frames) {
  size_t n = 0;
  for (auto& f : frames) n = std::max<size_t>(n, f.meta.cables);
  return n;
}

void Dataplane::deliver(Bridge& br, PortNo port, std::vector<packet::Frame>& frames,
                        TimePoint now) {
  Attachment* a = find(br, port);
  if (!a) {
    br.count_drop(port, DropReason::kPortInactive, frames.size());
    return;
  }
  if (!a->taps.empty()) tap(*a, capture::Point::kPre, capture::Direction::kOutbound, frames, now);
  if (!a->egress.empty()) {
    if (a->cable) {  // a stage may hold them: they keep their count of cables crossed
      uint8_t c = static_cast<uint8_t>(std::min<size_t>(cables_crossed_, 255));
      for (auto& f : frames) f.meta.cables = c;
    }
    a->egress.run(frames, stage_time(now));
    schedule_egress(br, port, *a);
    if (frames.empty()) return;
    if (a->cable) {
      output(br, port, *a, frames, held_cables(frames));
      return;
    }
  }
  output(br, port, *a, frames, cables_crossed_);
}

// What leaves a port's egress chain: across the cable, or to the backend.
// `cables`: how many cables the frames crossed before this port's.
void Dataplane::output(Bridge& br, PortNo port, Attachment& a, std::vector<packet::Frame>& frames,
                       size_t cables) {
  if (a.silent) {  // on a cable both ends are silent: this covers both directions
    br.count_drop(port, DropReason::kLinkSilent, frames.size());
    frames.clear();
    return;
  }
  if (!a.taps.empty()) {
    tap(a, capture::Point::kPost, capture::Direction::kOutbound, frames, loop_.clock().now());
  }
  if (a.cable) {
    if (cables > 0) split_control(a, frames);
    // Hand the frames over in a spare vector; `frames` keeps a spare's capacity.
    std::vector<packet::Frame> v;
    if (!spare_.empty()) {
      v = std::move(spare_.back());
      spare_.pop_back();
    }
    v.swap(frames);
    work_.push_back(Pending{a.cable->first, a.cable->second, std::move(v), cables + 1});
    return;
  }
  if (a.backend) {
    send_to_backend(br, port, *a.backend, frames);
  } else {
    br.count_drop(port, DropReason::kPortInactive, frames.size());
  }
  frames.clear();
}

// Frames to the reserved addresses were made by this bridge's control plane (send_control: a
// bridge never relays them), not forwarded: they cross this cable as their first, whatever
// chain of BPDUs led to them, so the storm guard does not count spanning tree's own exchange.
void Dataplane::split_control(Attachment& a, std::vector<packet::Frame>& frames) {
  auto first = std::stable_partition(frames.begin(), frames.end(), [](const packet::Frame& f) {
    return f.size() < 6 || !is_reserved_group_address(f.data());
  });
  if (first == frames.end()) return;
  std::vector<packet::Frame> v;
  if (!spare_.empty()) {
    v = std::move(spare_.back());
    spare_.pop_back();
  }
  for (auto it = first; it != frames.end(); ++it) v.push_back(std::move(*it));
  frames.erase(first, frames.end());
  work_.push_back(Pending{a.cable->first, a.cable->second, std::move(v), 1});
}

// One timer per port, at the earliest due time of its chain, armed only while frames are held.
void Dataplane::schedule_egress(Bridge& br, PortNo port, Attachment& a) {
  Bridge* b = &br;
  arm_stage_timer(a.egress, a.egress_timer, a.egress_due,
                  [this, b, port] { on_egress_timer(*b, port); });
}

// `timer` (due `at`) follows `chain`'s earliest due time, armed for that absolute time (not for
// a duration from a `now` read earlier in the batch, which would make it late by the batch's
// work); none while nothing is held.
void Dataplane::arm_stage_timer(EgressChain& chain, EventLoop::TimerId& timer, TimePoint& at,
                                std::function<void()> fire) {
  auto due = chain.next_due();
  if (timer && (!due || *due != at)) {
    loop_.cancel_timer(timer);
    timer = 0;
  }
  if (!due || timer) return;
  at = *due;
  timer = loop_.add_timer_at(*due, std::move(fire));
}

void Dataplane::on_egress_timer(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a) return;
  a->egress_timer = 0;
  TimePoint now = loop_.clock().now();
  released_.clear();
  a->egress.release(now, released_);
  if (!released_.empty()) {
    output(br, port, *a, released_, held_cables(released_));
    run_cables(now);
  }
  if (Attachment* still = find(br, port)) schedule_egress(br, port, *still);
}

void Dataplane::send_to_backend(Bridge& br, PortNo port, io::Backend& be,
                                std::vector<packet::Frame>& frames) {
  std::span<packet::Frame> batch(frames);
  if (!be.vnet_hdr()) {
    bool any = false;
    for (auto& f : frames) any |= f.offload.any();
    if (any) {
      scratch_.clear();
      for (auto& f : frames) {
        if (f.offload.gso_type != packet::OffloadInfo::kGsoNone) {
          if (!packet::segment_gso(f, scratch_)) br.count_drop(port, DropReason::kOffload);
        } else {
          if (!packet::complete_checksum(f)) {
            br.count_drop(port, DropReason::kOffload);
            continue;
          }
          f.offload = {};
          scratch_.push_back(std::move(f));
        }
      }
      batch = std::span<packet::Frame>(scratch_);
    }
  }
  size_t accepted = be.send(batch);
  if (accepted < batch.size())
    br.count_drop(port, DropReason::kTxQueueFull, batch.size() - accepted);
  if (be.pending_output()) watch_output(br, port, be);
}

// A stream backend with queued output: flush it when its socket can take more, then stop
// watching (level-triggered writable interest must not outlive the queue).
void Dataplane::watch_output(Bridge& br, PortNo port, io::Backend& be) {
  int fd = be.output_fd();
  if (fd < 0 || loop_.wants_writable(fd)) return;
  Bridge* b = &br;
  auto s = loop_.want_writable(fd, [this, b, port, fd] {
    Attachment* a = find(*b, port);
    if (!a || !a->backend) {
      loop_.drop_writable(fd);
      return;
    }
    a->backend->flush();
    if (!a->backend->pending_output()) loop_.drop_writable(fd);
    if (a->backend->closed()) drop_backend(*b, port);
  });
  if (!s)
    log::warn("{} port {}: cannot watch for writability: {}", br.name(), port, s.error().message);
}

void Dataplane::age_all() {
  TimePoint now = loop_.clock().now();
  for (auto& [n, b] : bridges_) b->fdb().age(now);
  storm_guard_log(now);
  if (!ageing_timer_) arm_ageing(now);
}

// Arms the ageing timer at the earliest expiry of a dynamic entry of any bridge (scanning the
// tables: this runs when ageing was idle and a bridge has entries, and when the timer fires).
// A bridge whose table holds static entries only is remembered by its size, so that its next
// batches do not rescan it.
void Dataplane::arm_ageing(TimePoint now) {
  if (ageing_timer_) return;
  std::optional<TimePoint> next;
  for (auto& [n, b] : bridges_) {
    const Fdb& fdb = b->fdb();
    if (fdb.size() == 0) continue;
    auto known = static_only_.find(b.get());
    if (known != static_only_.end() && known->second == fdb.size()) continue;
    bool dynamic = false;
    for (const FdbEntry& e : fdb.entries(now)) {
      if (e.is_static) continue;
      dynamic = true;
      TimePoint t = e.last_seen + fdb.ageing_time();
      if (!next || t < *next) next = t;
    }
    if (dynamic) {
      static_only_.erase(b.get());
    } else {
      static_only_[b.get()] = fdb.size();
    }
  }
  if (!next) return;
  // Fdb::age() removes entries strictly older than the ageing time: fire just after the expiry.
  TimePoint when = std::max(*next + std::chrono::milliseconds(1), now + kAgeingMinInterval);
  ageing_timer_ = loop_.add_timer(when - now, [this] {
    ageing_timer_ = 0;
    age_all();
  });
}

void Dataplane::arm_trim() {
  if (trim_timer_ || packet::FramePool::local().retained_bytes() == 0) return;
  trim_timer_ = loop_.add_timer(kTrimEvery, [this] {
    trim_timer_ = 0;
    packet::FramePool::local().trim();
    arm_trim();
  });
}

// ---- ingress stages: what a port's backend received, before the bridge sees it

Status Dataplane::add_ingress_stage(Bridge& br, PortNo port, std::unique_ptr<EgressStage> stage,
                                    size_t at) {
  if (!br.has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br.name(), port);
  if (auto s = attachments_[{&br, port}].ingress.add(std::move(stage), at); !s) {
    return make_error(s.error().code, "bridge {} port {}: {}", br.name(), port, s.error().message);
  }
  update_timestamps();
  return {};
}

Result<std::unique_ptr<EgressStage>> Dataplane::remove_ingress_stage(Bridge& br, PortNo port,
                                                                     std::string_view name,
                                                                     HeldFrames held) {
  Attachment* a = find(br, port);
  if (!a) return make_error(ENOENT, "bridge {} port {} has no ingress stages", br.name(), port);
  TimePoint now = loop_.clock().now();
  std::vector<packet::Frame> frames;
  auto stage = a->ingress.remove(name, held, frames, now);
  if (!stage) {
    return make_error(stage.error().code, "bridge {} port {}: {}", br.name(), port,
                      stage.error().message);
  }
  update_timestamps();
  Bridge* b = &br;
  arm_stage_timer(a->ingress, a->ingress_timer, a->ingress_due,
                  [this, b, port] { on_ingress_timer(*b, port); });
  if (!frames.empty() && !a->taps.empty()) {
    tap(*a, capture::Point::kPost, capture::Direction::kInbound, frames, now);
  }
  if (!frames.empty()) process(br, port, frames);
  return stage;
}

EgressChain* Dataplane::ingress_chain(const Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  return a ? &a->ingress : nullptr;
}

bool Dataplane::ingress_timer_armed(const Bridge& br, PortNo port) const {
  auto it = attachments_.find({&br, port});
  return it != attachments_.end() && it->second.ingress_timer != 0;
}

void Dataplane::on_ingress_timer(Bridge& br, PortNo port) {
  Attachment* a = find(br, port);
  if (!a) return;
  a->ingress_timer = 0;
  TimePoint now = loop_.clock().now();
  ingress_released_.clear();
  a->ingress.release(now, ingress_released_);
  Bridge* b = &br;
  arm_stage_timer(a->ingress, a->ingress_timer, a->ingress_due,
                  [this, b, port] { on_ingress_timer(*b, port); });
  if (!ingress_released_.empty() && !a->taps.empty()) {
    tap(*a, capture::Point::kPost, capture::Direction::kInbound, ingress_released_, now);
  }
  if (!ingress_released_.empty()) process(br, port, ingress_released_);
}

// ---- captures

Result<std::shared_ptr<capture::Capture>> Dataplane::start_capture(
    const std::vector<std::pair<Bridge*, PortNo>>& ports, const capture::Options& options,
    capture::Filter filter, int64_t epoch_offset_ns) {
  if (ports.empty()) return make_error(EINVAL, "a capture needs at least one port");
  std::vector<capture::Interface> ifaces;
  for (size_t i = 0; i < ports.size(); ++i) {
    auto [br, port] = ports[i];
    if (!br->has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br->name(), port);
    for (size_t j = 0; j < i; ++j) {
      if (ports[j] == ports[i]) {
        return make_error(EINVAL, "bridge {} port {} is listed twice", br->name(), port);
      }
    }
    PortInfo info = port_info(*br, port);
    std::string desc = !info.backend.empty() ? info.backend
                       : !info.cable.empty() ? "cable to " + info.cable
                                             : std::string();
    ifaces.push_back({br->name() + ":" + std::to_string(port), desc, options.snaplen});
  }
  auto c =
      std::make_shared<capture::Capture>(next_capture_id_++, options, std::move(ifaces),
                                         std::move(filter), epoch_offset_ns, loop_.clock().now());
  for (size_t i = 0; i < ports.size(); ++i) {
    auto [br, port] = ports[i];
    Tap t;
    t.capture = c.get();
    t.interface = static_cast<uint32_t>(i);
    add_tap(*br, port, attachments_[{br, port}], t);
  }
  captures_.push_back(c);
  log::info("capture {}: started on {} port(s)", c->id(), ports.size());
  return c;
}

Status Dataplane::stop_capture(uint64_t id) {
  auto it = std::find_if(captures_.begin(), captures_.end(),
                         [&](const auto& c) { return c->id() == id; });
  if (it == captures_.end()) return make_error(ENOENT, "no capture {} is running", id);
  std::shared_ptr<capture::Capture> c = *it;
  captures_.erase(it);
  for (auto& [key, a] : attachments_) {
    remove_taps(a, [&](const Tap& t) { return t.capture == c.get(); });
  }
  c->finish(loop_.clock().now());
  log::info("capture {}: stopped", id);
  return {};
}

void Dataplane::add_tap(Bridge& br, PortNo port, Attachment& a, Tap t) {
  if (a.taps.empty()) {
    ++tapped_ports_;
    a.bridge_drops.dataplane = this;
    a.bridge_drops.attachment = &a;
    a.bridge_drops.bridge = &br;
    a.bridge_drops.port = port;
    br.set_drop_observer(port, &a.bridge_drops);
    a.egress_drops.dataplane = a.ingress_drops.dataplane = this;
    a.egress_drops.attachment = a.ingress_drops.attachment = &a;
    a.egress_drops.direction = capture::Direction::kOutbound;
    a.ingress_drops.direction = capture::Direction::kInbound;
    a.egress.set_drop_observer(&a.egress_drops);
    a.ingress.set_drop_observer(&a.ingress_drops);
  }
  a.taps.push_back(t);
}

void Dataplane::remove_taps(Attachment& a, const std::function<bool(const Tap&)>& which) {
  if (a.taps.empty()) return;
  std::erase_if(a.taps, which);
  if (a.taps.empty()) {
    --tapped_ports_;
    a.bridge_drops.bridge->set_drop_observer(a.bridge_drops.port, nullptr);
    a.egress.set_drop_observer(nullptr);
    a.ingress.set_drop_observer(nullptr);
  }
}

Status Dataplane::add_mirror(Bridge& br, PortNo src, PortNo dst, bool inbound, bool outbound) {
  for (PortNo p : {src, dst}) {
    if (!br.has_port(p)) return make_error(ENXIO, "bridge {} has no port {}", br.name(), p);
  }
  if (src == dst) return make_error(EINVAL, "a port cannot mirror to itself");
  if (!inbound && !outbound) return make_error(EINVAL, "a mirror needs in, out or both");
  for (const MirrorInfo& m : mirrors()) {
    if (m.bridge != br.name()) continue;
    if (m.src == src && m.dst == dst) {
      return make_error(EEXIST, "bridge {}: port {} already mirrors to port {}", br.name(), src,
                        dst);
    }
    if (m.src == dst) {
      return make_error(EINVAL,
                        "bridge {}: port {} is mirrored (to port {}): it cannot be a "
                        "destination",
                        br.name(), dst, m.dst);
    }
    if (m.dst == src) {
      return make_error(EINVAL,
                        "bridge {}: port {} is a mirror destination (of port {}): it "
                        "cannot be a source",
                        br.name(), src, m.src);
    }
  }
  Tap t;
  t.bridge = &br;
  t.mirror_to = dst;
  t.inbound = inbound;
  t.outbound = outbound;
  add_tap(br, src, attachments_[{&br, src}], t);
  log::info("{}: port {} mirrored to port {} ({})", br.name(), src, dst,
            inbound && outbound ? "both"
            : inbound           ? "in"
                                : "out");
  return {};
}

Status Dataplane::remove_mirror(Bridge& br, PortNo src, PortNo dst) {
  Attachment* a = find(br, src);
  auto is = [&](const Tap& t) { return !t.capture && t.mirror_to == dst; };
  if (!a || std::none_of(a->taps.begin(), a->taps.end(), is)) {
    return make_error(ENOENT, "bridge {}: port {} is not mirrored to port {}", br.name(), src, dst);
  }
  remove_taps(*a, is);
  return {};
}

std::vector<Dataplane::MirrorInfo> Dataplane::mirrors() const {
  std::vector<MirrorInfo> out;
  for (const auto& [key, a] : attachments_) {
    for (const Tap& t : a.taps) {
      if (t.capture) continue;
      out.push_back({key.first->name(), key.second, t.mirror_to, t.inbound, t.outbound, t.copied});
    }
  }
  return out;
}

// Copies leave on the destination port as they are: to its backend or across its cable.
void Dataplane::mirror(Tap& t, std::span<const packet::Frame> frames) {
  Attachment* d = find(*t.bridge, t.mirror_to);
  if (!d || (!d->backend && !d->cable)) return;
  std::vector<packet::Frame> copies = std::move(mirror_copies_);
  copies.clear();
  for (const auto& f : frames) copies.push_back(f.clone());
  t.copied += copies.size();
  output(*t.bridge, t.mirror_to, *d, copies, cables_crossed_);
  mirror_copies_ = std::move(copies);
}

void Dataplane::tap(Attachment& a, capture::Point point, capture::Direction direction,
                    std::span<const packet::Frame> frames, TimePoint now,
                    std::string_view dropped) {
  for (Tap& t : a.taps) {
    if (!t.capture) {
      bool wanted = direction == capture::Direction::kInbound ? t.inbound : t.outbound;
      if (wanted && point == capture::Point::kPost && dropped.empty()) mirror(t, frames);
      continue;
    }
    const capture::Options& o = t.capture->options();
    if (o.point != point) continue;
    if (!(direction == capture::Direction::kInbound ? o.inbound : o.outbound)) continue;
    if (dropped.empty()) {
      t.capture->record(t.interface, direction, frames, now);
    } else {
      for (const auto& f : frames)
        t.capture->record_dropped(t.interface, direction, f, dropped, now);
    }
  }
}

void Dataplane::TapDrops::dropped(const packet::Frame& frame, DropReason reason) {
  dataplane->tap_dropped(*attachment, direction, frame, reason);
}

void Dataplane::tap_dropped(Attachment& a, capture::Direction direction, const packet::Frame& frame,
                            DropReason reason) {
  for (const Tap& t : a.taps) {
    if (!t.capture) continue;
    const capture::Options& o = t.capture->options();
    if (o.point != capture::Point::kPre) continue;
    if (!(direction == capture::Direction::kInbound ? o.inbound : o.outbound)) continue;
    t.capture->mark_dropped(frame, drop_reason_name(reason));
  }
}

void Dataplane::BridgeTapDrops::dropped(PortNo port, bool received, const packet::Frame& frame,
                                        DropReason reason) {
  (void)port;
  dataplane->tap_bridge_dropped(*attachment, received, frame, reason);
}

// Received: the frame was recorded (post, and pre unless a stage held it) before the bridge
// dropped it; mark it. Not received: it never reached the port; pre captures record it.
void Dataplane::tap_bridge_dropped(Attachment& a, bool received, const packet::Frame& frame,
                                   DropReason reason) {
  for (const Tap& t : a.taps) {
    if (!t.capture) continue;
    const capture::Options& o = t.capture->options();
    if (received) {
      if (o.inbound) t.capture->mark_dropped(frame, drop_reason_name(reason));
    } else if (o.outbound && o.point == capture::Point::kPre) {
      t.capture->record_dropped(t.interface, capture::Direction::kOutbound, frame,
                                drop_reason_name(reason), loop_.clock().now());
    }
  }
}

}  // namespace vnet::bridge
