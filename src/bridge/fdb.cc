#include "bridge/fdb.hh"

#include <algorithm>

namespace vnet::bridge {

void Fdb::count(PortNo port, int delta) {
  auto& c = per_port_[port];
  c = static_cast<size_t>(static_cast<long>(c) + delta);
}

size_t Fdb::learned_on(PortNo port) const {
  auto it = per_port_.find(port);
  return it == per_port_.end() ? 0 : it->second;
}

Fdb::LearnResult Fdb::learn(VlanId vlan, const packet::MacAddress& mac, PortNo port, TimePoint now,
                            size_t port_limit) {
  auto [it, inserted] = entries_.try_emplace(key(vlan, mac));
  FdbEntry& e = it->second;
  if (!inserted) {
    if (e.is_static) return e.port == port ? LearnResult::kRefreshed : LearnResult::kStaticConflict;
    if (e.port == port) {
      e.last_seen = now;
      return LearnResult::kRefreshed;
    }
    if (learned_on(port) >= port_limit) return LearnResult::kLimitReached;
    count(e.port, -1);
    count(port, +1);
    e.port = port;
    e.last_seen = now;
    return LearnResult::kMoved;
  }
  if (learned_on(port) >= port_limit) {
    entries_.erase(it);
    return LearnResult::kLimitReached;
  }
  e = FdbEntry{vlan, mac, port, false, now};
  count(port, +1);
  return LearnResult::kLearned;
}

std::optional<PortNo> Fdb::lookup(VlanId vlan, const packet::MacAddress& mac, TimePoint now) const {
  auto it = entries_.find(key(vlan, mac));
  if (it == entries_.end()) return std::nullopt;
  const FdbEntry& e = it->second;
  if (!e.is_static && now - e.last_seen > ageing_) return std::nullopt;
  return e.port;
}

void Fdb::add_static(VlanId vlan, const packet::MacAddress& mac, PortNo port) {
  auto& e = entries_[key(vlan, mac)];
  if (!e.is_static && e.vlan != 0) count(e.port, -1);
  e = FdbEntry{vlan, mac, port, true, {}};
}

bool Fdb::remove(VlanId vlan, const packet::MacAddress& mac) {
  auto it = entries_.find(key(vlan, mac));
  if (it == entries_.end()) return false;
  if (!it->second.is_static) count(it->second.port, -1);
  entries_.erase(it);
  return true;
}

size_t Fdb::flush(std::optional<PortNo> port, std::optional<VlanId> vlan) {
  return std::erase_if(entries_, [&](auto& kv) {
    const FdbEntry& e = kv.second;
    if (e.is_static || (port && e.port != *port) || (vlan && e.vlan != *vlan)) return false;
    count(e.port, -1);
    return true;
  });
}

size_t Fdb::age(TimePoint now) {
  return std::erase_if(entries_, [&](auto& kv) {
    const FdbEntry& e = kv.second;
    if (e.is_static || now - e.last_seen <= ageing_) return false;
    count(e.port, -1);
    return true;
  });
}

std::vector<FdbEntry> Fdb::entries(TimePoint now) const {
  std::vector<FdbEntry> out;
  for (auto& [k, e] : entries_) {
    if (!e.is_static && now - e.last_seen > ageing_) continue;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const FdbEntry& a, const FdbEntry& b) {
    return std::tie(a.vlan, a.mac) < std::tie(b.vlan, b.mac);
  });
  return out;
}

}  // namespace vnet::bridge
