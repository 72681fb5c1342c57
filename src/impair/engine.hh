#pragma once
// Engine: link impairment for one direction of one link, without I/O — the loss, delay, rate,
// duplication, corruption, reordering, MTU and carrier faults of Linux netem (tc-netem(8),
// net/sched/sch_netem.c) and VDE's wirefilter (vde-2 src/wirefilter.c), decided exactly and
// reproducibly.
//
// What it models. Frames arrive (offer) at a time `now` given by the caller; each is dropped
// with a cause, or goes on as one or two copies (duplication), each with a delivery time and the
// bit positions to flip (corruption). The engine holds the copies that are not yet due, under
// the caller's opaque Handle, and hands them back through pop_due(now) when their time has
// come, earliest first; next_deadline() says when to call it. The frames themselves stay with
// the caller (an egress stage keeps them in a slab indexed by the handle); the engine sees only
// sizes. A caller that gets two copies clones the frame; flips are applied with apply_flips().
//
// The path of an arriving frame, in this order (settings.hh has the words):
//  1. carrier: while the carrier is down (set, or in the down part of a flap cycle) every
//     arrival is dropped (kCarrierDown). Frames already held are on the wire and still arrive.
//  2. MTU: a frame longer than mtu bytes is dropped (kMtu).
//  3. every Nth: of the frames that got this far, the Nth, 2Nth, ... are dropped (kEveryNth).
//  4. loss: Bernoulli (kLoss), Gilbert–Elliott or 4-state Markov (kBurstLoss). Gilbert–Elliott:
//     the frame is lost with the loss probability of the current state (1-k good, 1-h bad),
//     then the state moves (good → bad with p, bad → good with r); with 1-h = 100 % and
//     1-k = 0 % bursts are geometric with mean 1/r frames. 4-state (netem's loss_4state): the
//     state moves first, and the frame is lost when the new state is 3 or 4.
//  5. duplication: a second copy with probability `duplicate`.
//  6. per copy: corruption (one random bit with probability `corrupt`; a Poisson number of bit
//     errors with mean size × noise / 2^20, at most kMaxFlips), a delay draw, a reorder draw.
//  7. per copy, the queue limit: if holding it would exceed limit packets or limit bytes (frames
//     held for delay and for rate alike, as netem's limit), the copy is dropped (kQueueFull).
//  8. rate: the link sends one frame at a time: a copy starts when the link is free (or now)
//     and takes size × 8 / rate seconds (kept exactly in ns with the remainder carried, so the
//     long-run rate is exact). Its time is the end of its serialization.
//  9. delay: + D + J·t, t drawn from the distribution (below), the sum clamped at 0.
// 10. order: with jitter-reorder off, a copy's time is at least the previous copy's time (no
//     overtaking: time = max(own, previous)); with it on, copies leave in time order. A copy that
//     reorder picked skips the delay (not the rate) and may overtake (tc-netem(8) `reorder P gap
//     N`: once N − 1 frames were delayed since the last reordered one, each copy is sent
//     without delay with probability P).
//
// Delay distributions (netem's table-free definitions; u uniform in [0, 1)):
//   uniform:       t = 2u − 1                     (J is the half-width: D ± J)
//   normal:        t = Φ⁻¹(u)                     (J is σ)
//   pareto:        t = ((1 − u)^(−1/3) − 1.5)·4/3  (iproute2 netem/pareto.c: Pareto with
//                                                  α = 3, shifted to mean 0)
//   paretonormal:  t = 0.25·Φ⁻¹(u) + 0.75·pareto(u) (iproute2 netem/paretonormal.c: the two
//                                                  quantile functions mixed at the same u)
// and, as netem's tables (16-bit entries over NETEM_DIST_SCALE = 8192), t is clamped to
// [−4, 4]. Φ⁻¹ is Acklam's rational approximation (relative error < 1.2e-9).
//
// Randomness. Each kind draws from its own Stream (stream.hh) seeded from (link seed, direction,
// kind name): "loss", "duplicate", "corrupt", "noise", "delay", "reorder". A stream is consumed
// only by its kind and only for frames that reach its step, so changing the delay does not move
// a single loss decision, and the same seed, settings and arrivals give the same decisions on
// every run and build. The kinds draw a fixed number of values per decision (loss: one per frame
// for Bernoulli and 4-state, two for Gilbert–Elliott; delay: one per copy while J > 0; ...).
//
// Memory. Held copies live in a binary heap whose capacity is reserved when settings are
// applied (limit packets), so offer and pop_due never allocate. The limit always applies: with
// neither rate nor limit set, netem's default of 1000 frames bounds the queue.
//
// Changing settings (apply) keeps the held copies and their times, the link's busy time, the
// loss model's state when the model is unchanged, the streams, and the counters; a flap cycle
// starts at the apply time.
//
// Time is a monotonic TimePoint (ns) from the caller; the engine never reads a clock. Time
// going backwards is treated as no time passing.
// Threading: none; an Engine belongs to one thread.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "impair/settings.hh"
#include "impair/stream.hh"

