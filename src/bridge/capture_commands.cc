// Console commands of packet capture (capture/capture.hh, Dataplane::start_capture):
//   capture/start PORT[,PORT…] [pre|post] [in|out|both] [snaplen N] [buffer BYTES] [filter BPF…]
//       turns this console connection into the capture's pcapng stream: after "1000 Success"
//       the connection carries pcapng bytes only, until the capture is stopped (capture/stop from
//       another connection, or this client shutting down its sending side), then it closes after
//       the statistics blocks. The daemon never opens a file for a capture. PORT is a port of
//       the session's bridge or BRIDGE:PORT. Defaults: post, both, snaplen 262144, buffer 4 MiB.
//       `filter` takes the rest of the line (tcpdump syntax, compiled by libpcap).
//   capture/list               running captures with per-port counters (text, --json)
//   capture/stop ID            ends a capture: its stream gets the statistics and closes
#include <fmt/format.h>

#include "base/parse.hh"
#include "bridge/commands.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

// The console side of a running capture: its pcapng bytes go to the connection.
class CaptureStream final : public console::StreamSource {
 public:
  CaptureStream(Dataplane& dp, std::shared_ptr<capture::Capture> c)
      : dp_(dp), capture_(std::move(c)) {
    capture_->on_output = [this] {
      if (ready) ready();
    };
  }
  ~CaptureStream() override { capture_->on_output = nullptr; }
  size_t take(std::string& out, size_t max) override { return capture_->take(out, max); }
  bool done() const override { return capture_->finished() && capture_->pending() == 0; }
  void end() override { stop(); }
  void closed() override {
    capture_->on_output = nullptr;
    stop();
  }

 private:
  void stop() {
    if (!capture_->finished()) (void)dp_.stop_capture(capture_->id());
  }
  Dataplane& dp_;
  std::shared_ptr<capture::Capture> capture_;
};

Result<std::pair<Bridge*, PortNo>> parse_port(Dataplane& dp, Bridge* session_br,
                                              const std::string& word) {
  Bridge* br = session_br;
  std::string port = word;
  if (auto colon = word.rfind(':'); colon != std::string::npos) {
    br = dp.bridge(word.substr(0, colon));
    if (!br) return make_error(ENXIO, "no bridge named {}", word.substr(0, colon));
    port = word.substr(colon + 1);
  }
  if (!br) return make_error(ENXIO, "no bridge selected");
  auto p = existing_port(*br, port);
  if (!p) return p.error();
  return std::pair{br, *p};
}

Result<Reply> start(Dataplane& dp, const Clock& clock, Session& s, const Args& a) {
  if (a.empty()) {
    return make_error(EINVAL,
                      "usage: capture/start PORT[,PORT…] [pre|post] [in|out|both] [snaplen N] "
                      "[buffer BYTES] [filter BPF…]");
  }
  if (!s.can_stream) {
    return make_error(EINVAL,
                      "capture/start streams pcapng over a console connection; it cannot run "
                      "from a file");
  }
  auto sb = session_bridge(dp, s);
  std::vector<std::pair<Bridge*, PortNo>> ports;
  size_t from = 0;
  while (from <= a[0].size()) {
    size_t comma = a[0].find(',', from);
    if (comma == std::string::npos) comma = a[0].size();
    auto p = parse_port(dp, sb ? *sb : nullptr, a[0].substr(from, comma - from));
    if (!p) return p.error();
    ports.push_back(*p);
    from = comma + 1;
  }
  capture::Options o;
  std::string filter;
  for (size_t i = 1; i < a.size(); ++i) {
    const std::string& w = a[i];
    if (w == "pre" || w == "post") {
      o.point = w == "pre" ? capture::Point::kPre : capture::Point::kPost;
    } else if (w == "in" || w == "out" || w == "both") {
      o.inbound = w != "out";
      o.outbound = w != "in";
    } else if ((w == "snaplen" || w == "buffer") && i + 1 < a.size()) {
      auto n =
          w == "snaplen" ? parse_int(a[i + 1], 64, 262144) : parse_int(a[i + 1], 4096, 1 << 30);
      if (!n) return make_error(EINVAL, "{}: {}", w, n.error().message);
      if (w == "snaplen") {
        o.snaplen = static_cast<uint32_t>(*n);
      } else {
        o.buffer_bytes = static_cast<size_t>(*n);
      }
      ++i;
    } else if (w == "filter") {
      for (size_t j = i + 1; j < a.size(); ++j) filter += (filter.empty() ? "" : " ") + a[j];
      break;
    } else {
      return make_error(EINVAL,
                        "capture/start: unexpected '{}' (expected pre, post, in, out, both, "
                        "snaplen N, buffer BYTES or filter BPF…)",
                        w);
    }
  }
  auto f = capture::Filter::compile(filter, o.snaplen);
  if (!f) return f.error();
  // The dataplane's clock is steady: map it to Unix time once, for readers of the file.
  auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  int64_t offset = wall.count() - clock.now().time_since_epoch().count();
  auto c = dp.start_capture(ports, o, std::move(*f), offset);
  if (!c) return c.error();
  s.stream = std::make_shared<CaptureStream>(dp, *c);
  return Reply{};
}

