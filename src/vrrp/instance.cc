#include "vrrp/instance.hh"

#include <cstring>

#include "base/log.hh"
#include "vrrp/announce.hh"
#include "vrrp/conf_routes.hh"

namespace vnet::vrrp {
namespace {

RouterConfig router_config(const InstanceConfig& c, const GlobalDefs& g, const AdvertPort& port) {
  RouterConfig rc;
  rc.name = c.name;
  rc.version = static_cast<uint8_t>(c.effective_version(g.vrrp_version));
  rc.vrid = static_cast<uint8_t>(c.vrid);
  rc.priority = static_cast<uint8_t>(c.priority);
  rc.advert_interval = c.advert_int;
  rc.preempt = !c.nopreempt;
  rc.preempt_delay = c.preempt_delay;
  rc.ipv6 = c.ipv6;
  rc.primary4 = port.primary4();
  rc.primary6 = port.primary6();
  for (auto& v : c.vips) {  // excluded addresses are not advertised
    if (v.prefix.v6)
      rc.vips6.push_back(v.prefix.v6addr);
    else
      rc.vips4.push_back(v.prefix.v4addr);
  }
  rc.auth_type = c.auth_type;
  std::memcpy(rc.auth_pass.data(), c.auth_pass.data(), std::min<size_t>(8, c.auth_pass.size()));
  rc.garp_master_repeat = c.garp_master_repeat.value_or(g.garp_master_repeat);
  rc.garp_master_delay = c.garp_master_delay.value_or(g.garp_master_delay);
  rc.check_addresses = !g.skip_check_adv_addr;
  return rc;
}

}  // namespace

Instance::Instance(Host& host, const Clock& clock, const InstanceConfig& c, ChecksumMode checksum,
                   Events events)
    : host_(host),
      clock_(clock),
      conf_(c),
      checksum_(checksum),
      events_(std::move(events)),
      layout_(host_layout(c)) {}

Result<std::unique_ptr<Instance>> Instance::open(Host& host, const Clock& clock,
                                                 const InstanceConfig& c, const GlobalDefs& g,
                                                 ChecksumMode checksum, Events events) {
  std::unique_ptr<Instance> in(new Instance(host, clock, c, checksum, std::move(events)));
  if (auto s = in->open_host_part(); !s)
    return make_error(s.error().code, "{}: vrrp_instance {}: {}", c.where.str(), c.name,
                      s.error().message);
  in->router_ = std::make_unique<Router>(router_config(c, g, *in->port_));
  return in;
}

Status Instance::open_host_part() {
  if (layout_.vmac && !vmac_) {
    auto v = host_.open_vmac(*layout_.vmac);
    if (!v) return v.error();
    vmac_ = std::move(*v);
  }
  if (layout_.vmac) {
    announce_mac_ = layout_.vmac->mac;
  } else {
    auto mac = host_.link_mac(conf_.interface);
    if (!mac) return mac.error();
    announce_mac_ = *mac;
  }
  auto port = host_.open_port(port_options(conf_, layout_, checksum_),
                              [this](const RxAdvert& rx) { on_advert(rx); });
  if (!port) return port.error();
  port_ = std::move(*port);
  return {};
}

void Instance::start() {
  router_->start(clock_.now());
  run_actions();
}

void Instance::stop() {
  router_->shutdown(clock_.now());
  run_actions();
}

void Instance::tick() {
  router_->tick(clock_.now());
  run_actions();
}

void Instance::apply(const Effective& e) {
  TimePoint now = clock_.now();
  if (conf_.priority != 255) router_->set_priority(now, static_cast<uint8_t>(e.priority));
  router_->set_fault(now, e.fault);
  run_actions();
}

void Instance::follow_group(bool master) {
  if (master)
    router_->force_master(clock_.now());
  else
    router_->force_backup(clock_.now());
  run_actions();
}

void Instance::on_advert(const RxAdvert& rx) {
  if (rx.advert.vrid != conf_.vrid) return;  // another virtual router on this link
  router_->on_advert(clock_.now(), rx);
  run_actions();
  if (events_.after_advert) events_.after_advert(*this);
}

bool Instance::poll_links() {
  bool changed = false;
  auto observe = [&](const std::string& ifname, const char* what) {
    bool down = !host_.link_running(ifname);
    if (down == (links_down_.count(ifname) > 0)) return;
    changed = true;
    log::info("({}) {} {} is {}", conf_.name, what, ifname, down ? "down" : "up");
    if (down)
      links_down_.insert(ifname);
    else
      links_down_.erase(ifname);
  };
  observe(conf_.interface, "interface");
  for (auto& t : conf_.track_interfaces) observe(t.name, "tracked interface");
  return changed;
}

Status Instance::reconfigure(const InstanceConfig& c, const GlobalDefs& g, ReloadKind kind) {
  bool moved = false;
  if (kind == ReloadKind::kRebuildHost) {
    // Open the new host part before letting go of the old one: a new interface that does not
    // exist (or a VMAC that cannot be made) leaves the instance running as it was.
    HostLayout next = host_layout(c);
    InstanceConfig old_conf = conf_;
    HostLayout old_layout = layout_;
    auto old_port = std::move(port_);
    std::unique_ptr<VmacLink> old_vmac;
    bool new_vmac = next.vmac != layout_.vmac;
    if (new_vmac) old_vmac = std::move(vmac_);
    conf_ = c;
    layout_ = std::move(next);
    if (auto s = open_host_part(); !s) {
      vmac_.reset();
      if (new_vmac) vmac_ = std::move(old_vmac);
      port_ = std::move(old_port);
      conf_ = std::move(old_conf);
      layout_ = std::move(old_layout);
      return make_error(s.error().code, "{}; keeping the running configuration of {}",
                        s.error().message, conf_.name);
    }
    moved = state() == State::kMaster &&
            (layout_.vips != old_layout.vips || layout_.vmac != old_layout.vmac);
    if (moved) {
      std::swap(layout_, old_layout);  // remove the VIPs where they were
      remove_vips();
      std::swap(layout_, old_layout);
    }
    if (old_port) {
      rx_malformed_before_ += old_port->rx_malformed();
      rx_bad_checksum_before_ += old_port->rx_bad_checksum();
    }
  }
  if (state() == State::kMaster) {
    // virtual_routes / virtual_rules changed under a master: the old ones that are no longer
    // wanted go, the new ones come (ones in both stay).
    auto rk = route_key<RouteConfig>;
    auto uk = route_key<RuleConfig>;
    remove_routes(missing(conf_.routes, c.routes, rk), missing(conf_.rules, c.rules, uk));
    add_routes(missing(c.routes, conf_.routes, rk), missing(c.rules, conf_.rules, uk));
  }
  conf_ = c;
  router_->update_settings(router_config(c, g, *port_));
  // Links no longer watched are forgotten; newly watched ones are seen at the next poll.
  std::erase_if(links_down_, [&](const std::string& l) {
    if (l == c.interface) return false;
    for (auto& t : c.track_interfaces) {
      if (t.name == l) return false;
    }
    return true;
  });
  if (moved) {
    add_vips();
    announce(router_->config().garp_master_repeat);
  }
  return {};
}

void Instance::add_vips() {
  for (auto& v : layout_.vips) {
    if (auto s = host_.add_address(v.dev, v.prefix, v.label); !s)
      log::warn("({}) {}", conf_.name, s.error().message);
  }
}

void Instance::remove_vips() {
  for (auto& v : layout_.vips) {
    if (auto s = host_.del_address(v.dev, v.prefix); !s)
      log::warn("({}) {}", conf_.name, s.error().message);
  }
}

// keepalived's order: addresses, then routes (a route's src or gateway may need them), then
// rules; leaving, the reverse.
void Instance::add_routes(const std::vector<RouteConfig>& routes,
                          const std::vector<RuleConfig>& rules) {
  for (auto& r : routes) {
    if (auto s = host_.add_route(r); !s) log::warn("({}) {}", conf_.name, s.error().message);
  }
  for (auto& r : rules) {
    if (auto s = host_.add_rule(r); !s) log::warn("({}) {}", conf_.name, s.error().message);
  }
}

void Instance::remove_routes(const std::vector<RouteConfig>& routes,
                             const std::vector<RuleConfig>& rules) {
  for (auto& r : rules) {
    if (auto s = host_.del_rule(r); !s) log::warn("({}) {}", conf_.name, s.error().message);
  }
  for (auto& r : routes) {
    if (auto s = host_.del_route(r); !s) log::warn("({}) {}", conf_.name, s.error().message);
  }
}

void Instance::announce(int count) {
  std::vector<packet::IpPrefix> vips;
  for (auto& v : layout_.vips) vips.push_back(v.prefix);
  if (auto s = host_.send_frames(layout_.announce_interface,
                                 announcement_burst(announce_mac_, vips, count));
      !s) {
    log::warn("({}) {}", conf_.name, s.error().message);
  }
}

void Instance::run_actions() {
  for (auto& a : router_->take_actions()) {
    if (auto* s = std::get_if<SendAdvert>(&a)) {
      if (!port_) continue;  // a failed reload took it: the instance is being stopped
      if (auto st = port_->send(router_->advert(s->priority)); !st)
        log::warn("({}) {}", conf_.name, st.error().message);
    } else if (std::holds_alternative<AddAddresses>(a)) {
      add_vips();
      add_routes(conf_.routes, conf_.rules);
    } else if (std::holds_alternative<RemoveAddresses>(a)) {
      remove_routes(conf_.routes, conf_.rules);
      remove_vips();
    } else if (auto* g = std::get_if<SendGratuitous>(&a)) {
      announce(g->count);
    } else if (auto* c = std::get_if<StateChanged>(&a)) {
      log::info("({}) Entering {} STATE ({})", conf_.name, state_name(c->to), c->reason);
      if (events_.on_state) events_.on_state(*this, *c);
    }
  }
}

uint64_t Instance::rx_malformed() const {
  return rx_malformed_before_ + (port_ ? port_->rx_malformed() : 0);
}

uint64_t Instance::rx_bad_checksum() const {
  return rx_bad_checksum_before_ + (port_ ? port_->rx_bad_checksum() : 0);
}

}  // namespace vnet::vrrp
