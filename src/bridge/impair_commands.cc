// Console commands of link impairment (bridge/impair_stage.hh), on the session's bridge:
//   impair/set PORT in|out|both KEY VALUE…  impair one direction of port PORT's link, or both:
//                                 the words of impair/settings.hh, parsed on top of the
//                                 direction's current settings; every word of the command is
//                                 checked (for both directions) before anything is applied
//   impair/show [PORT]            settings and counters of the impaired directions (text, --json)
//   impair/clear PORT [in|out|both]  removes the impairment (default both); the frames it held
//                                 leave at once, in their order (nothing sent is lost by a clear)
//   impair/seed [N]               the dataplane's impairment seed (for impairments set later)
//
// Directions: `out` is what leaves the switch on PORT (its egress chain); `in` is what the switch
// receives on PORT: the port's ingress chain when a backend is attached (before the bridge sees
// the frames), and on an in-process cable the peer port's `out`, the same direction of the same
// wire (shown on both ports).
#include <fmt/format.h>

#include "base/parse.hh"
#include "bridge/commands.hh"
#include "bridge/impair_stage.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

// The default makes runs reproducible; impair/seed changes it.
constexpr int64_t kDefaultSeed = 0x1a2b3c4d;

enum class Dir : uint8_t { kOut, kIn };
std::string_view dir_name(Dir d) { return d == Dir::kOut ? "out" : "in"; }

Result<std::vector<Dir>> parse_dirs(const std::string& word) {
  if (word == "out") return std::vector<Dir>{Dir::kOut};
  if (word == "in") return std::vector<Dir>{Dir::kIn};
  if (word == "both") return std::vector<Dir>{Dir::kOut, Dir::kIn};
  return make_error(EINVAL, "direction '{}': expected in, out or both", word);
}

// The chain that impairs one direction of a port's link.
struct Target {
  Bridge* bridge = nullptr;
  PortNo port = 0;
  bool ingress = false;
  std::string via;  // "BRIDGE:PORT out" when `in` on a cable is the peer's egress
};

class Impair {
 public:
  Impair(Dataplane& dp, const Clock& clock) : dp_(dp), clock_(clock) {}

  Target target(Bridge& br, PortNo port, Dir d) {
    if (d == Dir::kOut) return Target{&br, port, false, ""};
    auto peer = dp_.cable_peer(br, port);
    if (!peer) return Target{&br, port, true, ""};
    return Target{peer->first, peer->second, false,
                  fmt::format("{}:{} out", peer->first->name(), peer->second)};
  }

  EgressChain* chain(const Target& t) {
    return t.ingress ? dp_.ingress_chain(*t.bridge, t.port) : dp_.egress_chain(*t.bridge, t.port);
  }

  ImpairStage* stage(const Target& t) {
    EgressChain* c = chain(t);
    return c ? dynamic_cast<ImpairStage*>(c->find(ImpairStage::kName)) : nullptr;
  }

  Result<Reply> set(Bridge& br, PortNo port, const std::vector<Dir>& dirs,
                    std::span<const std::string_view> words) {
    struct Change {
      Target t;
      impair::Settings settings;
    };
    std::vector<Change> changes;
    for (Dir d : dirs) {  // everything checked first: one bad word changes nothing
      Target t = target(br, port, d);
      ImpairStage* s = stage(t);
      auto parsed = impair::parse_settings(words, s ? s->settings() : impair::Settings{});
      if (!parsed) {
        return make_error(EINVAL, "port {} {}: {}", port, dir_name(d), parsed.error().message);
      }
      changes.push_back(Change{std::move(t), *parsed});
    }
    const TimePoint now = clock_.now();
    for (auto& c : changes) {
      if (ImpairStage* s = stage(c.t)) {
        s->apply(c.settings, now);
        continue;
      }
      auto st = std::make_unique<ImpairStage>(*c.t.bridge, c.t.port,
                                              impair_link_seed(seed_, c.t.bridge->name(), c.t.port),
                                              c.t.ingress ? "in" : "out", c.settings, now);
      auto added = c.t.ingress ? dp_.add_ingress_stage(*c.t.bridge, c.t.port, std::move(st))
                               : dp_.add_egress_stage(*c.t.bridge, c.t.port, std::move(st));
      if (!added) return added.error();
    }
    return Reply{};
  }

