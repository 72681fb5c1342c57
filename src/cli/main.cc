#include <csignal>
#include <cstdio>
#include <string>

#include "base/log.hh"
#include "cli/commands.hh"

int main(int argc, char** argv) {
  CLI::App app{"vnet: virtual networks — 802.1Q switch, labs, VRRP"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("vnet ") + VNET_VERSION);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.parse_complete_callback([&] {
    if (verbose) vnet::log::set_level(vnet::log::Level::kDebug);
  });
  std::signal(SIGPIPE, SIG_IGN);
  vnet::cli::add_switch(app);
  vnet::cli::add_ctl(app);
  vnet::cli::add_vrrp(app);
  vnet::cli::add_wirefilter(app);
  vnet::cli::add_capture(app);
  vnet::cli::add_probe(app);
#ifdef VNET_HAVE_LAB
  vnet::cli::add_lab(app);
#endif
  // Everything after the first `--` is a command line for another program (vnet lab exec).
  int n = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      n = i;
      for (int k = i + 1; k < argc; ++k) vnet::cli::passthrough().push_back(argv[k]);
      break;
    }
  }
  CLI11_PARSE(app, n, argv);
  return 0;
}
