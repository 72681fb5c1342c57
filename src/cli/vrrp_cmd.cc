// vnet vrrp -f keepalived.conf — a keepalived-compatible VRRP daemon.

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "base/child_supervisor.hh"
#include "base/log.hh"
#include "cli/commands.hh"
#include "cli/process.hh"
#include "console/console.hh"
#include "lb/commands.hh"
#include "lb/conntrack.hh"
#include "lb/director.hh"
#include "lb/dr_log.hh"
#include "lb/ipvs_datapath.hh"
#include "lb/keepalived_conf.hh"
#include "lb/nft_ruleset.hh"
#include "vrrp/commands.hh"
#include "vrrp/daemon.hh"
#include "vrrp/system_host.hh"

namespace vnet::cli {
namespace {

struct VrrpOpts {
  std::string file = "/etc/keepalived/keepalived.conf";
  std::string mgmt, pidfile, logfile, checksum = "with-pseudo-header";
  bool daemon = false, test = false;
  bool vrrp_only = false, check_only = false;  // keepalived -P / -C
  std::string config_id;                       // -i; "" = the host name up to its first '.'
  std::string datapath = "auto";               // auto | ipvs | nftables
  vrrp::ReadOptions read_options() const {
    vrrp::ReadOptions r;
    r.config_id = config_id;
    if (r.config_id->empty()) {  // keepalived main.c: config_id defaults to the node name
      struct utsname u {};
      if (::uname(&u) == 0) {
        std::string node = u.nodename;
        r.config_id = node.substr(0, node.find('.'));
      }
    }
    return r;
  }
};

volatile std::sig_atomic_t g_term = 0, g_hup = 0;

// SIGHUP, the load-balancing half of the file read again: what the datapath cannot serve is
// refused with the reason and the virtual servers keep running as loaded.
template <typename Follow>
void reload_lb(const lb::KeepalivedFullConfig& next, const std::string& file,
               lb::Director& director, bool nft, Follow& follow_connections) {
  auto refused = nft ? lb::nft_refusals(next.lb) : lb::checker_refusals(next.lb);
  if (!refused.empty()) {
    for (auto& r : refused) log::error("lb: reload: {}", r);
    log::error("lb: reload refused; the virtual servers keep running as loaded");
    return;
  }
  if (next.lb.services.empty() && !director.balancer()) return;
  if (auto s = director.reload(next.lb, next.vrrp.global); !s) {
    log::error("lb: reload: {}", s.error().message);
    return;
  }
  log::info("lb: reloaded {} virtual servers from {}", next.lb.services.size(), file);
  if (auto s = follow_connections(); !s) log::error("lb: {}", s.error().message);
}

int run_vrrp(const VrrpOpts& o) {
  vrrp::DaemonOptions dopt;
  if (o.checksum == "vrrp-only") {
    dopt.checksum = vrrp::ChecksumMode::kVrrpOnly;
  } else if (o.checksum != "with-pseudo-header") {
    std::cerr << "--v3-checksum " << o.checksum << ": expected with-pseudo-header or vrrp-only\n";
    return 2;
  }
  auto full = lb::load_keepalived_conf_full(o.file, o.read_options());
  if (!full) {
    std::cerr << full.error().message << "\n";
    return 1;
  }
  vrrp::KeepalivedConfig* conf = &full->vrrp;
  const lb::LbConfig& lbconf = full->lb;
  for (auto& w : conf->warnings) std::cerr << w << "\n";
  bool run_vrrp = !o.check_only, run_lb = !o.vrrp_only && !lbconf.services.empty();
  // The kernel's IPVS where the ip_vs module exists (as keepalived), else nftables.
  std::unique_ptr<lb::Datapath> datapath;
  if (run_lb && o.datapath != "nftables") {
    auto ipvs = lb::IpvsDatapath::open();
    if (ipvs) {
      datapath = std::move(*ipvs);
    } else if (o.datapath == "ipvs") {
      std::cerr << "--datapath ipvs: " << ipvs.error().message << "\n";
      return 1;
    }
  }
  const bool nft = !datapath;
  if (nft) datapath = std::make_unique<lb::NftDatapath>();
  if (run_lb) {
    // What the datapath cannot serve is refused here, with the reason.
    auto refused = nft ? lb::nft_refusals(lbconf) : lb::checker_refusals(lbconf);
    for (auto& r : refused) std::cerr << r << "\n";
    if (!refused.empty()) {
      std::cerr << o.file << ": " << refused.size() << " virtual_server item(s) the "
                << (nft ? "nftables datapath (no ip_vs)" : "IPVS datapath") << " cannot serve\n";
      return 1;
    }
  }
  if (o.test) {
    std::cout << fmt::format(
        "{}: {} instances, {} sync groups, {} scripts, {} virtual servers ({} warnings)\n", o.file,
        conf->instances.size(), conf->sync_groups.size(), conf->scripts.size(),
        lbconf.services.size(), conf->warnings.size());
    return conf->warnings.empty()
               ? 0
               : 5;  // like keepalived -t: non-zero when it had to skip something
  }
  if (o.daemon) daemonize(!o.logfile.empty());
  redirect_log(o.logfile);
  SystemClock clock;
  EventLoop loop(clock);
  auto host = vrrp::SystemHost::open(loop);
  if (!host) {
    log::error("{}", host.error().message);
    return 1;
  }
  ChildSupervisor children(loop);
  vrrp::Daemon daemon(loop, **host, children, dopt);
  lb::Director director(loop, children, *datapath,
                        uint64_t(clock.now().time_since_epoch().count()) ^ uint64_t(getpid()));
  console::Registry registry;
  vrrp::register_commands(registry, daemon);
  lb::register_commands(registry, director, clock);
  registry.on_shutdown([] { g_term = 1; });
  std::unique_ptr<console::Server> server;
  if (!o.mgmt.empty()) {
    auto s = console::Server::open(loop, registry, o.mgmt, 0600,
                                   "VNET vrrp\n(vde_switch compatible console)");
    if (!s) {
      std::cerr << s.error().message << "\n";
      return 1;
    }
    server = std::move(*s);
  }
  struct sigaction sa {};
  sa.sa_handler = [](int sig) {
    if (sig == SIGHUP)
      g_hup = 1;
    else
      g_term = 1;
  };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  if (run_vrrp) {
    if (auto s = daemon.start(*conf); !s) {
      log::error("{}", s.error().message);
      daemon.shutdown();
      return 1;
    }
  }
  if (run_lb) {
    if (auto s = director.start(lbconf, conf->global); !s) {
      log::error("lb: {}", s.error().message);
      director.shutdown();
      if (run_vrrp) daemon.shutdown();
      return 1;
    }
  }
  // lc and wlc count connections from connection tracking (lb/conntrack.hh) on NAT services,
  // from the segments the datapath logs (lb/dr_log.hh) on DR services.
  std::unique_ptr<lb::ConntrackFollower> conntrack;
  std::unique_ptr<lb::DrLogFollower> dr_log;
  auto follow_connections = [&]() -> Status {
    if (!conntrack && director.follows_connections()) {
      auto f = lb::ConntrackFollower::open(
          loop, [&director](const lb::ConnEvent& e) { director.on_conn_event(e); },
          [&director](const std::vector<lb::ConnEvent>& all) { director.on_conn_resync(all); });
      if (!f)
        return make_error(f.error().code, "lc/wlc need connection-tracking events: {}",
                          f.error().message);
      conntrack = std::move(*f);
    }
    if (!dr_log && director.follows_dr_connections()) {
      auto f = lb::DrLogFollower::open(
          loop, lb::kDrLogGroup, [&director](const lb::DrLogged& s) { director.on_dr_segment(s); });
      if (!f)
        return make_error(f.error().code, "lc/wlc with lb_kind DR need the logged segments: {}",
                          f.error().message);
      dr_log = std::move(*f);
    }
    return {};
  };
  if (auto s = follow_connections(); !s) {
    log::error("lb: {}", s.error().message);
    director.shutdown();
    if (run_vrrp) daemon.shutdown();
    return 1;
  }
  write_pidfile(o.pidfile);
  while (!g_term) {
    loop.run_once(std::chrono::milliseconds(200));
    if (g_hup) {
      g_hup = 0;
      // Both halves from one reading of the file.
      auto next = lb::load_keepalived_conf_full(o.file, o.read_options());
      if (!next) {
        log::error("reload refused, keeping the running configuration:\n{}", next.error().message);
        continue;
      }
      for (auto& w : next->vrrp.warnings) log::warn("{}", w);
      if (run_vrrp) {
        if (auto s = daemon.reload(next->vrrp); !s) log::error("reload: {}", s.error().message);
      }
      if (!o.vrrp_only) reload_lb(*next, o.file, director, nft, follow_connections);
    }
  }
  log::info("stopping: priority 0 where master, virtual addresses removed");
  if (director.balancer()) director.shutdown();  // table ip vnet_lb removed
  if (run_vrrp) daemon.shutdown();
  if (!o.pidfile.empty()) unlink(o.pidfile.c_str());
  return 0;
}

}  // namespace

void add_vrrp(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("vrrp", "keepalived-compatible VRRP daemon (VRRPv2/v3, IPv4/IPv6)");
  auto o = std::make_shared<VrrpOpts>();
  cmd->add_option("-f,--use-file", o->file, "keepalived.conf to use");
  cmd->add_option("-i,--config-id", o->config_id,
                  "configuration id: lines starting @ID apply only with this id, @^ID all but it "
                  "(default: the host name up to its first '.')");
  cmd->add_option("--datapath", o->datapath,
                  "where virtual servers go: auto (IPVS where the kernel has ip_vs, else "
                  "nftables), ipvs or nftables")
      ->check(CLI::IsMember({"auto", "ipvs", "nftables"}));
  cmd->add_option("-M,--mgmt", o->mgmt, "console socket (vrrp/show)");
  cmd->add_option("-p,--pid", o->pidfile, "pid file, written once running");
  cmd->add_option("--log", o->logfile, "log file (default stderr)");
  cmd->add_option("--v3-checksum", o->checksum,
                  "VRRPv3/IPv4 checksum: with-pseudo-header (keepalived, RFC 5798) or vrrp-only "
                  "(Cisco, RFC 9568 reading); "
                  "both are accepted on receive");
  cmd->add_flag("-d,--daemon", o->daemon, "run in the background");
  cmd->add_flag("-P,--vrrp", o->vrrp_only, "run only the VRRP half (keepalived --vrrp)");
  cmd->add_flag("-C,--check", o->check_only,
                "run only the load-balancing half: virtual servers and checkers (keepalived "
                "--check)");
  cmd->add_flag("-t,--config-test", o->test,
                "check the configuration and exit (5 if anything was skipped)");
  cmd->final_callback([o] { std::exit(run_vrrp(*o)); });
}

}  // namespace vnet::cli
