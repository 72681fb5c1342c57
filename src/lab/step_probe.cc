// Step `probe`: a paced UDP stream from one node to another and back (probe/stream.hh), with
// expectations on what it measured.
//   probe: FROM TO        FROM sends, a reflector in TO's namespace echoes every probe back
//   rate: 200/s           or bitrate: 10mbit (frames: payload + UDP + IP + Ethernet headers)
//   size: 200             UDP payload bytes (24–65507, default 100)
//   count: 1000           or duration: 5s (default 100 probes)
//   wait: 1s              for the last replies after the last send (default 1 s)
//   expect: [loss 10% ± 3%, rtt p50 40ms ± 2ms, rtt p99 < 45ms, jitter < 5ms,
//            throughput 9.5mbit ± 5%]          (probe/expect.hh)
// The step passes when every expectation holds (with none, when the stream ran). Loss, RTT and
// jitter come from the replies at FROM; throughput from the probes' arrivals at TO (one way).
// The detail gives every figure and each expectation's verdict; the figures also go to the
// report and to JUnit as properties (probe.loss_pct, probe.rtt_p50_ms, probe.throughput_bps, …).
// In a lab both ends read the same clock, so the probes' one-way delay FROM → TO is measured too
// (probe.oneway_mean_ms, probe.oneway_p50_ms, probe.oneway_p99_ms), and the reflector's
// turnaround, arrival to echo (probe.turnaround_mean_ms, probe.turnaround_p99_ms). Each probe's
// RTT is its round trip less the reflector's turnaround for it (TWAMP's way, RFC 5357 §4.2):
// the path's time, without how soon the reflecting thread got a CPU.
// Both sockets are created inside their nodes' namespaces and driven from this process: the
// reflector on a thread of its own, the sender on the runner's thread. TO's address is its
// first IPv4 address (its first IPv6 address when it has none); the reflector's port is one the
// kernel picks.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>
#include <thread>

#include "lab/netns.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"
#include "probe/expect.hh"
#include "probe/udp.hh"

