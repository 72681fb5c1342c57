#pragma once
// ImpairStage: link impairment (impair/engine.hh) as a stage of a port's egress or ingress chain
// (egress.hh): the faults of one direction of the wire between the switch and what its port
// reaches — loss, delay, rate, duplication, corruption, reordering, MTU, carrier.
//
// Every frame is offered to one impair::Engine. A dropped frame is counted on the port under the
// DropReason of its cause (impair_carrier_down, impair_mtu, impair_every_nth, impair_loss,
// impair_burst_loss, impair_queue_full; shown by port/stats and port/print) and on the stage. A
// frame that goes on is kept in a slot named by the engine's handle until its copy is due (a
// duplicate is a clone of the frame, made before any bit is flipped; each copy gets its own
// flips); due copies leave in the engine's order. Even an undelayed frame passes through the
// engine's queue and leaves in the same process() call, so a frame never overtakes a held one
// unless the settings allow it (jitter-reorder, reorder). The held frames are bounded by the
// engine's limit (packets and bytes; netem's default of 1000 frames when none is set); held
// frames are shrunk to their size (Frame::shrink_to_fit).
//
// A TCP GSO frame (a segment train a vnet-header backend handed over as one frame) is cut into
// the segments it becomes on the wire (packet::segment_gso) whenever the settings act per frame —
// loss, rate, MTU, duplication, corruption, noise, every-Nth, reordering — so each segment is
// lost, spaced, checked against the MTU and corrupted on its own, as on a real link: a rate limit
// then releases segments one serialization time apart, not a 64 KiB burst (TCP through such bursts
// went application-limited and reached 0.98 of the rate). Delay, jitter and carrier alone keep
// the frame whole. Other GSO frames (UDP) are impaired whole, their size counted as wire_size().
//
// Frames of every kind are impaired, BPDUs and other reserved-address frames too: on a real
// lossy wire spanning tree sees the loss.
//
// Seeds: impair_link_seed(dataplane seed, bridge, port) names the link; the direction ("out":
// frames leaving the switch on the port, "in": frames it receives there) names the engine's
// streams (impair/stream.hh), so the same seed, settings and arrivals give the same decisions.
// Lateness: a copy released by a timer (release(), not within process()) left `now − due` after
// its due time; the stage keeps the count, sum, maximum and a histogram of these, so a user sees
// whether the host kept the delays it was asked for (impair/show). Nothing else depends on it.
//
// Single-threaded, like the chain it sits on.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/bridge.hh"
#include "bridge/drop_reason.hh"
#include "bridge/egress.hh"
#include "impair/engine.hh"
#include "impair/settings.hh"

namespace vnet::bridge {

// The port counter's reason for a frame the engine dropped for `cause` (not kNone).
DropReason impair_drop_reason(impair::Cause cause);

// The bytes `f` puts on the wire: its size, or for a GSO frame the size of the segments it
// becomes (each with its own headers). Rate, queue bytes, MTU and noise count this.
uint32_t wire_size(const packet::Frame& f);

// The link seed of `port` of the bridge named `bridge` under a dataplane's impairment seed.
uint64_t impair_link_seed(uint64_t dataplane_seed, std::string_view bridge, PortNo port);

// How late copies left after their due time (see above), in microseconds.
struct Lateness {
  // Bucket upper bounds (µs, exclusive); the last bucket holds the rest.
  static constexpr std::array<int64_t, 7> kBoundsUs = {10, 50, 100, 200, 500, 1000, 10000};
  uint64_t count = 0;
  int64_t sum_ns = 0;
  int64_t max_ns = 0;
  std::array<uint64_t, kBoundsUs.size() + 1> buckets{};
  void add(Duration late);
  // Copies in the buckets that start at `us` or later: those at least `us` late when `us` is one
  // of kBoundsUs.
  uint64_t at_least(int64_t us) const;
};

class ImpairStage final : public EgressStage {
 public:
  static constexpr std::string_view kName = "impair";

  // Drops are counted on `bridge`'s port `port`, which must outlive the stage's datapath calls.
  ImpairStage(Bridge& bridge, PortNo port, uint64_t link_seed, std::string_view direction,
              const impair::Settings& settings, TimePoint now);

  std::string_view name() const override { return kName; }
  void process(std::span<packet::Frame> in, std::vector<packet::Frame>& pass,
               TimePoint now) override;
  std::optional<TimePoint> next_due() const override { return engine_.next_deadline(); }
  void release(TimePoint now, std::vector<packet::Frame>& pass) override;
  void take_held(std::vector<packet::Frame>& out) override;
  size_t held() const override { return engine_.counters().held_packets; }

  // New settings from `now` on; held frames keep their times (Engine::apply).
  void apply(const impair::Settings& settings, TimePoint now);
  const impair::Settings& settings() const { return engine_.settings(); }
  const impair::Counters& counters() const { return engine_.counters(); }
  const Lateness& lateness() const { return lateness_; }
  std::string_view direction() const { return direction_; }

 private:
  struct Slot {
    std::array<packet::Frame, impair::kMaxCopies> copy;
    uint8_t pending = 0;  // copies still held
  };
  // Whether `s` impairs the segments of a GSO frame one by one (see process()).
  static bool per_segment(const impair::Settings& s);
  void offer(packet::Frame& f, TimePoint now);
  uint32_t take_slot();
  void hand_over(const impair::Release& r, std::vector<packet::Frame>& out);
  void release_due(TimePoint now, std::vector<packet::Frame>& pass, bool timed);
  void drop(impair::Cause cause, const packet::Frame& frame);

  Bridge& bridge_;
  PortNo port_;
  std::string direction_;
  impair::Engine engine_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<impair::Release> releases_;
  bool per_segment_ = false;
  std::vector<packet::Frame> segments_;
  Lateness lateness_;
};

}  // namespace vnet::bridge
