#pragma once
// A fake machine for the VRRP daemon's logic: FakeHost records every request of the Host
// interface (adverts with their source, addresses per device, announcement frames, VMAC
// interfaces, the no_accept set) against the test's ManualClock, and delivers adverts a test
// makes up; FakeChildren records the children the daemon starts and lets the test end them.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/child_supervisor.hh"
#include "base/clock.hh"
#include "vrrp/host.hh"

namespace vnet::vrrp::testing {

struct SentAdvert {
  std::string instance;
  TimePoint at;
  packet::Ipv4Address src4;
  packet::Ipv6Address src6;
  std::vector<packet::IpPrefix> to;  // unicast peers; empty = multicast
  Advert advert;
};

struct SentFrames {
  TimePoint at;
  std::string dev;
  std::vector<std::vector<uint8_t>> frames;
};

class FakeHost final : public Host {
 public:
  struct Link {
    packet::MacAddress mac;
    packet::Ipv4Address primary4;
    packet::Ipv6Address primary6;
    bool running = true;
  };

  explicit FakeHost(const Clock& clock) : clock_(clock) {}

  void add_link(const std::string& name, const char* mac, const char* ipv4) {
    Link l;
    l.mac = *packet::MacAddress::parse(mac);
    l.primary4 = *packet::Ipv4Address::parse(ipv4);
    l.primary6 = *packet::Ipv6Address::parse("fe80::1");
    links[name] = l;
  }
  void set_running(const std::string& name, bool running) { links.at(name).running = running; }

  // Hands `rx` to the instance's open port, as if it had arrived.
  bool deliver(const std::string& instance, const RxAdvert& rx) {
    auto it = ports_.find(instance);
    if (it == ports_.end()) return false;
    it->second->on_advert(rx);
    return true;
  }

  std::vector<SentAdvert> adverts_of(const std::string& instance) const {
    std::vector<SentAdvert> out;
    for (auto& a : adverts) {
      if (a.instance == instance) out.push_back(a);
    }
    return out;
  }
  bool has_address(const std::string& dev, const char* prefix) const {
    return addresses.count({dev, prefix}) > 0;
  }

  // --- Host
  Result<std::unique_ptr<AdvertPort>> open_port(const PortOptions& o, OnAdvert cb) override {
    auto l = links.find(o.interface);
    if (l == links.end() || !links.count(o.advert_interface))
      return make_error(ENODEV, "interface {}: no such device", o.interface);
    ++ports_opened;
    return std::unique_ptr<AdvertPort>(new Port(*this, o, l->second, std::move(cb)));
  }
  Result<std::unique_ptr<VmacLink>> open_vmac(const VmacOptions& o) override {
    if (!links.count(o.lower)) return make_error(ENODEV, "interface {}: no such device", o.lower);
    Link l;
    l.mac = o.mac;
    links[o.name] = l;
    vmacs.insert(o.name);
    return std::unique_ptr<VmacLink>(new Vmac(*this, o.name));
  }
  Status add_address(const std::string& dev, const packet::IpPrefix& p,
                     const std::string&) override {
    if (!links.count(dev)) return make_error(ENODEV, "interface {}: no such device", dev);
    addresses.insert({dev, p.to_string()});
    return {};
  }
  Status del_address(const std::string& dev, const packet::IpPrefix& p) override {
    addresses.erase({dev, p.to_string()});
    return {};
  }
  Result<packet::MacAddress> link_mac(const std::string& ifname) override {
    auto l = links.find(ifname);
    if (l == links.end()) return make_error(ENODEV, "interface {}: no such device", ifname);
    return l->second.mac;
  }
  bool link_running(const std::string& ifname) override {
    auto l = links.find(ifname);
    return l != links.end() && l->second.running;
  }
  Status send_frames(const std::string& dev, const std::vector<std::vector<uint8_t>>& f) override {
    frames.push_back({clock_.now(), dev, f});
    return {};
  }
  Status set_no_accept(const NoAcceptSet& vips) override {
    no_accept.push_back(vips);
    return {};
  }
  // Routes and rules as ip(8) would list them (RouteConfig::str(), RuleConfig::str()); a route
  // on a device that does not exist is refused, as the kernel does.
  Status add_route(const RouteConfig& r) override {
    if (!r.dev.empty() && !links.count(r.dev))
      return make_error(ENODEV, "route {}: {}: no such device", r.str(), r.dev);
    routes.insert(r.str());
    return {};
  }
  Status del_route(const RouteConfig& r) override {
    routes.erase(r.str());
    return {};
  }
  Status add_rule(const RuleConfig& r) override {
    rules.insert(r.str());
    return {};
  }
  Status del_rule(const RuleConfig& r) override {
    rules.erase(r.str());
    return {};
  }

