#pragma once
// Filtering database (IEEE 802.1Q-2018 §8.8) with independent VLAN learning (IVL): entries are
// keyed by (VID, MAC). Dynamic entries age out `ageing_time` after they were last refreshed
// (default 300 s, §8.8.3); static entries never age and are never overwritten by learning.
//
// Storage: an open-addressing table (linear probing, power-of-two size, Fibonacci hashing,
// backward-shift deletion) kept at most half full: learning and lookup are one probe sequence
// over a flat array, which is what lets one core forward >10 M frames/s.
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
  size_t size() const { return count_; }
  size_t learned_on(PortNo port) const;
  // Sorted by VLAN then MAC.
  std::vector<FdbEntry> entries(TimePoint now) const;

 private:
  static uint64_t key(VlanId vlan, const packet::MacAddress& mac) {
    return uint64_t{vlan} << 48 | mac.to_u64();
  }
  struct Slot {
    uint64_t key = 0;  // 0 = empty (VIDs start at 1, so no real key is 0)
    FdbEntry entry;
  };
  static constexpr size_t kNone = ~size_t{0};
  size_t find(uint64_t k) const;
  FdbEntry& insert(uint64_t k);  // k must not be present
  void erase_at(size_t i);
  void grow();
  size_t home(uint64_t k) const {
    return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  template <typename Pred>
  size_t erase_if(Pred pred);
  void count(PortNo port, int delta);
  Duration ageing_;
  std::vector<Slot> slots_ = std::vector<Slot>(1024);
  unsigned shift_ = 64 - 10;
  size_t count_ = 0;
  std::unordered_map<PortNo, size_t> per_port_;  // dynamic entries per port
};

}  // namespace vnet::bridge
