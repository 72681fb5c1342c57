#include "lb/scheduler.hh"

#include <algorithm>
#include <array>
#include <map>
#include <numeric>

#include <fmt/format.h>

namespace vnet::lb {
namespace {

bool available(const Dest& d) { return d.weight > 0 && !d.overloaded; }

// ip_vs_rr.c: the next available destination after the last one chosen, circularly.
class RoundRobin final : public Scheduler {
 public:
  std::string_view name() const override { return "rr"; }
  void update(std::span<const Dest> dests) override {
    // ip_vs_rr_del_dest moves the cursor back to the removed destination's predecessor; here
    // the cursor follows its destination by address, else the nearest earlier survivor.
    std::optional<size_t> next;
    for (size_t k = last_ ? *last_ + 1 : 0; k-- > 0;) {
      auto it = std::find_if(dests.begin(), dests.end(),
                             [&](const Dest& d) { return d.addr == order_[k]; });
      if (it != dests.end()) {
        next = size_t(it - dests.begin());
        break;
      }
    }
    last_ = next;
    order_.clear();
    for (auto& d : dests) order_.push_back(d.addr);
  }
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    size_t n = dests.size();
    size_t start = last_ ? *last_ + 1 : 0;
    for (size_t k = 0; k < n; ++k) {
      size_t i = (start + k) % n;
      if (available(dests[i])) {
        last_ = i;
        return i;
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<Endpoint> order_;
  std::optional<size_t> last_;  // nullopt: the list head
};

// ip_vs_wrr.c: passes over the list with a falling current weight cw, from the maximum weight mw
// down by the weights' gcd di; a destination is chosen when its weight >= cw. The cursor is an
// index, -1 standing for the list head.
class WeightedRoundRobin final : public Scheduler {
 public:
  std::string_view name() const override { return "wrr"; }
  void update(std::span<const Dest> dests) override {  // ip_vs_wrr_dest_changed
    int g = 0, max = 0;
    for (auto& d : dests) {
      if (d.weight > 0) g = g > 0 ? std::gcd(d.weight, g) : d.weight;
      max = std::max(max, d.weight);
    }
    cl_ = -1;
    di_ = g ? g : 1;
    mw_ = max - (di_ - 1);
    if (cw_ > mw_ || !cw_) {
      cw_ = mw_;
    } else if (di_ > 1) {
      cw_ = (cw_ / di_) * di_ + 1;
    }
  }
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    int n = int(dests.size());
    int dest = cl_;
    if (mw_ == 0) return std::nullopt;
    int last = dest, stop = -2;
    bool last_pass = false, restarted = false;
    while (true) {
      for (int i = dest + 1; i < n; ++i) {
        if (!dests[size_t(i)].overloaded && dests[size_t(i)].weight >= cw_) {
          cl_ = i;
          return size_t(i);
        }
        if (i == stop) {
          cl_ = i;
          return std::nullopt;  // all overloaded
        }
      }
      dest = -1;  // the walk ended on the list head
      cw_ -= di_;
      if (cw_ <= 0) {
        cw_ = mw_;
        if (last_pass || last == -1) {
          cl_ = dest;
          return std::nullopt;
        }
        restarted = true;
      }
      last_pass = cw_ <= di_;
      if (last_pass && restarted && last != -1) stop = last;
    }
  }

 private:
  int cl_ = -1, cw_ = 0, mw_ = 0, di_ = 1;
};

// ip_vs_lc.c: the least overhead among available destinations, the first on ties.
class LeastConnection final : public Scheduler {
 public:
  std::string_view name() const override { return "lc"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    std::optional<size_t> least;
    int64_t loh = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (dests[i].overloaded || dests[i].weight == 0) continue;
      int64_t doh = conn_overhead(dests[i]);
      if (!least || doh < loh) {
        least = i;
        loh = doh;
      }
    }
    return least;
  }
};

using Overhead = int64_t (*)(const Dest&);

// ip_vs_wlc.c and ip_vs_sed.c (and lblc/lblcr's __ip_vs_lblc_schedule, which is wlc's): the
// first available destination, then any later non-overloaded one with a lower overhead /
// weight, compared by cross multiplication; the first wins ties.
std::optional<size_t> least_weighted(std::span<const Dest> dests, Overhead overhead) {
  size_t i = 0;
  while (i < dests.size() && !available(dests[i])) ++i;
  if (i == dests.size()) return std::nullopt;
  size_t least = i;
  int64_t loh = overhead(dests[i]);
  for (++i; i < dests.size(); ++i) {
    if (dests[i].overloaded) continue;
    int64_t doh = overhead(dests[i]);
    if (loh * dests[i].weight > doh * dests[least].weight) {
      least = i;
      loh = doh;
    }
  }
  return least;
}

// wlc's overhead is conn_overhead(), sed's (shortest expected delay) active + 1.
class LeastWeighted final : public Scheduler {
 public:
  LeastWeighted(std::string_view name, Overhead overhead) : name_(name), overhead_(overhead) {}
  std::string_view name() const override { return name_; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    return least_weighted(dests, overhead_);
  }

