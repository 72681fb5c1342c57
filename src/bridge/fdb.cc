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

size_t Fdb::find(uint64_t k) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = home(k);; i = (i + 1) & mask) {
    if (slots_[i].key == k) return i;
    if (slots_[i].key == 0) return kNone;
  }
}

void Fdb::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  --shift_;
  count_ = 0;
  for (auto& s : old) {
    if (s.key) insert(s.key) = s.entry;
  }
}

FdbEntry& Fdb::insert(uint64_t k) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  size_t mask = slots_.size() - 1;
  size_t i = home(k);
  while (slots_[i].key != 0) i = (i + 1) & mask;
  slots_[i].key = k;
  ++count_;
  return slots_[i].entry;
}

// Backward-shift deletion: no tombstones, probe sequences stay short.
void Fdb::erase_at(size_t i) {
  size_t mask = slots_.size() - 1;
  size_t j = i;
  while (true) {
    j = (j + 1) & mask;
    if (slots_[j].key == 0) break;
    size_t h = home(slots_[j].key);
    // Move j into the hole at i unless j's home lies cyclically in (i, j].
    bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --count_;
}

template <typename Pred>
size_t Fdb::erase_if(Pred pred) {
  std::vector<uint64_t> doomed;
  for (auto& s : slots_) {
    if (s.key && pred(s.entry)) doomed.push_back(s.key);
  }
  for (uint64_t k : doomed) {
    size_t i = find(k);
    if (!slots_[i].entry.is_static) count(slots_[i].entry.port, -1);
    erase_at(i);
  }
  return doomed.size();
}

Fdb::LearnResult Fdb::learn(VlanId vlan, const packet::MacAddress& mac, PortNo port, TimePoint now,
                            size_t port_limit) {
  uint64_t k = key(vlan, mac);
  size_t i = find(k);
  if (i != kNone) {
    FdbEntry& e = slots_[i].entry;
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
  if (learned_on(port) >= port_limit) return LearnResult::kLimitReached;
  insert(k) = FdbEntry{vlan, mac, port, false, now};
  count(port, +1);
  return LearnResult::kLearned;
}

std::optional<PortNo> Fdb::lookup(VlanId vlan, const packet::MacAddress& mac, TimePoint now) const {
  size_t i = find(key(vlan, mac));
  if (i == kNone) return std::nullopt;
  const FdbEntry& e = slots_[i].entry;
  if (!e.is_static && now - e.last_seen > ageing_) return std::nullopt;
  return e.port;
}

void Fdb::add_static(VlanId vlan, const packet::MacAddress& mac, PortNo port) {
  uint64_t k = key(vlan, mac);
  size_t i = find(k);
  if (i != kNone) {
    if (!slots_[i].entry.is_static) count(slots_[i].entry.port, -1);
    slots_[i].entry = FdbEntry{vlan, mac, port, true, {}};
    return;
  }
  insert(k) = FdbEntry{vlan, mac, port, true, {}};
}

bool Fdb::remove(VlanId vlan, const packet::MacAddress& mac) {
  size_t i = find(key(vlan, mac));
  if (i == kNone) return false;
  if (!slots_[i].entry.is_static) count(slots_[i].entry.port, -1);
  erase_at(i);
  return true;
}

size_t Fdb::flush(std::optional<PortNo> port, std::optional<VlanId> vlan) {
  return erase_if([&](const FdbEntry& e) {
    return !e.is_static && (!port || e.port == *port) && (!vlan || e.vlan == *vlan);
  });
}

size_t Fdb::age(TimePoint now) {
  return erase_if([&](const FdbEntry& e) { return !e.is_static && now - e.last_seen > ageing_; });
}

std::vector<FdbEntry> Fdb::entries(TimePoint now) const {
  std::vector<FdbEntry> out;
  for (auto& s : slots_) {
    if (!s.key) continue;
    const FdbEntry& e = s.entry;
    if (!e.is_static && now - e.last_seen > ageing_) continue;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const FdbEntry& a, const FdbEntry& b) {
    return std::tie(a.vlan, a.mac) < std::tie(b.vlan, b.mac);
  });
  return out;
}

}  // namespace vnet::bridge
