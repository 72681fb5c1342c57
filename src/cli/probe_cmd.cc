// vnet probe reflect [--port P] | vnet probe send ADDRESS [options] — the paced UDP probe stream
// of the lab step `probe` (probe/stream.hh) between any two hosts or namespaces
// (`ip netns exec NS vnet probe …`), so benchmarks measure vnet and other switches alike.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <iostream>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "base/fd.hh"
#include "base/parse.hh"
#include "cli/commands.hh"
#include "probe/udp.hh"

namespace vnet::cli {
namespace {

std::atomic<bool> g_stop{false};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "vnet probe: " << msg << "\n";
  std::exit(1);
}

struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool v6 = false;
};

Address address_of(const std::string& text, uint16_t port) {
  Address a;
  a.v6 = text.find(':') != std::string::npos;
  if (a.v6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    if (!text.empty() && inet_pton(AF_INET6, text.c_str(), &s->sin6_addr) != 1)
      die(fmt::format("'{}': expected an IPv6 address", text));
    a.len = sizeof *s;
  } else {
    auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    if (!text.empty() && inet_pton(AF_INET, text.c_str(), &s->sin_addr) != 1)
      die(fmt::format("'{}': expected an IPv4 or IPv6 address", text));
    a.len = sizeof *s;
  }
  return a;
}

UniqueFd udp_socket(bool v6) {
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) die(system_error("socket").message);
  if (auto s = probe::enable_timestamps(fd.get()); !s) die(s.error().message);
  return fd;
}

void on_signals() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

nlohmann::json to_json(const std::vector<probe::Measurement>& ms) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& m : ms) {
    if (m.unit == "count") {
      j[m.key()] = static_cast<uint64_t>(m.value);
    } else {
      j[m.key()] = m.value;
    }
  }
  return j;
}

struct SendOptions {
  std::string address, rate, bitrate, duration, wait = "1s";
  uint16_t port = probe::kDefaultPort;
  size_t size = probe::kDefaultPayload;
  std::optional<uint64_t> count;
  bool json = false;
};

int run_send(const SendOptions& so) {
  Address dst = address_of(so.address, so.port);
  probe::StreamOptions o;
  o.payload = so.size;
  if (!so.rate.empty()) {
    auto r = probe::parse_packet_rate(so.rate);
    if (!r) die("--" + r.error().message);
    o.rate = *r;
  }
  if (!so.bitrate.empty()) {
    auto b = probe::parse_bitrate(so.bitrate);
    if (!b) die("--" + b.error().message);
    o.bitrate = *b;
  }
  o.count = so.count;
  if (!so.duration.empty()) {
    auto d = parse_duration(so.duration, std::chrono::milliseconds(1), std::chrono::hours(1));
    if (!d) die("--duration " + d.error().message);
    o.duration = *d;
  }
  auto wait = parse_duration(so.wait, Duration{0}, std::chrono::seconds(60));
  if (!wait) die("--wait " + wait.error().message);
  auto plan = probe::make_plan(o, dst.v6);
  if (!plan) die(plan.error().message);
  UniqueFd fd = udp_socket(dst.v6);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst.ss), dst.len) < 0)
    die(system_error("connect to " + so.address).message);
  on_signals();
  const size_t overhead = probe::frame_bytes(0, dst.v6);
  uint32_t run = std::random_device{}();
  SystemClock clock;
  probe::Sender sender(run, *plan, clock.now());
  probe::Collector replies(run, plan->count, overhead);
  if (auto s = probe::run_sender(fd.get(), sender, replies, *wait, g_stop); !s)
    die(s.error().message);
  probe::Stats st = replies.stats(sender.sent());
  if (so.json) {
    nlohmann::json j = to_json(probe::measurements(st));
    j["address"] = so.address;
    j["port"] = so.port;
    j["rate_pps"] = plan->rate();
    j["size"] = plan->payload;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << fmt::format(
        "probe {} port {}, {:.6g}/s of {} bytes: {} (throughput of the "
        "replies)\n",
        so.address, so.port, plan->rate(), plan->payload, probe::summary(st));
  }
  return 0;
}