 private:
  std::string_view name_;
  Overhead overhead_;
};

// ip_vs_sed.c / ip_vs_nq.c: the expected delay counts active connections only, plus the new one.
int64_t expected_delay(const Dest& d) { return int64_t(d.active) + 1; }

// ip_vs_nq.c (never queue): the first available destination without an active connection; when
// every one is busy, sed's choice (the first of the least (active + 1) / weight).
class NeverQueue final : public Scheduler {
 public:
  std::string_view name() const override { return "nq"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    std::optional<size_t> least;
    int64_t loh = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!available(dests[i])) continue;
      int64_t doh = expected_delay(dests[i]);
      if (dests[i].active == 0) return i;  // idle: at once
      if (!least || loh * dests[i].weight > doh * dests[*least].weight) {
        least = i;
        loh = doh;
      }
    }
    return least;
  }
};

// ip_vs_fo.c (weighted failover): the first available destination with the highest weight.
class WeightedFailover final : public Scheduler {
 public:
  std::string_view name() const override { return "fo"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    std::optional<size_t> high;
    int hw = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].overloaded && dests[i].weight > hw) {
        high = i;
        hw = dests[i].weight;
      }
    }
    return high;
  }
};

// ip_vs_ovf.c (weighted overflow): the first destination with the highest weight among those
// whose active connections do not exceed their weight.
class WeightedOverflow final : public Scheduler {
 public:
  std::string_view name() const override { return "ovf"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    std::optional<size_t> high;
    for (size_t i = 0; i < dests.size(); ++i) {
      int w = dests[i].weight;
      if (dests[i].overloaded || dests[i].active > w || w == 0) continue;
      if (!high || w > dests[*high].weight) high = i;
    }
    return high;
  }
};

// ip_vs_sh.c: 256 buckets filled in list order, each destination taking `weight` consecutive
// buckets (at least one); a flow's bucket from hash_32 of its source address.
class SourceHash final : public Scheduler {
 public:
  explicit SourceHash(const SchedulerOptions& o) : fallback_(o.sh_fallback), port_(o.sh_port) {}
  std::string_view name() const override { return "sh"; }
  void update(std::span<const Dest> dests) override {  // ip_vs_sh_reassign
    size_t p = 0;
    int count = 0;
    for (auto& b : buckets_) {
      if (dests.empty()) {
        b = -1;
        continue;
      }
      if (p == dests.size()) p = 0;
      b = int(p);
      if (++count >= dests[p].weight) {
        ++p;
        count = 0;
      }
    }
  }
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) override {
    uint32_t ihash = source_hash_bucket(flow, port_);
    int d = buckets_[ihash];
    if (d < 0) return std::nullopt;
    if (available(dests[size_t(d)])) return size_t(d);
    if (!fallback_) return std::nullopt;
    for (uint32_t offset = 0; offset < kSourceHashBuckets; ++offset) {  // ip_vs_sh_get_fallback
      uint32_t roffset = (offset + ihash) % kSourceHashBuckets;
      uint32_t key = flow.client.fold() + (port_ ? flow.client.port : 0);
      d = buckets_[(roffset + hash_32(key, 8)) & (kSourceHashBuckets - 1)];
      if (d < 0) break;
      if (available(dests[size_t(d)])) return size_t(d);
    }
    return std::nullopt;
  }

 private:
  bool fallback_, port_;
  std::array<int, kSourceHashBuckets> buckets_;
};

