// Steps `stream` and `converge`: how long a switched path is down after a fault, and whether
// frames were delivered twice while the network reconverged.
//   stream: FROM TO          starts a stream of layer-2 probe frames (ProbeStream in
//                            lab/probe.hh: EtherType 0x88B5, one every 1 ms, each with a
//                            sequence number and its send time) from FROM's interface to TO's
//                            interface MAC; FROM and TO are NODE or NODE:IFACE (default: the
//                            node's first interface)
//   converge: FROM TO < D    after the last fault (kill, stop, link down) the stream flows
//                            again: waits for a probe sent after the fault to arrive, watches
//                            200 ms more, stops the stream and passes when the outage (the
//                            longest run of lost probes that ended after the fault, by the send
//                            times of its first lost probe and of the first probe through again)
//                            was shorter than D, the stream flowed at the end, and no probe
//                            arrived twice (a frame delivered twice means a transient loop).
// The detail line reports outage, lost, duplicated and out-of-order counts.

#include "lab/probe.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

using std::chrono::milliseconds;

constexpr std::chrono::microseconds kInterval{1000};
constexpr std::chrono::seconds kLimit{600};  // a stream nobody ends stops sending by itself
constexpr milliseconds kWatchAfter{200};     // after the first probe through: late copies, relapse
constexpr milliseconds kDrain{50};           // probes in flight when the sender stops

struct StreamEnd {
  std::string node, iface;
};

// NODE or NODE:IFACE of a node that runs probes; the interface defaults to its first.
std::optional<StreamEnd> parse_end(const std::string& word, const std::string& step,
                                   const YAML::Node& v, Reader& r) {
  StreamEnd e{word, ""};
  if (auto colon = word.find(':'); colon != std::string::npos) {
    e.node = word.substr(0, colon);
    e.iface = word.substr(colon + 1);
  }
  if (!check_prober(e.node, v, r)) return std::nullopt;
  const Node& n = *r.topo().node(e.node);
  if (n.interfaces.empty()) {
    r.error(v, fmt::format("{}: {} has no interfaces", step, e.node));
    return std::nullopt;
  }
  if (e.iface.empty()) e.iface = n.interfaces.front().name;
  if (!n.interface(e.iface)) {
    r.error(v, fmt::format("{}: {} has no interface '{}'", step, e.node, e.iface));
    return std::nullopt;
  }
  return e;
}

struct StreamSpec final : StepSpec {
  StreamEnd from, to;
  std::string key() const { return from.node + ":" + from.iface + " " + to.node + ":" + to.iface; }
};

struct ConvergeSpec final : StepSpec {
  StreamSpec stream;
  Duration within{};
};

// "FROM TO" into `spec`; false after recording diagnostics.
bool parse_pair(const std::vector<std::string>& w, const std::string& step, const YAML::Node& v,
                Reader& r, StreamSpec& spec) {
  auto from = parse_end(w[0], step, v, r);
  auto to = parse_end(w[1], step, v, r);
  if (!from || !to) return false;
  if (from->node == to->node) {
    r.error(v, fmt::format("{}: FROM and TO are the same node ({})", step, from->node));
    return false;
  }
  spec.from = *from;
  spec.to = *to;
  return true;
}

class StreamStep final : public StepKind {
 public:
  std::string_view name() const override { return "stream"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+$", "FROM TO"),
            "starts a stream of layer-2 probe frames (EtherType 0x88B5, one every 1 ms, each "
            "with a sequence number) from FROM to TO (NODE[:IFACE]); a later converge step "
            "stops and judges it"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "stream");
    if (!s) return nullptr;
    text = "stream " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 2) {
      r.error(v, "stream: expected 'FROM TO' (NODE[:IFACE] each, e.g. 'h1 h3')");
      return nullptr;
    }
    auto spec = std::make_shared<StreamSpec>();
    if (!parse_pair(w, "stream", v, r, *spec)) return nullptr;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<StreamSpec>();
    for (auto* n : {&s.from.node, &s.to.node}) {
      if (auto off = refuse_if_off(*n, ctx)) return *off;
    }
    const Topology& t = ctx.topo();
    auto end = [&](const StreamEnd& e) -> Result<ProbeStream::End> {
      const Node& n = *t.node(e.node);
      auto mac = n.macs.find(e.iface);
      if (mac == n.macs.end()) return make_error(ENOENT, "{}:{} has no MAC", e.node, e.iface);
      return ProbeStream::End{t.netns(e.node), e.iface, mac->second};
    };
    auto from = end(s.from), to = end(s.to);
    if (!from) return {false, from.error().message};
    if (!to) return {false, to.error().message};
    auto& streams = ctx.streams();
    streams.erase(s.key());  // a restarted stream replaces the old one
    auto p = ProbeStream::start(*from, *to, kInterval, kLimit);
    if (!p) return {false, p.error().message};
    streams[s.key()] = {std::move(*p), ScenarioContext::Clock::now()};
    return {true,
            fmt::format("{}:{} → {}:{} ({}), one probe every {} µs", s.from.node, s.from.iface,
                        s.to.node, s.to.iface, to->mac.to_string(), kInterval.count())};
  }
};

