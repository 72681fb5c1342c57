#include "probe/stream.hh"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "base/byte_io.hh"
#include "base/parse.hh"

namespace vnet::probe {

Result<ProbeHeader> decode_probe(std::span<const uint8_t> payload) {
  if (payload.size() < kHeaderSize) {
    return make_error(EINVAL, "probe truncated: need {} bytes, have {}", kHeaderSize,
                      payload.size());
  }
  ByteReader r(payload);
  uint32_t magic = r.u32();
  if (magic != kMagic) {
    return make_error(EINVAL, "not a probe: magic {:#010x}, expected {:#010x}", magic, kMagic);
  }
  ProbeHeader h;
  h.run = r.u32();
  h.seq = uint64_t{r.u32()} << 32;
  h.seq |= r.u32();
  uint64_t t = uint64_t{r.u32()} << 32;
  t |= r.u32();
  h.sent_ns = static_cast<int64_t>(t);
  return h;
}

void encode_probe(const ProbeHeader& h, size_t payload, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  size_t begin = w.size();
  w.u32(kMagic);
  w.u32(h.run);
  w.u32(static_cast<uint32_t>(h.seq >> 32));
  w.u32(static_cast<uint32_t>(h.seq));
  auto t = static_cast<uint64_t>(h.sent_ns);
  w.u32(static_cast<uint32_t>(t >> 32));
  w.u32(static_cast<uint32_t>(t));
  size_t written = w.size() - begin;
  if (payload > written) w.zeros(payload - written);
}

Result<double> parse_packet_rate(std::string_view text) {
  auto bad = [&] {
    return make_error(EINVAL,
                      "rate {}: expected probes per second like 200/s (more than 0, up to "
                      "{:.0f}/s)",
                      text, kMaxRate);
  };
  if (text.size() < 3 || text.substr(text.size() - 2) != "/s") return bad();
  auto v = parse_real(text.substr(0, text.size() - 2), 0, kMaxRate);
  if (!v || *v <= 0) return bad();
  return *v;
}

Result<uint64_t> parse_bitrate(std::string_view text) {
  auto bad = [&] {
    return make_error(EINVAL,
                      "bitrate {}: expected a rate like 10mbit with a unit (bit, kbit, mbit, gbit, "
                      "bps, kbps, mbps, gbps), from 1bit to 100gbit",
                      text);
  };
  auto v = vnet::parse_bitrate(text, 100'000'000'000);
  if (!v) return bad();
  return *v;
}

std::string format_bitrate(double bps) {
  if (bps >= 1e9) return fmt::format("{:.3f} Gbit/s", bps / 1e9);
  if (bps >= 1e6) return fmt::format("{:.3f} Mbit/s", bps / 1e6);
  if (bps >= 1e3) return fmt::format("{:.3f} kbit/s", bps / 1e3);
  return fmt::format("{:.0f} bit/s", bps);
}

Result<StreamPlan> make_plan(const StreamOptions& o, bool v6) {
  if (o.rate && o.bitrate) return make_error(EINVAL, "rate and bitrate: give one of them");
  if (o.count && o.duration) return make_error(EINVAL, "count and duration: give one of them");
  if (o.payload < kHeaderSize || o.payload > kMaxPayload) {
    return make_error(EINVAL, "size {}: expected {} to {} bytes (the probe header is {})",
                      o.payload, kHeaderSize, kMaxPayload, kHeaderSize);
  }
  StreamPlan p;
  p.payload = o.payload;
  double period_ps = 0;
  if (o.bitrate) {
    period_ps = static_cast<double>(frame_bytes(o.payload, v6)) * 8 * 1e12 /
                static_cast<double>(*o.bitrate);
  } else {
    period_ps = 1e12 / o.rate.value_or(kDefaultRate);
  }
  if (period_ps < 1e12 / kMaxRate) {
    return make_error(EINVAL, "bitrate {} with {}-byte probes: {:.0f} probes/s, more than {:.0f}/s",
                      format_bitrate(static_cast<double>(o.bitrate.value_or(0))), o.payload,
                      1e12 / period_ps, kMaxRate);
  }
  if (period_ps > static_cast<double>(kMaxPeriodPs)) {
    return make_error(EINVAL, "{:.6g} probes/s: slower than one probe every 1000 s",
                      1e12 / period_ps);
  }
  p.period_ps = static_cast<uint64_t>(std::llround(period_ps));
  if (o.duration) {
    double n = std::ceil(std::chrono::duration<double>(*o.duration).count() * p.rate() - 1e-9);
    if (n > static_cast<double>(kMaxCount)) {
      return make_error(EINVAL, "duration {} at {:.6g}/s: {:.0f} probes, at most {} per stream",
                        format_duration(*o.duration), p.rate(), n, kMaxCount);
    }
    p.count = static_cast<uint64_t>(std::max(1.0, n));
  } else {
    p.count = o.count.value_or(kDefaultCount);
  }
  if (p.count < 1 || p.count > kMaxCount) {
    return make_error(EINVAL, "count {}: expected 1 to {} probes", p.count, kMaxCount);
  }
  return p;
}

TimePoint Sender::due(uint64_t i) const {
  // i ≤ kMaxCount and period ≤ kMaxPeriodPs: neither product overflows 64 bits.
  uint64_t ns = i * (plan_.period_ps / 1000) + i * (plan_.period_ps % 1000) / 1000;
  return start_ + Duration(static_cast<int64_t>(ns));
}

std::optional<TimePoint> Sender::next_due() const {
  if (sent_ >= plan_.count) return std::nullopt;
  return due(sent_);
}

void Sender::build_next(TimePoint now, std::vector<uint8_t>& out) {
  out.clear();
  encode_probe({run_, sent_, now.time_since_epoch().count()}, plan_.payload, out);
  ++sent_;
}

Duration percentile(std::span<const Duration> sorted, double p) {
  auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

namespace {

// min, mean, nearest-rank percentiles and max of non-empty samples (sorted in place).
DelayStats summarize(std::vector<Duration>& d) {
  std::sort(d.begin(), d.end());
  Duration sum{0};
  for (Duration x : d) sum += x;
  DelayStats ds;
  ds.min = d.front();
  ds.max = d.back();
  ds.mean = sum / static_cast<int64_t>(d.size());
  ds.p50 = percentile(d, 50);
  ds.p90 = percentile(d, 90);
  ds.p99 = percentile(d, 99);
  return ds;
}

}  // namespace

Collector::Collector(uint32_t run, uint64_t limit, size_t overhead)
    : run_(run), limit_(std::min(limit, kMaxCount)), overhead_(overhead) {}

Collector::Verdict Collector::on_datagram(std::span<const uint8_t> payload, TimePoint at) {
  auto h = decode_probe(payload);
  if (!h) {
    ++ignored_;
    return Verdict::kMalformed;
  }
  if (h->run != run_) {
    ++ignored_;
    return Verdict::kOtherRun;
  }
  if (h->seq >= limit_) {
    ++ignored_;
    return Verdict::kOutOfRange;
  }
  ++arrivals_;
  if (first_) {
    bytes_after_first_ += payload.size() + overhead_;
  } else {
    first_ = at;
  }
  last_ = at;
  if (h->seq >= delay_ns_.size()) delay_ns_.resize(h->seq + 1, kMissing);
  int64_t& slot = delay_ns_[h->seq];
  if (slot != kMissing) {
    ++duplicates_;
    return Verdict::kDuplicate;
  }
  slot = at.time_since_epoch().count() - h->sent_ns;
  ++received_;
  if (highest_ && h->seq < *highest_) ++reordered_;
  highest_ = std::max(highest_.value_or(0), h->seq);
  return Verdict::kRecorded;
}

Stats Collector::stats(uint64_t sent, const Collector* reflector) const {
  Stats s;
  s.sent = sent;
  s.duplicates = duplicates_;
  s.reordered = reordered_;
  s.ignored = ignored_;
  std::vector<Duration> d;
  double ipdv = 0;
  std::optional<int64_t> previous;
  size_t end = std::min<size_t>(delay_ns_.size(), sent);
  for (size_t i = 0; i < end; ++i) {
    if (delay_ns_[i] == kMissing) continue;
    int64_t v = delay_ns_[i];
    if (reflector && i < reflector->turnaround_ns_.size() &&
        reflector->turnaround_ns_[i] != kMissing) {
      v -= reflector->turnaround_ns_[i];
    }
    d.emplace_back(v);
    if (previous) ipdv += std::abs(static_cast<double>(v - *previous));
    previous = v;
  }
  s.received = d.size();
  s.lost = sent - s.received;
  s.loss_pct = sent == 0 ? 0 : 100.0 * static_cast<double>(s.lost) / static_cast<double>(sent);
  if (!d.empty()) {
    if (d.size() > 1) s.jitter = Duration(std::llround(ipdv / static_cast<double>(d.size() - 1)));
    s.delay = summarize(d);
  }
  if (first_ && last_ && *last_ > *first_) {
    s.throughput_bps = static_cast<double>(bytes_after_first_) * 8 /
                       std::chrono::duration<double>(*last_ - *first_).count();
  }
  return s;
}

void Collector::add_turnaround(uint64_t seq, Duration d) {
  if (seq >= limit_) return;
  if (seq >= turnaround_ns_.size()) turnaround_ns_.resize(seq + 1, kMissing);
  if (turnaround_ns_[seq] == kMissing) turnaround_ns_[seq] = d.count();
}

std::optional<DelayStats> Collector::turnaround() const {
  std::vector<Duration> d;
  for (int64_t t : turnaround_ns_) {
    if (t != kMissing) d.emplace_back(t);
  }
  if (d.empty()) return std::nullopt;
  return summarize(d);
}

std::optional<ProbeHeader> Reflector::on_datagram(std::span<const uint8_t> payload, TimePoint at,
                                                  size_t overhead) {
  auto h = decode_probe(payload);
  if (!h) {
    ++ignored_;
    return std::nullopt;
  }
  auto it = runs_.find(h->run);
  if (it == runs_.end()) {
    if (runs_.size() >= kMaxRuns) {
      // Forget the run heard from least recently.
      auto oldest = std::min_element(runs_.begin(), runs_.end(), [](auto& a, auto& b) {
        return a.second.last_arrival() < b.second.last_arrival();
      });
      runs_.erase(oldest);
    }
    it = runs_.emplace(h->run, Collector(h->run, kMaxCount, overhead)).first;
  }
  if (it->second.on_datagram(payload, at) == Collector::Verdict::kOutOfRange) return std::nullopt;
  return *h;
}

void Reflector::echoed(const ProbeHeader& h, Duration turnaround) {
  auto it = runs_.find(h.run);
  if (it != runs_.end()) it->second.add_turnaround(h.seq, turnaround);
}

const Collector* Reflector::run(uint32_t id) const {
  auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : &it->second;
}

std::vector<std::pair<uint32_t, Collector>> Reflector::take_idle(TimePoint now, Duration idle) {
  std::vector<std::pair<uint32_t, Collector>> out;
  for (auto it = runs_.begin(); it != runs_.end();) {
    auto last = it->second.last_arrival();
    if (last && now - *last >= idle) {
      out.emplace_back(it->first, std::move(it->second));
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

namespace {
double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
}  // namespace

std::vector<Measurement> measurements(const Stats& s, std::optional<double> throughput,
                                      std::string_view delay) {
  auto count = [](uint64_t v) { return static_cast<double>(v); };
  std::vector<Measurement> m = {
      {"sent", count(s.sent), "count"},
      {"received", count(s.received), "count"},
      {"lost", count(s.lost), "count"},
      {"loss", s.loss_pct, "pct"},
      {"duplicates", count(s.duplicates), "count"},
      {"reordered", count(s.reordered), "count"},
      {"ignored", count(s.ignored), "count"},
  };
  if (s.delay) {
    const DelayStats& d = *s.delay;
    const std::pair<const char*, Duration> figures[] = {{"min", d.min}, {"mean", d.mean},
                                                        {"p50", d.p50}, {"p90", d.p90},
                                                        {"p99", d.p99}, {"max", d.max}};
    for (auto& f : figures) m.push_back({fmt::format("{}_{}", delay, f.first), ms(f.second), "ms"});
    m.push_back({"jitter", ms(s.jitter), "ms"});
  }
  m.push_back({"throughput", throughput.value_or(s.throughput_bps), "bps"});
  return m;
}

std::string summary(const Stats& s, std::optional<double> throughput) {
  std::string out =
      fmt::format("{} sent, {} received, {} lost ({:.2f}%), {} duplicates, {} reordered", s.sent,
                  s.received, s.lost, s.loss_pct, s.duplicates, s.reordered);
  if (s.ignored > 0) out += fmt::format(", {} ignored", s.ignored);
  if (s.delay) {
    const DelayStats& d = *s.delay;
    out += fmt::format(
        "; rtt min/mean/p50/p90/p99/max {:.3f}/{:.3f}/{:.3f}/{:.3f}/{:.3f}/{:.3f} ms, "
        "jitter {:.3f} ms",
        ms(d.min), ms(d.mean), ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max), ms(s.jitter));
  }
  out += "; throughput " + format_bitrate(throughput.value_or(s.throughput_bps));
  return out;
}

}  // namespace vnet::probe