// A 32-bit keyed hash standing in for the kernel's hsiphash (a splitmix64 finaliser over the key
// and the value): well mixed, fixed keys, so two directors build the same table.
uint32_t keyed_hash(uint32_t v, uint64_t key) {
  uint64_t z = key ^ (uint64_t(v) * 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return uint32_t((z ^ (z >> 31)) >> 16);
}

// ip_vs_mh.c: Maglev (Eisenbud et al., NSDI 2016, §3.4). Each destination walks the table from
// its offset by its skip, claiming the next free slot; destinations take turns in list order,
// `turns` slots per turn in proportion to their weight.
class Maglev final : public Scheduler {
 public:
  explicit Maglev(const SchedulerOptions& o, int bits)
      : size_(o.mh_table_size), bits_(bits), fallback_(o.mh_fallback), port_(o.mh_port) {
    lookup_.assign(size_, -1);
  }
  std::string_view name() const override { return "mh"; }
  static constexpr uint64_t kHash1 = (2654435761ull << 32) | 2654435761ull;  // generate_hash_secret
  static constexpr uint64_t kHash2 = (2654446892ull << 32) | 2654446892ull;

  uint32_t hashkey(const Endpoint& a, uint16_t port, uint64_t key, uint32_t offset) const {
    return keyed_hash(offset + port + a.fold(), key);
  }

  void update(std::span<const Dest> dests) override {
    auto lw = [](const Dest& d) { return std::max(d.weight, 0); };
    int g = 0, max = 0;
    for (auto& d : dests) {
      if (lw(d) > 0) g = g > 0 ? std::gcd(lw(d), g) : lw(d);
      max = std::max(max, lw(d));
    }
    if (g < 1) {
      lookup_.assign(size_, -1);
      return;
    }
    int fls = 0;
    for (int mw = max / g; mw; mw >>= 1) ++fls;
    int rshift = std::max(fls - bits_, 0);
    struct Setup {
      uint32_t offset, skip, perm;
      int turns;
    };
    std::vector<Setup> ds;
    for (auto& d : dests) {  // ip_vs_mh_permutate
      Setup s{};
      s.offset = hashkey(d.addr, d.addr.port, kHash1, 0) % size_;
      s.skip = hashkey(d.addr, d.addr.port, kHash2, 0) % (size_ - 1) + 1;
      s.perm = s.offset;
      int t = (lw(d) / g) >> rshift;
      s.turns = t ? t : (lw(d) != 0);
      ds.push_back(s);
    }
    std::vector<bool> taken(size_, false);  // ip_vs_mh_populate
    uint32_t n = 0;
    int dt_count = 0;
    while (n < size_) {
      for (size_t p = 0; p < ds.size();) {
        Setup& s = ds[p];
        if (s.turns < 1) {
          ++p;
          continue;
        }
        uint32_t c = s.perm;
        while (taken[c]) {
          s.perm += s.skip;
          if (s.perm >= size_) s.perm -= size_;
          c = s.perm;
        }
        taken[c] = true;
        lookup_[c] = int(p);
        if (++n == size_) return;
        if (++dt_count >= s.turns) {
          dt_count = 0;
          ++p;
        }
      }
    }
  }

  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) override {
    uint16_t port = port_ ? flow.client.port : 0;
    uint32_t ihash = hashkey(flow.client, port, kHash1, 0) % size_;
    int d = lookup_[ihash];
    if (d < 0) return std::nullopt;
    if (available(dests[size_t(d)])) return size_t(d);
    if (!fallback_) return std::nullopt;
    for (uint32_t offset = 0; offset < size_; ++offset) {  // ip_vs_mh_get_fallback
      uint32_t roffset = (offset + ihash) % size_;
      d = lookup_[hashkey(flow.client, port, kHash1, roffset) % size_];
      if (d < 0) break;
      if (available(dests[size_t(d)])) return size_t(d);
    }
    return std::nullopt;
  }

  // For tests: the destination index of each slot (-1 = empty).
  const std::vector<int>& table() const { return lookup_; }

 private:
  uint32_t size_;
  int bits_;
  bool fallback_, port_;
  std::vector<int> lookup_;
};

