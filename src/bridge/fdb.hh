#pragma once
// Filtering database (IEEE 802.1Q-2018 §8.8) with independent VLAN learning (IVL): entries are
// keyed by (VID, MAC). Dynamic entries age out `ageing_time` after they were last refreshed
// (default 300 s, §8.8.3); static entries never age and are never overwritten by learning.
//
// Not thread-safe: one FDB per bridge per dataplane thread.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/clock.hh"
#include "bridge/port_config.hh"
#include "packet/address.hh"

namespace vnet::bridge {

struct FdbEntry {
  VlanId vlan = 0;
  packet::MacAddress mac;
  PortNo port = 0;
  bool is_static = false;
  TimePoint last_seen{};
};

class Fdb {
 public:
  enum class LearnResult { kRefreshed, kLearned, kMoved, kStaticConflict, kLimitReached };

  explicit Fdb(Duration ageing_time = std::chrono::seconds(300)) : ageing_(ageing_time) {}

  // Learns src on port. `port_count` is how many dynamic entries that port has; refused past limit.
  LearnResult learn(VlanId vlan, const packet::MacAddress& mac, PortNo port, TimePoint now,
                    size_t port_limit);
  // The port for (vlan, mac) if known and not aged out.
  std::optional<PortNo> lookup(VlanId vlan, const packet::MacAddress& mac, TimePoint now) const;
  void add_static(VlanId vlan, const packet::MacAddress& mac, PortNo port);
  bool remove(VlanId vlan, const packet::MacAddress& mac);
  // Removes dynamic entries; restricted to a port and/or VLAN when given.
  size_t flush(std::optional<PortNo> port = {}, std::optional<VlanId> vlan = {});
  size_t age(TimePoint now);  // removes expired dynamic entries, returns the count

  void set_ageing_time(Duration d) { ageing_ = d; }
  Duration ageing_time() const { return ageing_; }
  size_t size() const { return entries_.size(); }
  size_t learned_on(PortNo port) const;
  // Sorted by VLAN then MAC.
  std::vector<FdbEntry> entries(TimePoint now) const;

 private:
  static uint64_t key(VlanId vlan, const packet::MacAddress& mac) {
    return uint64_t{vlan} << 48 | mac.to_u64();
  }
  void count(PortNo port, int delta);
  Duration ageing_;
  std::unordered_map<uint64_t, FdbEntry> entries_;
  std::unordered_map<PortNo, size_t> per_port_;  // dynamic entries per port
};

}  // namespace vnet::bridge