namespace vnet::lab {
namespace {

struct ProbeSpec final : StepSpec {
  std::string from, to;
  probe::StreamOptions options;
  Duration wait{std::chrono::seconds(1)};
  std::vector<probe::Expectation> expect;
};

// A UDP socket of `family` made inside `netns` (non-blocking, kernel receive timestamps).
Result<UniqueFd> udp_socket_in(const std::string& netns, int family) {
  UniqueFd fd;
  Status s = in_netns(netns, [&]() -> Status {
    fd.reset(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return system_error("UDP socket in " + netns);
    return probe::enable_timestamps(fd.get());
  });
  if (!s) return s.error();
  return fd;
}

// The stream from `from` to `address` in `to`'s namespace; replies and the reflector's count.
struct Run {
  probe::Stats stats;
  std::optional<probe::Stats> one_way;
  std::optional<probe::DelayStats> turnaround;
};

Result<Run> run_stream(const std::string& from_ns, const std::string& to_ns,
                       const std::string& address, const probe::StreamPlan& plan, Duration wait) {
  bool v6 = address.find(':') != std::string::npos;
  int family = v6 ? AF_INET6 : AF_INET;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    len = sizeof *a;
  }
  auto rfd = udp_socket_in(to_ns, family);
  if (!rfd) return rfd.error();
  if (::bind(rfd->get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return system_error("bind the reflector in " + to_ns);
  if (::getsockname(rfd->get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return system_error("getsockname");
  int ok =
      v6 ? inet_pton(AF_INET6, address.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr)
         : inet_pton(AF_INET, address.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr);
  if (ok != 1) return make_error(EINVAL, "bad address '{}'", address);
  auto sfd = udp_socket_in(from_ns, family);
  if (!sfd) return sfd.error();
  if (::connect(sfd->get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return system_error("connect to " + address + " from " + from_ns);

  const size_t overhead = probe::frame_bytes(0, v6);
  uint32_t run = std::random_device{}();
  probe::Reflector reflector;
  std::atomic<bool> stop_reflector{false}, stop_sender{false};
  Status reflected;
  std::thread t([&] { reflected = probe::run_reflector(rfd->get(), reflector, stop_reflector); });
  SystemClock clock;
  probe::Sender sender(run, plan, clock.now());
  probe::Collector replies(run, plan.count, overhead);
  Status sent = probe::run_sender(sfd->get(), sender, replies, wait, stop_sender);
  stop_reflector = true;
  t.join();
  if (!sent) return sent.error();
  if (!reflected) return reflected.error();
  Run r;
  const probe::Collector* at_to = reflector.run(run);
  r.stats = replies.stats(sender.sent(), at_to);
  if (at_to) {
    r.one_way = at_to->stats(sender.sent());
    r.turnaround = at_to->turnaround();
  }
  return r;
}

class ProbeStep final : public StepKind {
 public:
  std::string_view name() const override { return "probe"; }
  bool pollable() const override { return false; }  // a measurement, not a condition
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+$", "FROM TO"),
            "a paced UDP stream from node FROM to a reflector in node TO and back; measures loss, "
            "RTT percentiles, jitter and throughput (docs/probe.md)"};
  }
  std::vector<KeySpec> options() const override {
    return {
        {"rate", schema::pattern("^[0-9.]+/s$", "N/s"),
         "probes per second (default 100/s; or bitrate)"},
        {"bitrate", schema::pattern("^[0-9.]+(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$", "RATE"),
         "pace to this rate of Ethernet frames (payload + UDP, IP and Ethernet headers), e.g. "
         "10mbit"},
        {"size", schema::integer(probe::kHeaderSize, probe::kMaxPayload),
         "UDP payload bytes (default 100)"},
        {"count", schema::integer(1, probe::kMaxCount),
         "probes to send (default 100; or duration)"},
        {"duration", schema::ref("duration"), "send for this long at the rate (or count)"},
        {"wait", schema::ref("duration"),
         "how long replies may come after the last send (default 1s)"},
        {"expect", schema::one_or_list(schema::string("METRIC VALUE ± TOL | METRIC < VALUE")),
         "loss 10% ± 3%, rtt p50 40ms ± 2ms, rtt p99 < 45ms, jitter < 5ms, throughput 9.5mbit "
         "± 5%, duplicates 0, reordered 0 (docs/probe.md)"},
    };
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "probe");
    if (!s) return nullptr;
    text = "probe " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 2) {
      r.error(v, "probe: expected 'FROM TO' (two nodes, e.g. 'pc1 pc2')");
      return nullptr;
    }
    auto spec = std::make_shared<ProbeSpec>();
    spec->from = w[0];
    spec->to = w[1];
    bool ok = check_prober(w[0], v, r);
    ok &= check_prober(w[1], v, r);
    if (ok && w[0] == w[1]) {
      r.error(v, fmt::format("probe: FROM and TO are the same node ({})", w[0]));
      ok = false;
    }
    if (ok && !r.topo().address_of(w[1], false) && !r.topo().address_of(w[1], true)) {
      r.error(v, fmt::format("probe: {} has no IP address to send to", w[1]));
      ok = false;
    }
    auto text_of = [&](const char* key) -> std::optional<std::string> {
      if (!step[key]) return std::nullopt;
      auto t = r.str(step[key], key);
      if (!t) ok = false;
      return t;
    };
    probe::StreamOptions& o = spec->options;
    if (auto t = text_of("rate")) {
      auto rate = probe::parse_packet_rate(*t);
      if (rate) {
        o.rate = *rate;
      } else {
        r.error(step["rate"], "probe " + rate.error().message);
        ok = false;
      }
    }
    if (auto t = text_of("bitrate")) {
      auto b = probe::parse_bitrate(*t);
      if (b) {
        o.bitrate = *b;
      } else {
        r.error(step["bitrate"], "probe " + b.error().message);
        ok = false;
      }
    }
    if (step["size"]) {
      auto n = r.integer(step["size"], "size", probe::kHeaderSize, probe::kMaxPayload);
      ok &= n.has_value();
      if (n) o.payload = static_cast<size_t>(*n);
    }
    if (step["count"]) {
      auto n = r.integer(step["count"], "count", 1, probe::kMaxCount);
      ok &= n.has_value();
      if (n) o.count = static_cast<uint64_t>(*n);
    }
    if (step["duration"]) {
      auto d = r.duration(step["duration"], "duration", std::chrono::milliseconds(1),
                          std::chrono::hours(1));
      ok &= d.has_value();
      o.duration = d;
    }
    if (step["wait"]) {
      auto d = r.duration(step["wait"], "wait", Duration{0}, std::chrono::seconds(60));
      ok &= d.has_value();
      if (d) spec->wait = *d;
    }
    if (ok) {
      bool v6 = !r.topo().address_of(w[1], false);
      auto plan = probe::make_plan(o, v6);
      if (!plan) {
        r.error(v, "probe: " + plan.error().message);
        ok = false;
      }
    }
    if (const YAML::Node& e = step["expect"]) {
      std::vector<YAML::Node> items = e.IsSequence() ? r.list(e, "expect") : std::vector{e};
      for (const YAML::Node& item : items) {
        auto t = r.str(item, "expect");
        if (!t) {
          ok = false;
          continue;
        }
        auto x = probe::parse_expectation(*t);
        if (!x) {
          r.error(item, "probe expect " + x.error().message);
          ok = false;
          continue;
        }
        text += (spec->expect.empty() ? " expect " : ", ") + *t;
        spec->expect.push_back(*x);
      }
    }
    if (!ok) return nullptr;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<ProbeSpec>();
    for (auto* n : {&s.from, &s.to}) {
      if (auto off = refuse_if_off(*n, ctx)) return *off;
    }
    const Topology& t = ctx.topo();
    std::string address = t.address_of(s.to, false).value_or(t.address_of(s.to, true).value_or(""));
    auto plan = probe::make_plan(s.options, address.find(':') != std::string::npos);
    if (!plan) return {false, plan.error().message};
    auto r = run_stream(t.netns(s.from), t.netns(s.to), address, *plan, s.wait);
    if (!r) return {false, r.error().message};
    std::optional<double> throughput;
    if (r->one_way) throughput = r->one_way->throughput_bps;
    Outcome o;
    o.passed = true;
    o.detail = fmt::format("{} → {} ({}), {:.6g}/s of {} bytes: {}", s.from, s.to, address,
                           plan->rate(), plan->payload, probe::summary(r->stats, throughput));
    if (r->one_way) {
      o.detail += fmt::format(" (one way at {}: {} of {} arrived)", s.to, r->one_way->received,
                              r->one_way->sent);
    }
    for (const probe::Expectation& e : s.expect) {
      probe::Verdict v = probe::check(e, r->stats, throughput);
      o.passed &= v.passed;
      o.detail += " — " + v.detail;
    }
    for (const probe::Measurement& m : probe::measurements(r->stats, throughput))
      o.measurements.push_back({"probe." + m.key(), m.value, m.unit});
    // One way FROM → TO: both ends read the same CLOCK_MONOTONIC, so the delay is the path's.
    if (r->one_way && r->one_way->delay) {
      auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
      const probe::DelayStats& d = *r->one_way->delay;
      o.measurements.push_back({"probe.oneway_received", double(r->one_way->received), "count"});
      o.measurements.push_back({"probe.oneway_mean_ms", ms(d.mean), "ms"});
      o.measurements.push_back({"probe.oneway_p50_ms", ms(d.p50), "ms"});
      o.measurements.push_back({"probe.oneway_p99_ms", ms(d.p99), "ms"});
    }
    // The reflector's share of each round trip: from the probe's arrival to its echo's send.
    if (r->turnaround) {
      auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
      o.measurements.push_back({"probe.turnaround_mean_ms", ms(r->turnaround->mean), "ms"});
      o.measurements.push_back({"probe.turnaround_p99_ms", ms(r->turnaround->p99), "ms"});
    }
    return o;
  }
};

}  // namespace

std::unique_ptr<StepKind> make_probe_step() { return std::make_unique<ProbeStep>(); }

}  // namespace vnet::lab