// ip_vs_dh.c: 256 buckets, destinations in turn; the packet's destination address picks one. A
// bucket whose destination is unavailable (weight 0, overloaded) schedules nothing.
class DestinationHash final : public Scheduler {
 public:
  std::string_view name() const override { return "dh"; }
  void update(std::span<const Dest> dests) override { buckets_ = dest_hash_table(dests); }
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) override {
    int d = buckets_[dest_hash_bucket(flow.daddr.fold())];
    if (d < 0 || !available(dests[size_t(d)])) return std::nullopt;
    return size_t(d);
  }

 private:
  std::vector<int> buckets_ = std::vector<int>(kDestHashBuckets, -1);
};

// ip_vs_twos.c (power of two choices, Mitzenmacher): two weighted random draws r1, r2 in
// [0, Σ weight] over the available destinations; the first destination at which the running
// sum of weights reaches r is that draw's choice; the second choice wins when its overhead per
// weight is lower (weight2 × overhead1 > weight1 × overhead2).
class PowerOfTwo final : public Scheduler {
 public:
  explicit PowerOfTwo(uint64_t seed) : random_(seed) {}
  std::string_view name() const override { return "twos"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow&) override {
    int64_t total = 0;
    std::optional<size_t> choice1, choice2;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (!dests[i].overloaded && dests[i].weight > 0) {
        total += dests[i].weight;
        choice1 = i;
      }
    }
    if (!choice1) return std::nullopt;
    total += 1;  // "inclusive from 0 to total_weight"
    // get_random_u32() % total_weight
    int64_t r1 = int64_t(random_.between(0, 0xffffffffu) % uint64_t(total));
    int64_t r2 = int64_t(random_.between(0, 0xffffffffu) % uint64_t(total));
    int64_t w1 = -1, w2 = -1, oh1 = 0, oh2 = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      if (dests[i].overloaded || dests[i].weight <= 0) continue;
      r1 -= dests[i].weight;
      r2 -= dests[i].weight;
      if (r1 <= 0 && w1 == -1) {
        choice1 = i;
        w1 = dests[i].weight;
        oh1 = conn_overhead(dests[i]);
      }
      if (r2 <= 0 && w2 == -1) {
        choice2 = i;
        w2 = dests[i].weight;
        oh2 = conn_overhead(dests[i]);
      }
      if (w1 != -1 && w2 != -1) break;
    }
    if (choice2 && w2 * oh1 > w1 * oh2) choice1 = choice2;
    return choice1;
  }

 private:
  Random random_;
};

// ip_vs_lblc.c is_overloaded(): more active connections than weight while some destination is
// below half its weight.
bool locality_overloaded(const Dest& d, std::span<const Dest> dests) {
  if (d.active <= d.weight) return false;
  return std::any_of(dests.begin(), dests.end(),
                     [](const Dest& o) { return int64_t(o.active) * 2 < o.weight; });
}

std::optional<size_t> index_of(std::span<const Dest> dests, const Endpoint& addr) {
  for (size_t i = 0; i < dests.size(); ++i) {
    if (dests[i].addr == addr) return i;
  }
  return std::nullopt;
}