  Result<Reply> clear(Bridge& br, PortNo port, const std::vector<Dir>& dirs) {
    Reply r;
    r.json = json::array();
    for (Dir d : dirs) {
      Target t = target(br, port, d);
      ImpairStage* s = stage(t);
      if (!s) continue;
      const size_t held = s->held();
      auto removed = t.ingress ? dp_.remove_ingress_stage(*t.bridge, t.port, ImpairStage::kName,
                                                          HeldFrames::kRelease)
                               : dp_.remove_egress_stage(*t.bridge, t.port, ImpairStage::kName,
                                                         HeldFrames::kRelease);
      if (!removed) return removed.error();
      r.text +=
          fmt::format("port {} {}: cleared, {} held frames sent on\n", port, dir_name(d), held);
      r.json.push_back({{"port", port}, {"direction", dir_name(d)}, {"released", held}});
    }
    return r;
  }

  Result<Reply> show(Bridge& br, const std::vector<PortNo>& ports) {
    Reply r;
    r.json = json::array();
    for (PortNo p : ports) {
      for (Dir d : {Dir::kOut, Dir::kIn}) {
        Target t = target(br, p, d);
        ImpairStage* s = stage(t);
        if (!s) continue;
        show_one(r, p, d, t, *s, dp_.loop());
      }
    }
    if (r.json.empty()) r.text = fmt::format("bridge {}: no impaired port\n", br.name());
    return r;
  }

  int64_t seed_ = kDefaultSeed;

 private:
  static void show_one(Reply& r, PortNo p, Dir d, const Target& t, const ImpairStage& s,
                       const EventLoop& loop) {
    const impair::Counters& c = s.counters();
    std::string settings = impair::format_settings(s.settings());
    json dropped = json::object();
    std::string drops;
    for (size_t i = 1; i < c.dropped.size(); ++i) {
      const auto cause = static_cast<impair::Cause>(i);
      dropped[std::string(impair::cause_name(cause))] = c.dropped[i];
      if (c.dropped[i]) drops += fmt::format(" {} {}", impair::cause_name(cause), c.dropped[i]);
    }
    const Lateness& l = s.lateness();
    json buckets = json::object();
    for (size_t i = 0; i < l.buckets.size(); ++i) {
      std::string key = i < Lateness::kBoundsUs.size()
                            ? fmt::format("under_{}us", Lateness::kBoundsUs[i])
                            : fmt::format("over_{}us", Lateness::kBoundsUs.back());
      buckets[key] = l.buckets[i];
    }
    const double mean_us = l.count ? static_cast<double>(l.sum_ns) / l.count / 1000 : 0;
    const uint64_t over_200us = l.at_least(200);
    r.json.push_back({{"port", p},
                      {"direction", dir_name(d)},
                      {"via", t.via.empty() ? json(nullptr) : json(t.via)},
                      {"settings", settings},
                      {"offered", c.offered},
                      {"released", c.released},
                      {"dropped", dropped},
                      {"delayed", c.delayed},
                      {"duplicated", c.duplicated},
                      {"corrupted", c.corrupted},
                      {"bits_flipped", c.bits_flipped},
                      {"flips_capped", c.flips_capped},
                      {"reordered", c.reordered},
                      {"queue",
                       {{"packets", c.held_packets},
                        {"bytes", c.held_bytes},
                        {"peak_packets", c.peak_packets},
                        {"peak_bytes", c.peak_bytes}}},
                      {"late",
                       {{"released", l.count},
                        {"mean_us", mean_us},
                        {"max_us", static_cast<double>(l.max_ns) / 1000},
                        {"buckets", buckets}}},
                      // The switch's wake-up lead (vnet switch --wake-lead), which bounds how
                      // late timed releases leave.
                      {"wake_lead", wake_lead_json(loop)}});
    r.text +=
        fmt::format("port {} {}{}: {}\n", p, dir_name(d), t.via.empty() ? "" : " (= " + t.via + ")",
                    settings.empty() ? "(defaults: nothing impaired)" : settings);
    r.text += fmt::format(
        "  offered {} released {} delayed {} duplicated {} corrupted {} (bits {}) reordered {}\n",
        c.offered, c.released, c.delayed, c.duplicated, c.corrupted, c.bits_flipped, c.reordered);
    r.text += fmt::format("  dropped{}\n", drops.empty() ? " none" : drops);
    r.text += fmt::format("  queue {} frames {} bytes (peak {} frames {} bytes)\n", c.held_packets,
                          c.held_bytes, c.peak_packets, c.peak_bytes);
    if (l.count) {
      r.text += fmt::format(
          "  late: {} held copies left mean {:.1f} µs, max {:.1f} µs after their time, {} over "
          "200 µs\n  {}\n",
          l.count, mean_us, static_cast<double>(l.max_ns) / 1000, over_200us, wake_lead_text(loop));
    }
  }

