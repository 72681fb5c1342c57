// vnet switch — the dataplane daemon, with vde_switch's main flags.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "base/log.hh"
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
  uint32_t numports = 32;
  bool daemon = false;
  std::string pidfile;
  std::vector<std::string> taps;
  std::vector<std::string> ports;
  std::string bridge = "vnet0";
  std::string mgmt_mode = "0600";
  std::string logfile;
  bool nostdin = false;
};

volatile std::sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "vnet switch: " << msg << "\n";
  std::exit(1);
}

int run_switch(const SwitchOpts& o) {
  SystemClock clock;
  EventLoop loop(clock);
  bridge::Dataplane dp(loop, o.numports);
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
  for (auto& list : o.taps) {
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      std::string name =
          list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto be = io::open_tap(name);
      if (!be) die(be.error().message);
      if (auto p = dp.attach(**br, 0, std::move(*be), false); !p) die(p.error().message);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  for (auto& spec : o.ports) {
    // N=SPEC or SPEC (next free port)
    bridge::PortNo port = 0;
    std::string s = spec;
    auto eq = spec.find('=');
    if (eq != std::string::npos && eq > 0 && std::isdigit(static_cast<unsigned char>(spec[0]))) {
      port = static_cast<bridge::PortNo>(std::stoul(spec.substr(0, eq)));
      s = spec.substr(eq + 1);
    }
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
    int mode = static_cast<int>(std::stoul(o.mgmt_mode, nullptr, 8));
    auto s = console::Server::open(loop, registry, o.mgmt, mode,
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
  cmd->add_option("--mgmtmode", o->mgmt_mode, "console socket mode (octal)");
  cmd->add_option("-f,--rcfile", o->rcfile,
                  "console commands to run at start (vde_switch rc files work)");
  cmd->add_option("-n,--numports", o->numports, "ports available to anonymous plugs");
  cmd->add_flag("-d,--daemon", o->daemon, "run in the background");
  cmd->add_option("-p,--pidfile", o->pidfile, "write the pid here once ready");
  cmd->add_option("-t,--tap", o->taps, "attach TAP device(s) (comma list), created if missing");
  cmd->add_option("--port", o->ports,
                  "attach a backend: [N=]afpacket:IF | tap:IF | qemu-stream:PATH | qemu-dgram:PATH "
                  "| pcap:IN[,OUT]");
  cmd->add_option("--bridge", o->bridge, "name of the first bridge");
  cmd->add_option("--log", o->logfile, "log file (default stderr)");
  cmd->add_flag("--nostdin", o->nostdin,
                "accepted for vde_switch compatibility (no stdin console)");
  cmd->final_callback([o] { std::exit(run_switch(*o)); });
}

}  // namespace vnet::cli
