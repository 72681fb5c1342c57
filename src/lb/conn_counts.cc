#include "lb/conn_counts.hh"

#include <algorithm>

namespace vnet::lb {

void ConnCounts::watch(const std::vector<ServiceKey>& services) {
  watched_ = std::set<ServiceKey>(services.begin(), services.end());
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (watched_.count(it->second.service)) {
      ++it;
      continue;
    }
    add(it->second, -1);
    it = conns_.erase(it);
  }
}

void ConnCounts::add(const Conn& c, int sign) {
  auto key = std::make_pair(c.service, c.dest);
  DestCounts& t = totals_[key];
  (c.active ? t.active : t.inactive) += sign;
  if (t == DestCounts{}) totals_.erase(key);
}

std::optional<ServiceKey> ConnCounts::on_event(const ConnEvent& e) {
  Key key{e.id, e.client.fold(), e.client.port};
  auto it = conns_.find(key);
  if (e.kind == ConnEvent::kDestroy) {
    if (it == conns_.end()) return std::nullopt;
    ServiceKey s = it->second.service;
    add(it->second, -1);
    conns_.erase(it);
    return s;
  }
  ServiceKey service;
  service.kind = ServiceKey::kAddress;
  service.addr = e.orig_dst;
  service.protocol = e.protocol;
  if (!watched_.count(service)) return std::nullopt;
  // Only TCP has an established state that IPVS counts as active.
  Conn c{service, e.reply_src, e.protocol == Protocol::kTcp && e.established};
  if (it != conns_.end()) {
    Conn& old = it->second;
    if (old.dest == c.dest && old.active == c.active && old.service == c.service)
      return std::nullopt;
    add(old, -1);
    old = c;
    add(old, +1);
    return service;
  }
  if (conns_.size() >= max_) {
    ++overflow_;
    return std::nullopt;
  }
  conns_.emplace(key, c);
  add(c, +1);
  return service;
}

DestCounts ConnCounts::counts(const ServiceKey& service, const Endpoint& dest) const {
  auto it = totals_.find({service, dest});
  return it == totals_.end() ? DestCounts{} : it->second;
}

}  // namespace vnet::lb
