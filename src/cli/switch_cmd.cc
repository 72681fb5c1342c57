// vnet switch — the dataplane daemon, with vde_switch's main flags.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "base/log.hh"
#include "base/parse.hh"
#include "bridge/commands.hh"
#include "bridge/dataplane.hh"
#include "cli/commands.hh"
#include "cli/process.hh"
#include "console/console.hh"

namespace vnet::cli {
namespace {

struct SwitchOpts {
  std::string sock;
  std::string mgmt;
  std::string rcfile;
  std::string numports = "32";
  bool daemon = false;
  std::string pidfile;
  std::vector<std::string> taps;
  std::vector<std::string> ports;
  std::string bridge = "vnet0";
  std::string mgmt_mode = "0600";
  std::string logfile;
  bool nostdin = false;
  std::string wake_lead = "auto";
  int spin_priority = 10;
};

volatile std::sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "vnet switch: " << msg << "\n";
  std::exit(1);
}

// The flags' values, checked before anything is created.
struct Parsed {
  uint32_t numports = 32;
  int mgmt_mode = 0600;
  std::vector<std::string> taps;
  std::vector<std::pair<bridge::PortNo, std::string>> ports;  // 0 = next free port
  WakeLead wake_lead = WakeLead::automatic();
};

// `--port [N=]SPEC`: N is the part before '=' when '=' comes before the spec's "kind:" (a path
// inside a spec may hold '=').
Result<std::pair<bridge::PortNo, std::string>> parse_port(const std::string& arg) {
  size_t eq = arg.find('='), colon = arg.find(':');
  if (eq == std::string::npos || (colon != std::string::npos && colon < eq))
    return std::pair{0u, arg};
  std::string n = arg.substr(0, eq);
  auto port = parse_int_as<bridge::PortNo>(n, 1, 65535);
  if (!port)
    return make_error(EINVAL, "--port {}: '{}': expected a port number from 1 to 65535", arg, n);
  if (eq + 1 == arg.size())
    return make_error(EINVAL, "--port {}: expected a backend after '='", arg);
  return std::pair{*port, arg.substr(eq + 1)};
}

Result<Parsed> parse_flags(const SwitchOpts& o) {
  Parsed p;
  auto n = parse_int_as<uint32_t>(o.numports, 0, 65535);
  if (!n) return make_error(EINVAL, "--numports: {}", n.error().message);
  p.numports = *n;
  // vde_switch reads the mode with strtol(…, 8); here only octal digits, at most 0777.
  const std::string& m = o.mgmt_mode;
  bool octal = !m.empty() && m.size() <= 4 && m.find_first_not_of("01234567") == std::string::npos;
  int mode = 0;
  for (char c : m) mode = mode * 8 + (c - '0');
  if (!octal || mode > 0777) {
    return make_error(EINVAL,
                      "--mgmtmode {}: expected an octal file mode from 0 to 0777, like 0600", m);
  }
  p.mgmt_mode = mode;
  // "auto" learns the lead (base/wake_lead.hh); a bare 0 (as the docs write "--wake-lead 0")
  // needs no unit.
  if (o.wake_lead != "auto") {
    auto lead = o.wake_lead == "0" ? Result<Duration>(Duration{0})
                                   : parse_duration(o.wake_lead, Duration{0}, WakeLead::kMaxFixed);
    if (!lead) {
      return make_error(EINVAL, "--wake-lead '{}': expected auto, or a duration from 0 to {}",
                        o.wake_lead, format_duration(WakeLead::kMaxFixed));
    }
    p.wake_lead = WakeLead::fixed(*lead);
  }
  for (auto& list : o.taps) {
    size_t pos = 0;
    while (true) {
      size_t comma = list.find(',', pos);
      std::string name =
          list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (name.empty() || name.size() > 15) {
        return make_error(
            EINVAL,
            "--tap {}: '{}': expected interface names of 1 to 15 characters, separated by commas",
            list, name);
      }
      p.taps.push_back(name);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  for (auto& spec : o.ports) {
    auto port = parse_port(spec);
    if (!port) return port.error();
    p.ports.push_back(*port);
  }
  return p;
}

int run_switch(const SwitchOpts& o) {
  auto flags = parse_flags(o);
  if (!flags) die(flags.error().message);
  const Parsed& f = *flags;
  SystemClock clock;
  EventLoop loop(clock);
  loop.set_wake_lead(f.wake_lead);
  loop.set_spin_priority(o.spin_priority);
  bridge::Dataplane dp(loop, f.numports);
  console::Registry registry;
  bridge::SwitchInfo info{VNET_VERSION, o.mgmt, clock.now()};
  bridge::register_commands(registry, dp, clock, info);
  registry.on_shutdown([] { g_stop = 1; });

  auto br = dp.create_bridge(o.bridge);
  if (!br) die(br.error().message);
  if (!o.sock.empty()) {
    if (auto s = dp.start_vde(**br, o.sock); !s) die(s.error().message);
  }
  if (!o.rcfile.empty()) {
    console::Session session;
    if (auto st = registry.run_file(session, o.rcfile); !st) die(st.error().message);
  }
  for (auto& name : f.taps) {
    auto be = io::open_tap(name);
    if (!be) die(be.error().message);
    if (auto p = dp.attach(**br, 0, std::move(*be), false); !p) die(p.error().message);
  }
  for (size_t i = 0; i < f.ports.size(); ++i) {
    const std::string& spec = o.ports[i];
    auto [port, s] = f.ports[i];
    if (port == 0) {
      for (bridge::PortNo p = 1; p <= 65535; ++p) {
        if (!(*br)->has_port(p)) {
          port = p;
          break;
        }
      }
    }
    if (auto st = dp.attach_spec(**br, port, s); !st)
      die("--port " + spec + ": " + st.error().message);
  }
  std::unique_ptr<console::Server> server;
  if (!o.mgmt.empty()) {
    auto s = console::Server::open(loop, registry, o.mgmt, f.mgmt_mode,
                                   std::string("VNET switch V.") + VNET_VERSION +
                                       "\n(C) vnet developers - vde_switch compatible console");
    if (!s) die(s.error().message);
    server = std::move(*s);
  }
  if (o.daemon) daemonize(!o.logfile.empty());
  redirect_log(o.logfile);
  write_pidfile(o.pidfile);
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  log::info("switch {} running (pid {})", o.bridge, getpid());
  while (!g_stop) {
    loop.run_once(std::chrono::milliseconds(500));
  }
  server.reset();
  if (!o.pidfile.empty()) unlink(o.pidfile.c_str());
  return 0;
}

}  // namespace

void add_switch(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("switch", "run the 802.1Q switch dataplane (vde_switch compatible flags)");
  auto o = std::make_shared<SwitchOpts>();
  cmd->add_option("-s,--sock,--vdesock,--unix", o->sock,
                  "VDE switch directory (ctl socket inside) for vde_plug / QEMU -netdev vde");
  cmd->add_option("-M,--mgmt", o->mgmt, "management console socket");
  cmd->add_option("--mgmtmode", o->mgmt_mode, "console socket mode (octal, at most 0777)");
  cmd->add_option("-f,--rcfile", o->rcfile,
                  "console commands to run at start (vde_switch rc files work)");
  cmd->add_option("-n,--numports", o->numports, "ports available to anonymous plugs (0-65535)");
  cmd->add_flag("-d,--daemon", o->daemon, "run in the background");
  cmd->add_option("-p,--pidfile", o->pidfile, "write the pid here once ready");
  cmd->add_option("-t,--tap", o->taps, "attach TAP device(s) (comma list), created if missing");
  cmd->add_option("--port", o->ports,
                  "attach a backend: [N=]afpacket:IF | tap:IF | qemu-stream:PATH | qemu-dgram:PATH "
                  "| pcap:IN[,OUT] | vxlan:LOCAL,map=VID:VNI,… | udp:LOCAL:PORT,remote=ADDR:PORT "
                  "| udp://… | vxlan://… (docs/cables.md)");
  cmd->add_option("--bridge", o->bridge, "name of the first bridge");
  cmd->add_option("--log", o->logfile, "log file (default stderr)");
  cmd->add_option("--wake-lead", o->wake_lead,
                  "poll without sleeping for this long before each timer, so delayed frames "
                  "leave within microseconds of their time: auto (default: twice the 99th "
                  "percentile of this host's timer wake-up latency, 20us to 2ms), or 0 to 10ms "
                  "(0: never)");
  cmd->add_option("--spin-priority", o->spin_priority,
                  "SCHED_FIFO priority while polling through the wake lead, so no other task "
                  "takes the CPU just before a release (1-99; 0: never; default 10; at most half "
                  "of each 100 ms)")
      ->check(CLI::Range(0, 99));
  cmd->add_flag("--nostdin", o->nostdin,
                "accepted for vde_switch compatibility (no stdin console)");
  cmd->final_callback([o] { std::exit(run_switch(*o)); });
}

}  // namespace vnet::cli