// ip_vs_lblc.c (locality-based least-connection): a table from the packet's destination address
// to the real server it was last given; kept while that server is available and not overloaded,
// else the destination address gets wlc's choice (least_weighted). Entries unused for `expiration`
// are forgotten (ip_vs_lblc_full_check). A removed destination's entries stay and are
// rescheduled when next used (IPVS: the destination is in the trash, not available).
class LocalityLeastConnection final : public Scheduler {
 public:
  explicit LocalityLeastConnection(Duration expiration) : expiration_(expiration) {}
  std::string_view name() const override { return "lblc"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) override {
    auto it = table_.find(flow.daddr);
    if (it != table_.end() && flow.now - it->second.lastuse > expiration_) {
      table_.erase(it);
      it = table_.end();
    }
    if (it != table_.end()) {
      it->second.lastuse = flow.now;
      auto i = index_of(dests, it->second.dest);
      if (i && dests[*i].weight > 0 && !locality_overloaded(dests[*i], dests)) return i;
    }
    auto least = least_weighted(dests, conn_overhead);
    if (!least) return std::nullopt;
    table_[flow.daddr] = Entry{dests[*least].addr, flow.now};  // ip_vs_lblc_new
    return least;
  }

 private:
  struct Entry {
    Endpoint dest;
    TimePoint lastuse;
  };
  Duration expiration_;
  std::map<Endpoint, Entry> table_;
};

// ip_vs_lblcr.c (lblc with replication): each destination address has a set of real servers,
// the newest first (list_add_rcu). The set's least loaded member serves (ip_vs_dest_set_min);
// when it is overloaded, wlc's choice (least_weighted) joins the set and serves. A set of more than
// one member unchanged for `expiration` loses its most loaded member (ip_vs_dest_set_max).
class LocalityLeastConnectionReplicated final : public Scheduler {
 public:
  explicit LocalityLeastConnectionReplicated(Duration expiration) : expiration_(expiration) {}
  std::string_view name() const override { return "lblcr"; }
  void update(std::span<const Dest>) override {}
  std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) override {
    auto it = table_.find(flow.daddr);
    if (it != table_.end() && flow.now - it->second.lastuse > expiration_) {
      table_.erase(it);
      it = table_.end();
    }
    if (it == table_.end()) {
      auto least = least_weighted(dests, conn_overhead);
      if (!least) return std::nullopt;
      table_[flow.daddr] = Entry{{dests[*least].addr}, flow.now, flow.now};
      return least;
    }
    Entry& en = it->second;
    en.lastuse = flow.now;
    std::optional<size_t> dest = set_min(en, dests);
    if (en.set.size() > 1 && flow.now - en.lastmod > expiration_) {
      if (auto m = set_max(en, dests)) {
        std::erase(en.set, dests[*m].addr);  // ip_vs_dest_set_erase
        en.lastmod = flow.now;
      }
    }
    if (dest && !locality_overloaded(dests[*dest], dests)) return dest;
    auto least = least_weighted(dests, conn_overhead);
    if (!least) return std::nullopt;
    if (std::find(en.set.begin(), en.set.end(), dests[*least].addr) == en.set.end()) {
      en.set.insert(en.set.begin(), dests[*least].addr);  // ip_vs_dest_set_insert: at the head
      en.lastmod = flow.now;
    }
    return least;
  }

 private:
  struct Entry {
    std::vector<Endpoint> set;  // newest first
    TimePoint lastuse, lastmod;
  };
  // ip_vs_dest_set_min: the first available member with weight > 0, then any later available
  // non-overloaded one with a lower overhead / weight.
  static std::optional<size_t> set_min(const Entry& en, std::span<const Dest> dests) {
    std::optional<size_t> least;
    int64_t loh = 0;
    for (auto& a : en.set) {
      auto i = index_of(dests, a);
      if (!i || dests[*i].overloaded) continue;
      int64_t doh = conn_overhead(dests[*i]);
      if (!least) {
        if (dests[*i].weight > 0) {
          least = i;
          loh = doh;
        }
      } else if (loh * dests[*i].weight > doh * dests[*least].weight) {
        least = i;
        loh = doh;
      }
    }
    return least;
  }
  // ip_vs_dest_set_max: the first member with weight > 0, then any later one with weight > 0 and
  // a higher overhead / weight.
  static std::optional<size_t> set_max(const Entry& en, std::span<const Dest> dests) {
    std::optional<size_t> most;
    int64_t moh = 0;
    for (auto& a : en.set) {
      auto i = index_of(dests, a);
      if (!i || dests[*i].weight <= 0) continue;
      int64_t doh = conn_overhead(dests[*i]);
      if (!most || moh * dests[*i].weight < doh * dests[*most].weight) {
        most = i;
        moh = doh;
      }
    }
    return most;
  }
  Duration expiration_;
  std::map<Endpoint, Entry> table_;
};