namespace vnet::impair {

using Handle = uint64_t;

enum class Cause : uint8_t {
  kNone,         // delivered
  kCarrierDown,  // arrived while the carrier was down
  kMtu,          // longer than the MTU
  kEveryNth,     // the Nth frame
  kLoss,         // Bernoulli loss
  kBurstLoss,    // Gilbert–Elliott or 4-state loss
  kQueueFull,    // the limit (packets or bytes) was reached: tail drop
  kCount
};
std::string_view cause_name(Cause c);  // "carrier-down", "mtu", "every-nth", "loss", ...

constexpr size_t kMaxCopies = 2;
constexpr size_t kMaxFlips = 16;

struct CopyVerdict {
  Cause drop = Cause::kNone;  // kNone or kQueueFull
  TimePoint due{};            // when it leaves the engine (if not dropped)
  uint8_t flip_count = 0;
  // Bit positions to flip: bit b is (byte b / 8) ^= 1 << (b % 8).
  std::array<uint32_t, kMaxFlips> flips{};
};

struct Verdict {
  Cause drop = Cause::kNone;  // why the whole frame was dropped (then copies == 0)
  uint8_t copies = 0;         // 1, or 2 when duplicated (a copy may still be kQueueFull)
  std::array<CopyVerdict, kMaxCopies> copy{};
};

// A held copy whose time has come.
struct Release {
  Handle handle = 0;
  uint8_t copy = 0;  // 0 = the original, 1 = the duplicate
  uint32_t size = 0;
  TimePoint due{};
};

struct Counters {
  uint64_t offered = 0;
  std::array<uint64_t, static_cast<size_t>(Cause::kCount)> dropped{};  // by Cause
  uint64_t released = 0;    // copies handed back by pop_due/take_all
  uint64_t delayed = 0;     // copies whose time was later than their arrival
  uint64_t duplicated = 0;  // second copies made
  uint64_t corrupted = 0;   // copies with at least one flip
  uint64_t bits_flipped = 0;
  uint64_t flips_capped = 0;  // copies whose Poisson draw reached kMaxFlips
  uint64_t reordered = 0;     // copies that skipped the delay (reorder)
  uint64_t held_packets = 0;  // now
  uint64_t held_bytes = 0;    // now
  uint64_t peak_packets = 0;
  uint64_t peak_bytes = 0;
  uint64_t drops(Cause c) const { return dropped[static_cast<size_t>(c)]; }
};

class Engine {
 public:
  // `link_seed` and `direction` name the random streams (stream.hh); `now` starts a flap cycle.
  Engine(uint64_t link_seed, std::string_view direction, const Settings& settings = {},
         TimePoint now = {});

  // Replaces the settings (see above for what is kept). Reserves the queue: may allocate.
  void apply(const Settings& settings, TimePoint now);
  const Settings& settings() const { return settings_; }

  // A frame of `size` bytes arrives at `now`; `handle` names it in later Releases.
  Verdict offer(TimePoint now, uint32_t size, Handle handle);

  // When the earliest held copy is due; nullopt when nothing is held.
  std::optional<TimePoint> next_deadline() const;
  // Takes the earliest held copy due at or before `now` into `out`; false when there is none.
  bool pop_due(TimePoint now, Release& out);
  // Appends every copy due at or before `now`, in release order.
  void poll(TimePoint now, std::vector<Release>& out);
  // Appends every held copy in release order and empties the queue.
  void take_all(std::vector<Release>& out);

  // Whether the carrier is up at `now` (settings and flap cycle).
  bool carrier_up(TimePoint now) const;

  const Counters& counters() const { return counters_; }

 private:
  struct Entry {
    TimePoint due;
    uint64_t seq;
    Handle handle;
    uint32_t size;
    uint8_t copy;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };

  bool lose(Cause& cause);
  void corrupt_copy(uint32_t size, CopyVerdict& v);
  Duration draw_delay();
  void pop_top(Release& out);

  Settings settings_;
  TimePoint applied_at_{};
  TimePoint last_now_{};  // the latest `now` seen (time never goes backwards)
  Stream loss_, duplicate_, corrupt_, noise_, delay_, reorder_;
  uint8_t loss_state_ = 1;  // 1 good / gap; GE uses 1 good, 2 bad; 4-state uses 1–4
  uint64_t nth_count_ = 0;
  uint64_t reorder_count_ = 0;  // delayed copies since the last reordered one
  TimePoint link_free_{};       // when the link finishes the last serialization
  uint64_t rate_carry_ = 0;     // remainder of the last serialization time, in bit·ns units
  TimePoint last_due_{};        // time of the latest in-order copy
  uint64_t seq_ = 0;
  std::vector<Entry> heap_;
  Counters counters_;
};

// Flips the bits `v` lists in `bytes` (positions past the end are ignored).
void apply_flips(const CopyVerdict& v, std::span<uint8_t> bytes);

// Φ⁻¹: the standard normal quantile of p in (0, 1) (Acklam's approximation). Exposed for tests.
double normal_quantile(double p);
// The delay distribution's t for a uniform u in [0, 1), clamped to [−4, 4]. Exposed for tests.
double distribution_value(Distribution d, double u);

}  // namespace vnet::impair