class ConvergeStep final : public StepKind {
 public:
  std::string_view name() const override { return "converge"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+\\s+<\\s+\\S+$", "FROM TO < DURATION"),
            "stops the stream FROM TO (started by a stream step before the fault) and checks it: "
            "after the last fault, the longest run of lost probes lasted less than DURATION, the "
            "stream flows again, and no probe arrived twice"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "converge");
    if (!s) return nullptr;
    text = "converge " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 4 || w[2] != "<") {
      r.error(v, "converge: expected 'FROM TO < DURATION' (e.g. 'h1 h3 < 1s')");
      return nullptr;
    }
    auto spec = std::make_shared<ConvergeSpec>();
    bool ok = parse_pair(w, "converge", v, r, spec->stream);
    auto d = parse_duration(w[3], milliseconds(1), std::chrono::seconds(600));
    if (!d) {
      r.error(v, "converge duration " + d.error().message);
      ok = false;
    }
    if (!ok) return nullptr;
    spec->within = *d;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<ConvergeSpec>();
    std::string name = fmt::format("{} → {}", s.stream.from.node, s.stream.to.node);
    auto it = ctx.streams().find(s.stream.key());
    if (it == ctx.streams().end()) {
      return {false, fmt::format("no stream {} is running: start one with 'stream: {} {}' "
                                 "before the fault",
                                 name, s.stream.from.node, s.stream.to.node)};
    }
    ScenarioContext::Stream stream = std::move(it->second);
    ctx.streams().erase(it);
    auto fault = ctx.fault_time();
    if (!fault || *fault < stream.started) {
      return {false, fmt::format(
                         "no kill, stop, link down or link silent step ran while the stream {} ran",
                         name)};
    }
    auto limit = std::chrono::duration_cast<milliseconds>(s.within);
    auto waited = std::chrono::duration_cast<milliseconds>(ScenarioContext::Clock::now() - *fault);
    // Even past the bound, the stream gets a moment to show whether it flows (for the report).
    // Flowing again means a probe sent once the fault had taken effect arrived (one sent while
    // the step was still applying it may have crossed the old path).
    auto through =
        stream.stream->flowing_after(ctx.fault_applied_time().value_or(*fault),
                                     std::max(limit - waited + milliseconds(500), kWatchAfter));
    if (through) {
      std::this_thread::sleep_until(*through + kWatchAfter);
    }
    auto rec = stream.stream->stop(kDrain);
    StreamStats x = analyze_stream(rec.sent_ns, rec.arrivals, ProbeStream::ns(*fault));
    std::vector<std::string> why;
    if (!x.recovered) why.push_back("not flowing again at the end");
    if (x.outage >= s.within)
      why.push_back(fmt::format("outage not below {}", format_duration(s.within)));
    if (x.duplicated > 0) why.push_back("probes delivered twice (a loop)");
    auto ms = [](std::chrono::nanoseconds d) {
      return std::chrono::duration<double, std::milli>(d).count();
    };
    std::string detail = fmt::format(
        "{}: outage {:.1f} ms ({} lost in a row), {} lost, {} duplicated, {} out of order of {} "
        "sent; max latency {:.1f} ms",
        name, ms(x.outage), x.outage_lost, x.lost, x.duplicated, x.out_of_order, x.sent,
        ms(x.max_latency));
    if (!why.empty()) detail += fmt::format(" — {}", fmt::join(why, "; "));
    return {why.empty(), detail};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_stream_step() { return std::make_unique<StreamStep>(); }
std::unique_ptr<StepKind> make_converge_step() { return std::make_unique<ConvergeStep>(); }

}  // namespace vnet::lab