  Dataplane& dp_;
  const Clock& clock_;
};

}  // namespace

json wake_lead_json(const EventLoop& loop) {
  const WakeLead& w = loop.wake_lead();
  const EventLoop::PollStalls& st = loop.poll_stalls();
  return {{"us", static_cast<double>(w.lead().count()) / 1000},
          {"automatic", w.is_automatic()},
          {"wake_ups", w.observed()},
          {"stalls", st.count},
          {"longest_stall_us", static_cast<double>(st.longest.count()) / 1000}};
}

std::string wake_lead_text(const EventLoop& loop) {
  const WakeLead& w = loop.wake_lead();
  const EventLoop::PollStalls& st = loop.poll_stalls();
  return fmt::format(
      "wake lead {:.0f} µs{}; {} stalls over {} µs while polling (longest {:.0f} µs)",
      static_cast<double>(w.lead().count()) / 1000,
      w.is_automatic() ? fmt::format(" (auto, from {} wake-ups)", w.observed()) : "", st.count,
      EventLoop::kStall.count() / 1000, static_cast<double>(st.longest.count()) / 1000);
}

void register_impair_commands(console::Registry& reg, Dataplane& dp, const Clock& clock) {
  auto im = std::make_shared<Impair>(dp, clock);
  auto on_bridge = [&dp](auto fn) {
    return [&dp, fn](Session& s, const Args& a) -> Result<Reply> {
      auto b = session_bridge(dp, s);
      if (!b) return b.error();
      return fn(**b, a);
    };
  };
  reg.add("impair/set", "PORT in|out|both KEY VALUE...",
          "impair port PORT's link: loss, delay, jitter, rate, limit, duplicate, corrupt, noise, "
          "reorder, mtu, drop-every, carrier, flap, clear (docs/impairment.md)",
          on_bridge([im](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() < 3)
              return make_error(EINVAL, "usage: impair/set PORT in|out|both KEY VALUE...");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            auto dirs = parse_dirs(a[1]);
            if (!dirs) return dirs.error();
            std::vector<std::string_view> words(a.begin() + 2, a.end());
            return im->set(b, *p, *dirs, words);
          }));
  reg.add("impair/show", "[PORT]", "impairment settings and counters of the bridge's ports",
          on_bridge([im](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() > 1) return make_error(EINVAL, "usage: impair/show [PORT]");
            std::vector<PortNo> ports;
            if (a.empty()) {
              ports = b.port_numbers();
            } else {
              auto p = existing_port(b, a[0]);
              if (!p) return p.error();
              ports.push_back(*p);
            }
            return im->show(b, ports);
          }));
  reg.add("impair/clear", "PORT [in|out|both]",
          "remove port PORT's impairment (default both); held frames are sent on at once",
          on_bridge([im](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.empty() || a.size() > 2)
              return make_error(EINVAL, "usage: impair/clear PORT [in|out|both]");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            auto dirs = parse_dirs(a.size() == 2 ? a[1] : "both");
            if (!dirs) return dirs.error();
            return im->clear(b, *p, *dirs);
          }));
  reg.add("impair/seed", "[N]",
          "the impairment seed (0 to 2^63-1) of links impaired from now on; shown without N",
          [im](Session&, const Args& a) -> Result<Reply> {
            if (a.size() > 1) return make_error(EINVAL, "usage: impair/seed [N]");
            if (a.size() == 1) {
              auto n = parse_int(a[0], 0, INT64_MAX);
              if (!n) return make_error(EINVAL, "seed: {}", n.error().message);
              im->seed_ = *n;
              return Reply{};
            }
            return Reply{fmt::format("{}\n", im->seed_), json{{"seed", im->seed_}}};
          });
}

}  // namespace vnet::bridge
