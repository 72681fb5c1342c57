#pragma once
// Paced probe streams: the measurement behind `vnet probe send|reflect` and the lab step `probe`.
//
// A sender sends `count` UDP datagrams at a fixed rate to a reflector, which sends each probe
// back unchanged; the sender times the round trips. Everything here is sans-IO: time comes in as
// TimePoint arguments (CLOCK_MONOTONIC in the runner, a ManualClock in tests) and bytes as spans;
// probe/udp.hh moves datagrams between sockets and these objects.
//
// Wire format (the UDP payload; network byte order), ProbeHeader:
//   magic "vnPR" (4) | run id (4) | sequence number (8) | send time, CLOCK_MONOTONIC ns (8)
// padded with zeros to the payload size the user asked for (at least kHeaderSize bytes).
//
// Pacing: probe i is due at start + i × period, an absolute schedule (period kept in
// picoseconds, so 200/s is exactly 5 ms and 10mbit of 242-byte frames exactly 193.6 µs); a probe
// sent late does not move the ones after it, so the mean rate is the asked one.
//
// Definitions (the step docs and `vnet probe` use these names):
// - sent: probes the sender sent; received: distinct sequence numbers that came back;
//   lost = sent − received; loss % = 100 × lost / sent.
// - duplicates: arrivals of a sequence number that had already arrived.
// - reordered: first arrivals of a sequence number lower than one that had already arrived.
// - delay of a probe: arrival time − the send time it carries (at the sender: the round-trip
//   time, RTT); only the first arrival of each sequence number counts.
// - percentiles: nearest rank — p% is the smallest sample such that at least p% of the samples
//   are ≤ it, sorted[ceil(p/100 × n) − 1] (p50 of 1..10 is 5, p90 is 9, p99 is 10).
// - jitter: the mean absolute difference between the delays of consecutive received probes in
//   sequence order, (1/(n−1)) Σ |D_k − D_{k−1}| (RFC 3393 IPDV with consecutive pairs, averaged
//   as absolute values; a lost probe's neighbours form a pair). 0 with fewer than 2 samples.
// - throughput: bits per second of the received probes' Ethernet frames — UDP payload + 8 (UDP)
//   + 20 (IPv4) or 40 (IPv6) + 14 (Ethernet) bytes, no FCS, preamble or VLAN tag: the bytes
//   netem's and vnet's `rate` count — over the arrivals after the first, divided by the time
//   from the first arrival to the last (so a lossless stream paced at R measures R). 0 with
//   fewer than 2 arrivals. `bitrate` pacing counts the same bytes.
// - ignored: datagrams that were not a probe of this run (too short, another magic, another
//   run id, a sequence number past the stream's end); never counted in the figures above.
//
// Memory is bounded: at most kMaxCount probes per stream, one 8-byte slot each, and a
// reflector keeps at most kMaxRuns runs.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"

namespace vnet::probe {

constexpr uint32_t kMagic = 0x766e5052;  // "vnPR"
constexpr size_t kHeaderSize = 24;
constexpr size_t kMaxPayload = 65507;  // the largest UDP payload over IPv4
constexpr uint64_t kMaxCount = 1'000'000;
constexpr double kMaxRate = 1'000'000;                    // probes per second
constexpr uint64_t kMaxPeriodPs = 1'000'000'000'000'000;  // one probe every 1000 s
constexpr size_t kDefaultPayload = 100;
constexpr double kDefaultRate = 100;  // probes per second
constexpr uint64_t kDefaultCount = 100;
constexpr uint16_t kDefaultPort = 47000;

struct ProbeHeader {
  uint32_t run = 0;
  uint64_t seq = 0;
  int64_t sent_ns = 0;  // CLOCK_MONOTONIC
  friend bool operator==(const ProbeHeader&, const ProbeHeader&) = default;
};
// "probe truncated: need 24 bytes, have N", "not a probe: magic 0x…"
Result<ProbeHeader> decode_probe(std::span<const uint8_t> payload);
// Appends the header and zeros up to `payload` bytes (at least kHeaderSize).
void encode_probe(const ProbeHeader& h, size_t payload, std::vector<uint8_t>& out);

// Bytes of the Ethernet frame that carries `payload` bytes of UDP (see throughput above).
constexpr size_t frame_bytes(size_t payload, bool v6) { return payload + 8 + (v6 ? 40 : 20) + 14; }

// "200/s" (probes per second, a decimal number > 0 up to kMaxRate).
Result<double> parse_packet_rate(std::string_view text);
// "10mbit": bit, kbit, mbit, gbit (×1000 bits/s) or bps, kbps, mbps, gbps (bytes/s), as tc(8).
Result<uint64_t> parse_bitrate(std::string_view text);
// "9.5 Mbit/s"
std::string format_bitrate(double bps);

// What the user asked for. At most one of rate and bitrate, at most one of count and duration
// (defaults: kDefaultRate, kDefaultCount).
struct StreamOptions {
  std::optional<double> rate;        // probes per second
  std::optional<uint64_t> bitrate;   // bits per second of frames (frame_bytes)
  size_t payload = kDefaultPayload;  // UDP payload bytes, kHeaderSize..kMaxPayload
  std::optional<uint64_t> count;     // probes
  std::optional<Duration> duration;  // count = ceil(duration × rate)
};

struct StreamPlan {
  uint64_t period_ps = 0;  // between two probes, picoseconds
  uint64_t count = 0;
  size_t payload = 0;
  double rate() const { return 1e12 / static_cast<double>(period_ps); }
};
// Errors name the option: "size 10: expected 24 to 65507 bytes (the probe header is 24)",
// "count 2000000: expected at most 1000000 probes".
Result<StreamPlan> make_plan(const StreamOptions& o, bool v6);

// The sending side: when each probe is due and its payload.
class Sender {
 public:
  Sender(uint32_t run, const StreamPlan& plan, TimePoint start)
      : run_(run), plan_(plan), start_(start) {}
  uint32_t run() const { return run_; }
  const StreamPlan& plan() const { return plan_; }
  // When probe i is due: start + i × period, exactly (rounded down to the nanosecond).
  TimePoint due(uint64_t i) const;
  // When the next probe is due; none once all are sent.
  std::optional<TimePoint> next_due() const;
  // The next probe's payload, stamped with `now` (the send time), into `out` (replaced).
  void build_next(TimePoint now, std::vector<uint8_t>& out);
  uint64_t sent() const { return sent_; }