int run_reflect(uint16_t port, std::string bind, bool json) {
  if (bind == "::") {
    // The default wildcard; a kernel without IPv6 (ipv6.disable=1) has only IPv4's.
    UniqueFd probe6(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!probe6.valid() && errno == EAFNOSUPPORT) bind = "0.0.0.0";
  }
  Address a = address_of(bind, port);
  UniqueFd fd = udp_socket(a.v6);
  if (a.v6) {
    int off = 0;  // both families on the IPv6 wildcard
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a.ss), a.len) < 0)
    die(system_error(fmt::format("bind port {}", port)).message);
  on_signals();
  probe::Reflector reflector;
  // A run is reported once nothing of it arrived for 2 s: one way, as the reflector saw it
  // (sent = its highest sequence number + 1, the most that can be known here).
  auto report = [&](uint32_t id, const probe::Collector& c) {
    probe::Stats st = c.stats(c.highest().value_or(0) + 1);
    if (json) {
      nlohmann::json j = to_json(probe::measurements(st, {}, "oneway"));
      j["run"] = id;
      std::cout << j.dump() << "\n" << std::flush;
    } else {
      std::cout << fmt::format(
                       "run {:08x}: {} arrived of at least {} sent, {} duplicates, {} "
                       "reordered; throughput {} (one way)\n",
                       id, st.received, st.sent, st.duplicates, st.reordered,
                       probe::format_bitrate(st.throughput_bps))
                << std::flush;
    }
  };
  auto tick = [&](TimePoint now) {
    for (auto& [id, c] : reflector.take_idle(now, std::chrono::seconds(2))) report(id, c);
  };
  if (!json) std::cerr << fmt::format("vnet probe: reflecting on UDP port {}\n", port);
  if (auto s = probe::run_reflector(fd.get(), reflector, g_stop, tick); !s) die(s.error().message);
  tick(TimePoint::max());
  return 0;
}

}  // namespace

void add_probe(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "probe",
      "paced UDP probe streams: loss, RTT percentiles, jitter, throughput (docs/probe.md)");
  cmd->require_subcommand(1);

  auto* reflect = cmd->add_subcommand("reflect", "echo probes back to their sender");
  auto port = std::make_shared<uint16_t>(probe::kDefaultPort);
  auto bind = std::make_shared<std::string>("::");
  auto rjson = std::make_shared<bool>(false);
  reflect->add_option("--port", *port, "UDP port (default 47000)");
  reflect->add_option("--bind", *bind,
                      "local address (default :: — IPv4 and IPv6; 0.0.0.0 without IPv6)");
  reflect->add_flag("--json", *rjson, "one JSON object per finished run");
  reflect->final_callback([=] { std::exit(run_reflect(*port, *bind, *rjson)); });

  auto* send = cmd->add_subcommand("send", "send a paced stream to a reflector and measure");
  auto so = std::make_shared<SendOptions>();
  send->add_option("address", so->address, "the reflector's address")->required();
  send->add_option("--port", so->port, "UDP port (default 47000)");
  auto* rate =
      send->add_option("--rate", so->rate, "probes per second, e.g. 200/s (default 100/s)");
  send->add_option("--bitrate", so->bitrate,
                   "pace to this rate of Ethernet frames (payload + UDP + IP + Ethernet headers), "
                   "e.g. 10mbit")
      ->excludes(rate);
  send->add_option("--size", so->size, "UDP payload bytes, 24–65507 (default 100)");
  auto* count = send->add_option("--count", so->count, "probes to send (default 100)");
  send->add_option("--duration", so->duration, "send for this long, e.g. 10s")->excludes(count);
  send->add_option("--wait", so->wait, "how long replies may come after the last send (1s)");
  send->add_flag("--json", so->json, "one JSON object: the figures (docs/probe.md)");
  send->final_callback([so] { std::exit(run_send(*so)); });
}

}  // namespace vnet::cli