Result<Reply> list(Dataplane& dp, const Clock& clock) {
  Reply r;
  r.json = json::array();
  TimePoint now = clock.now();
  for (const auto& c : dp.captures()) {
    const capture::Options& o = c->options();
    std::string dir = o.inbound && o.outbound ? "both" : o.inbound ? "in" : "out";
    json ports = json::array();
    double secs = std::chrono::duration<double>(now - c->started()).count();
    r.text += fmt::format(
        "capture {}: {} {} snaplen {} filter '{}' running {:.1f} s, {} bytes "
        "waiting\n",
        c->id(), capture::point_name(o.point), dir, o.snaplen, c->filter(), secs, c->pending());
    for (uint32_t i = 0; i < c->interfaces().size(); ++i) {
      const auto& k = c->counters(i);
      r.text += fmt::format("  {}: seen {} accepted {} kept {} could not keep {}\n",
                            c->interfaces()[i].name, k.seen, k.accepted, k.kept, k.lost);
      ports.push_back({{"port", c->interfaces()[i].name},
                       {"seen", k.seen},
                       {"accepted", k.accepted},
                       {"kept", k.kept},
                       {"could_not_keep", k.lost}});
    }
    r.json.push_back({{"id", c->id()},
                      {"point", capture::point_name(o.point)},
                      {"direction", dir},
                      {"snaplen", o.snaplen},
                      {"filter", c->filter()},
                      {"seconds", secs},
                      {"pending_bytes", c->pending()},
                      {"ports", ports}});
  }
  return r;
}

}  // namespace

void register_capture_commands(console::Registry& reg, Dataplane& dp, const Clock& clock) {
  reg.add("capture/start",
          "PORT[,PORT…] [pre|post] [in|out|both] [snaplen N] [buffer BYTES] [filter BPF…]",
          "turn this connection into a pcapng stream of the ports' frames",
          [&dp, &clock](Session& s, const Args& a) { return start(dp, clock, s, a); });
  reg.add("capture/list", "", "running captures and their counters",
          [&dp, &clock](Session&, const Args&) { return list(dp, clock); });
  reg.add("capture/stop", "ID", "end a capture (its stream gets statistics and closes)",
          [&dp](Session&, const Args& a) -> Result<Reply> {
            if (a.size() != 1) return make_error(EINVAL, "usage: capture/stop ID");
            auto id = parse_int(a[0], 1, INT64_MAX);
            if (!id) return make_error(EINVAL, "capture id: {}", id.error().message);
            if (auto st = dp.stop_capture(static_cast<uint64_t>(*id)); !st) return st.error();
            return Reply{};
          });
}

}  // namespace vnet::bridge