 private:
  uint32_t run_;
  StreamPlan plan_;
  TimePoint start_;
  uint64_t sent_ = 0;
};

struct DelayStats {
  Duration min{0}, mean{0}, p50{0}, p90{0}, p99{0}, max{0};
};

struct Stats {
  uint64_t sent = 0, received = 0, lost = 0, duplicates = 0, reordered = 0, ignored = 0;
  double loss_pct = 0;
  std::optional<DelayStats> delay;  // none when nothing arrived
  Duration jitter{0};
  double throughput_bps = 0;
};

// Nearest-rank percentile (see above) of sorted, non-empty samples; p in (0, 100].
Duration percentile(std::span<const Duration> sorted, double p);

// What arrived of one run: at the sender the replies, at the reflector the one-way probes.
class Collector {
 public:
  enum class Verdict { kRecorded, kDuplicate, kMalformed, kOtherRun, kOutOfRange };
  // Sequence numbers below `limit` (at most kMaxCount) are the run's; each arrival counts
  // `overhead` bytes on top of its payload for throughput (frame_bytes(0, v6)).
  Collector(uint32_t run, uint64_t limit, size_t overhead);
  Verdict on_datagram(std::span<const uint8_t> payload, TimePoint at);
  // Counts a datagram that was no probe at all (the reflector decodes before it knows the run).
  void ignore() { ++ignored_; }
  // The figures over the first `sent` sequence numbers. With `reflector` (the reflector's
  // collector of the same run, on the same clock), each probe's delay is less the reflector's
  // turnaround for it, as TWAMP's sender subtracts the reflector's processing time (RFC 5357
  // §4.2): what the path took, not how soon the reflecting thread ran.
  Stats stats(uint64_t sent, const Collector* reflector = nullptr) const;
  uint64_t received() const { return received_; }
  uint64_t arrivals() const { return arrivals_; }
  std::optional<uint64_t> highest() const { return highest_; }
  std::optional<TimePoint> last_arrival() const { return last_; }
  // A reflector's turnaround for probe `seq` (arrival to its echo's send; the first echo's);
  // statistics over every echoed probe, none before the first.
  void add_turnaround(uint64_t seq, Duration d);
  std::optional<DelayStats> turnaround() const;

 private:
  static constexpr int64_t kMissing = INT64_MIN;
  uint32_t run_;
  uint64_t limit_;
  size_t overhead_;
  std::vector<int64_t> delay_ns_;  // by sequence number; kMissing until it arrives
  uint64_t received_ = 0, arrivals_ = 0, duplicates_ = 0, reordered_ = 0, ignored_ = 0;
  std::optional<uint64_t> highest_;
  std::optional<TimePoint> first_, last_;
  uint64_t bytes_after_first_ = 0;
  std::vector<int64_t> turnaround_ns_;  // by sequence number; kMissing until echoed
};

// The reflecting side: echoes every probe (any run) and counts what arrived, per run.
class Reflector {
 public:
  static constexpr size_t kMaxRuns = 8;
  // Whether to send `payload` back to where it came from unchanged: a probe is (its header is
  // returned), anything else is counted in ignored() and dropped. `overhead` as for Collector
  // (frame_bytes(0, v6) of the datagram's family; a run keeps its first datagram's).
  std::optional<ProbeHeader> on_datagram(std::span<const uint8_t> payload, TimePoint at,
                                         size_t overhead);
  // How long probe `h` took from its arrival to its echo's send (the reflector's share of the
  // round trip).
  void echoed(const ProbeHeader& h, Duration turnaround);
  const Collector* run(uint32_t id) const;
  uint64_t ignored() const { return ignored_; }
  // Runs with no arrival for `idle`, removed (a reflector reports each run once it has ended).
  std::vector<std::pair<uint32_t, Collector>> take_idle(TimePoint now, Duration idle);

 private:
  std::map<uint32_t, Collector> runs_;
  uint64_t ignored_ = 0;
};

// A figure of a stream as reports show it: "loss" 1.5 "pct". key() is "loss_pct".
struct Measurement {
  std::string name;
  double value = 0;
  std::string unit;  // pct, ms, bps, count
  std::string key() const { return unit == "count" ? name : name + "_" + unit; }
};
// sent, received, lost, loss, duplicates, reordered, ignored, rtt_min … rtt_max and jitter (ms;
// absent when nothing came back), throughput (bps; `throughput` from the caller when given,
// e.g. measured one-way at the reflector). `delay` names the delay figures: "rtt" at the
// sender, "oneway" at a reflector (meaningful when both ends read the same clock).
std::vector<Measurement> measurements(const Stats& s, std::optional<double> throughput = {},
                                      std::string_view delay = "rtt");
// "1000 sent, 998 received, 2 lost (0.20%), 0 duplicates, 0 reordered; rtt min/mean/p50/p90/
// p99/max 0.051/…/0.210 ms, jitter 0.012 ms; throughput 1.94 Mbit/s"
std::string summary(const Stats& s, std::optional<double> throughput = {});

}  // namespace vnet::probe
