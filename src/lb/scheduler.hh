#pragma once
// IPVS schedulers without a kernel: which real server a new connection goes to. Each one follows
// its Linux file in net/netfilter/ipvs/ (named below) so that a table vnet programs behaves as
// the same table in IPVS would: the same selection sequence for rr and wrr, the same bucket
// layout for sh, the same table size and population order for mh, the same overhead formula for
// lc and wlc.
//
// Shapes: a service's destinations are a list in IPVS order (the order they were added); the
// scheduler is told when the list or a weight changes (update(), IPVS add_dest / del_dest /
// upd_dest) and picks by index (schedule()). A destination with weight 0 or overloaded is never
// picked (IPVS: "quiescent"). No destination available: nullopt (IPVS logs "no destination
// available" and the packet is dropped or bypassed).
//
// Hashes: sh uses the kernel's hash_32 (golden ratio) exactly, so its buckets equal IPVS's. mh
// uses the kernel's layout (prime table, offset/skip permutations, weight turns, fixed keys) but
// a 64-bit mix of our own in place of hsiphash, so its table is a Maglev table with the same
// size and properties, not bit-identical to the kernel's (anchors §4(d) calls that a stretch).
//
// dh uses ip_vs_dh.c's own multiplicative hash exactly, so its buckets equal IPVS's.
//
// twos draws its two random weights from a generator seeded by SchedulerOptions::seed (IPVS:
// get_random_u32()), so a run replays from its seed. lblc and lblcr keep IPVS's per
// destination-address table (entries expire after `expiration` without use, 24 h as the
// lblc_expiration / lblcr_expiration sysctls), on the time the caller passes in Flow::now.
//
// Not thread-safe; one per service per datapath thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/random.hh"
#include "base/result.hh"
#include "lb/endpoint.hh"

namespace vnet::lb {

// A destination (IPVS struct ip_vs_dest) as schedulers see it.
struct Dest {
  Endpoint addr;
  int weight = 1;           // 0..65535 (IPVS_WEIGHT_LIMIT); 0 = quiescent, never scheduled
  int active = 0;           // established connections (activeconns)
  int inactive = 0;         // other connections (inactconns)
  bool overloaded = false;  // IP_VS_DEST_F_OVERLOAD (u/l thresholds)
};

// What a scheduler keys on: the client (sh and mh hash the source address, and the source port
// with the sh-port / mh-port flag), the packet's destination (dh hashes it; lblc and lblcr keep
// one entry per destination address) and the time (lblc, lblcr: entry expiry).
struct Flow {
  Endpoint client;
  Endpoint daddr;
  TimePoint now{};
};

// IPVS's overhead of a destination for lc and wlc (ip_vs_dest_conn_overhead in ip_vs.h):
// active connections weigh 256 times an inactive one.
constexpr int64_t conn_overhead(const Dest& d) { return (int64_t(d.active) << 8) + d.inactive; }

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // The destination list or a weight changed. `dests` must be passed unchanged to schedule()
  // until the next update (connection counts may change in between).
  virtual void update(std::span<const Dest> dests) = 0;
  // Index of the chosen destination in `dests`, or nullopt.
  virtual std::optional<size_t> schedule(std::span<const Dest> dests, const Flow& flow) = 0;
};

struct SchedulerOptions {
  // mh: table size, one of kMaglevPrimes. IPVS: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the
  // Kconfig default 12, i.e. 4093.
  uint32_t mh_table_size = 4093;
  bool mh_fallback =
      false;             // IP_VS_SVC_F_SCHED_MH_FALLBACK (keepalived lvs_sched mh + mh-fallback)
  bool mh_port = false;  // IP_VS_SVC_F_SCHED_MH_PORT
  bool sh_fallback = false;  // IP_VS_SVC_F_SCHED_SH_FALLBACK
  bool sh_port = false;      // IP_VS_SVC_F_SCHED_SH_PORT
  uint64_t seed = 0;         // twos: the random generator's seed
  // lblc, lblcr: an entry unused this long is forgotten (sysctl lblc_expiration,
  // lblcr_expiration: DEFAULT_EXPIRATION 24 h); lblcr: a set unchanged this long loses its most
  // loaded member.
  Duration expiration = std::chrono::hours(24);
};

// ip_vs_mh.c's table sizes.
inline constexpr uint32_t kMaglevPrimes[] = {251,  509,   1021,  2039,  4093,
                                             8191, 16381, 32749, 65521, 131071};
// ip_vs_sh.c: 1 << CONFIG_IP_VS_SH_TAB_BITS (8).
inline constexpr uint32_t kSourceHashBuckets = 256;
// ip_vs_dh.c: 1 << CONFIG_IP_VS_DH_TAB_BITS (8).
inline constexpr uint32_t kDestHashBuckets = 256;

// Every one of Linux IPVS's 14 names: "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh",
// "sed", "nq", "fo", "ovf", "mh", "twos". Error for another name ("unknown scheduler 'x':
// expected one of ...") and for an mh table size that is not one of kMaglevPrimes.
Result<std::unique_ptr<Scheduler>> make_scheduler(std::string_view name,
                                                  const SchedulerOptions& options = {});
// One of Linux IPVS's 14 scheduler names (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos).
bool is_ipvs_scheduler(std::string_view name);

// The kernel's hash_32 (include/linux/hash.h): (val * GOLDEN_RATIO_32) >> (32 - bits).
constexpr uint32_t hash_32(uint32_t val, unsigned bits) {
  return uint32_t(val * 0x61C88647u) >> (32 - bits);
}

// The source-hash bucket of a flow (ip_vs_sh_hashkey with offset 0).
uint32_t source_hash_bucket(const Flow& flow, bool use_port);

// The destination-hash bucket of an address (ip_vs_dh_hashkey: the address in host order times
// 2654435761, the low 8 bits).
constexpr uint32_t dest_hash_bucket(uint32_t addr) {
  return uint32_t(addr * 2654435761u) & (kDestHashBuckets - 1);
}

// The Maglev lookup table ip_vs_mh.c builds for `dests` (ip_vs_mh_populate): for each of `size`
// slots the index of its destination in `dests`, -1 when no destination has weight > 0. `size`
// must be one of kMaglevPrimes.
std::vector<int> maglev_table(std::span<const Dest> dests, uint32_t size);

// The 256 buckets ip_vs_dh.c fills (ip_vs_dh_reassign): destinations in turn, one bucket each,
// weights ignored; -1 when `dests` is empty.
std::vector<int> dest_hash_table(std::span<const Dest> dests);

}  // namespace vnet::lb