int maglev_bits(uint32_t size) {
  const auto* p = std::find(std::begin(kMaglevPrimes), std::end(kMaglevPrimes), size);
  int index = int(p - std::begin(kMaglevPrimes)) + 8;  // CONFIG_IP_VS_MH_TAB_INDEX
  return index / 2;
}

}  // namespace

std::vector<int> maglev_table(std::span<const Dest> dests, uint32_t size) {
  SchedulerOptions o;
  o.mh_table_size = size;
  Maglev m(o, maglev_bits(size));
  m.update(dests);
  return m.table();
}

std::vector<int> dest_hash_table(std::span<const Dest> dests) {
  std::vector<int> buckets(kDestHashBuckets, -1);
  if (dests.empty()) return buckets;
  for (uint32_t i = 0; i < kDestHashBuckets; ++i) buckets[i] = int(i % dests.size());
  return buckets;
}

uint32_t source_hash_bucket(const Flow& flow, bool use_port) {
  uint32_t key = flow.client.fold() + (use_port ? flow.client.port : 0);
  return hash_32(key, 8) & (kSourceHashBuckets - 1);
}

bool is_ipvs_scheduler(std::string_view name) {
  static constexpr std::string_view kNames[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                                "sh", "sed", "nq", "fo",  "ovf",  "mh",    "twos"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

Result<std::unique_ptr<Scheduler>> make_scheduler(std::string_view name,
                                                  const SchedulerOptions& options) {
  if (name == "rr") return std::unique_ptr<Scheduler>(new RoundRobin());
  if (name == "wrr") return std::unique_ptr<Scheduler>(new WeightedRoundRobin());
  if (name == "lc") return std::unique_ptr<Scheduler>(new LeastConnection());
  if (name == "wlc") return std::unique_ptr<Scheduler>(new LeastWeighted("wlc", conn_overhead));
  if (name == "sed") return std::unique_ptr<Scheduler>(new LeastWeighted("sed", expected_delay));
  if (name == "nq") return std::unique_ptr<Scheduler>(new NeverQueue());
  if (name == "fo") return std::unique_ptr<Scheduler>(new WeightedFailover());
  if (name == "ovf") return std::unique_ptr<Scheduler>(new WeightedOverflow());
  if (name == "sh") return std::unique_ptr<Scheduler>(new SourceHash(options));
  if (name == "mh") {
    const auto* p =
        std::find(std::begin(kMaglevPrimes), std::end(kMaglevPrimes), options.mh_table_size);
    if (p == std::end(kMaglevPrimes)) {
      return Error{EINVAL, fmt::format("mh table size {}: expected one of 251, 509, 1021, 2039, "
                                       "4093, 8191, 16381, 32749, 65521, 131071",
                                       options.mh_table_size)};
    }
    return std::unique_ptr<Scheduler>(new Maglev(options, maglev_bits(options.mh_table_size)));
  }
  if (name == "dh") return std::unique_ptr<Scheduler>(new DestinationHash());
  if (name == "twos") return std::unique_ptr<Scheduler>(new PowerOfTwo(options.seed));
  if (name == "lblc")
    return std::unique_ptr<Scheduler>(new LocalityLeastConnection(options.expiration));
  if (name == "lblcr")
    return std::unique_ptr<Scheduler>(new LocalityLeastConnectionReplicated(options.expiration));
  return Error{EINVAL, fmt::format("unknown scheduler '{}': expected one of rr, wrr, lc, wlc, "
                                   "lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos",
                                   name)};
}

}  // namespace vnet::lb