  std::map<std::string, Link> links;
  std::set<std::pair<std::string, std::string>> addresses;  // (device, prefix)
  std::vector<SentAdvert> adverts;
  std::vector<SentFrames> frames;
  std::vector<NoAcceptSet> no_accept;   // every set given, in order
  std::set<std::string> routes, rules;  // as now installed
  std::set<std::string> vmacs;          // VMAC interfaces that exist
  int ports_opened = 0;

 private:
  class Port final : public AdvertPort {
   public:
    Port(FakeHost& h, PortOptions o, const Link& l, OnAdvert cb)
        : h_(h), o_(std::move(o)), on_advert(std::move(cb)) {
      primary4_ = o_.unicast_src ? o_.unicast_src->v4addr : l.primary4;
      primary6_ = o_.unicast_src ? o_.unicast_src->v6addr : l.primary6;
      h_.ports_[o_.instance] = this;
    }
    ~Port() override {
      auto it = h_.ports_.find(o_.instance);
      if (it != h_.ports_.end() && it->second == this) h_.ports_.erase(it);
    }
    packet::Ipv4Address primary4() const override { return primary4_; }
    packet::Ipv6Address primary6() const override { return primary6_; }
    Status send(const Advert& a) override {
      h_.adverts.push_back(
          {o_.instance, h_.clock_.now(), primary4_, primary6_, o_.unicast_peers, a});
      return {};
    }
    uint64_t rx_malformed() const override { return 0; }
    uint64_t rx_bad_checksum() const override { return 0; }

    FakeHost& h_;
    PortOptions o_;
    OnAdvert on_advert;
    packet::Ipv4Address primary4_;
    packet::Ipv6Address primary6_;
  };
  class Vmac final : public VmacLink {
   public:
    Vmac(FakeHost& h, std::string name) : h_(h), name_(std::move(name)) {}
    ~Vmac() override {
      h_.vmacs.erase(name_);
      h_.links.erase(name_);
      std::erase_if(h_.addresses, [&](auto& a) { return a.first == name_; });
    }

   private:
    FakeHost& h_;
    std::string name_;
  };

  const Clock& clock_;
  std::map<std::string, Port*> ports_;  // by instance
};

class FakeChildren final : public Children {
 public:
  struct Child {
    pid_t pid;
    ChildSpec spec;
    OnExit on_exit;
    bool done = false, cancelled = false;
    const std::string& command() const { return spec.argv.back(); }  // sh -c COMMAND
  };

  Result<pid_t> start(const ChildSpec& spec, OnExit on_exit) override {
    pid_t pid = next_pid_++;
    children.push_back({pid, spec, std::move(on_exit)});
    return pid;
  }
  void cancel(pid_t pid) override {
    for (auto& c : children) {
      if (c.pid == pid && !c.done) {
        c.done = c.cancelled = true;
      }
    }
  }
  size_t running() const override {
    size_t n = 0;
    for (auto& c : children) n += !c.done;
    return n;
  }

  // Ends a running child with `code` (or `timed_out`); its owner hears of it.
  void finish(pid_t pid, int code, bool timed_out = false) {
    for (auto& c : children) {
      if (c.pid != pid || c.done) continue;
      c.done = true;
      // The owner may start children (notify scripts): `c` may move, so call a copy.
      OnExit cb = c.on_exit;
      if (cb) cb(ChildExit{pid, timed_out ? 9 : code << 8, timed_out});
      return;
    }
  }
  // Ends every running child whose command is `command`; returns how many.
  int finish_all(const std::string& command, int code) {
    std::vector<pid_t> pids;
    for (auto& c : children) {
      if (!c.done && c.command() == command) pids.push_back(c.pid);
    }
    for (pid_t p : pids) finish(p, code);
    return static_cast<int>(pids.size());
  }
  // Every command started so far, in order.
  std::vector<std::string> commands() const {
    std::vector<std::string> out;
    for (auto& c : children) out.push_back(c.command());
    return out;
  }

  std::vector<Child> children;

 private:
  pid_t next_pid_ = 1000;
};

}  // namespace vnet::vrrp::testing
