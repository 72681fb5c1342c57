// vnet wirefilter -v SW1:SW2 [wirefilter flags] — VDE wirefilter on vnet's impairment engine
// (flags: wirefilter/options.hh; console: wirefilter/filter.hh; I/O: wirefilter/link.hh).

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include "base/log.hh"
#include "cli/commands.hh"
#include "console/console.hh"
#include "wirefilter/filter.hh"
#include "wirefilter/link.hh"
#include "wirefilter/options.hh"

namespace vnet::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "vnet wirefilter: " << msg << "\n";
  std::exit(1);
}

int run_wirefilter(const std::vector<std::string>& args) {
  auto opts = wirefilter::parse_options(args);
  if (!opts) {
    std::cerr << "vnet wirefilter: " << opts.error().message << "\n" << wirefilter::usage();
    return 1;
  }
  const wirefilter::Options& o = *opts;
  if (o.help) {
    std::cout << wirefilter::usage();
    return 0;
  }
  SystemClock clock;
  EventLoop loop(clock);
  // Delayed frames leave within microseconds of their time, as through vnet switch (its
  // --wake-lead default): the loop polls through a lead learnt from its own wake-ups.
  loop.set_wake_lead(WakeLead::automatic());
  loop.set_spin_priority(10);
  const uint64_t seed =
      o.seed ? *o.seed
             : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                   static_cast<uint64_t>(getpid());
  wirefilter::Filter filter(seed, clock.now());
  filter.set_fifo(!o.nofifo, clock.now());
  for (const auto& a : o.values) {
    if (auto st = filter.assign(a, clock.now()); !st) die(st.error().message);
  }
  std::unique_ptr<wirefilter::Link> link;
  console::Registry registry;
  filter.add_commands(
      registry, [&clock] { return clock.now(); },
      [&link] {
        if (link) link->changed();
      });
  registry.on_shutdown([] { g_stop = 1; });
  if (!o.rcfile.empty()) {
    console::Session session;
    session.vars[wirefilter::kTrustedFiles] = "1";  // the operator's file: its `load`s may run
    if (auto st = registry.run_file(session, o.rcfile); !st) die(st.error().message);
  }
  std::array<io::VdePlug, 2> plugs;
  for (size_t i = 0; i < 2; ++i) {
    auto p = io::vde_plug_connect(o.plugs[i], "vnet wirefilter");
    if (!p) die(p.error().message);
    plugs[i] = std::move(*p);
  }
  auto l = wirefilter::Link::open(loop, filter, std::move(plugs));
  if (!l) die(l.error().message);
  link = std::move(*l);
  link->on_closed([](const std::string& why) {
    log::info("wirefilter: {}; exiting", why);
    g_stop = 1;
  });
  std::unique_ptr<console::Server> server;
  if (!o.mgmt.empty()) {
    auto s = console::Server::open(loop, registry, o.mgmt, o.mgmt_mode,
                                   std::string("\nVDE wirefilter V.") + VNET_VERSION +
                                       " (vnet wirefilter)\n(C) vnet developers - VDE wirefilter "
                                       "compatible console",
                                   console::kWirefilterPrompt);
    if (!s) die(s.error().message);
    server = std::move(*s);
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  log::info("wirefilter L={} R={} running (pid {}, seed {})", o.plugs[0], o.plugs[1], getpid(),
            seed);
  while (!g_stop) loop.run_once(std::chrono::milliseconds(500));
  server.reset();
  link.reset();
  return 0;
}

}  // namespace

void add_wirefilter(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "wirefilter", "impair the link between two VDE switches (VDE wirefilter compatible flags)");
  cmd->set_help_flag();  // -h/--help are wirefilter's, parsed with the rest
  cmd->prefix_command(true);
  cmd->final_callback([cmd] {
    std::vector<std::string> args = cmd->remaining();
    std::exit(run_wirefilter(args));
  });
}

}  // namespace vnet::cli
