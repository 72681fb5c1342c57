// vnet ctl SOCKET COMMAND… — runs one console command and prints the answer.

#include <iostream>

#include "cli/commands.hh"
#include "console/console.hh"

namespace vnet::cli {

void add_ctl(CLI::App& app) {
  auto* cmd = app.add_subcommand("ctl", "run one command on a switch console and print the answer");
  struct Opts {
    std::string socket;
    std::vector<std::string> words;
    std::string bridge;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("socket", o->socket,
                  "console socket (vnet switch -M, vnet wirefilter -M, vde_switch, VDE wirefilter)")
      ->required();
  cmd->add_option("command", o->words, "command and arguments, e.g. port/print 1")->required();
  cmd->add_option("-b,--bridge", o->bridge, "bridge to work on (bridge/select)");
  cmd->add_flag("--json", o->json, "answer in JSON");
  cmd->prefix_command(false);
  cmd->allow_extras(false);
  cmd->final_callback([o] {
    auto c = console::Client::connect(o->socket);
    if (!c) {
      std::cerr << "vnet ctl: " << c.error().message << "\n";
      std::exit(2);
    }
    if (!o->bridge.empty()) {
      if (auto r = c->run("bridge/select " + o->bridge); !r) {
        std::cerr << "vnet ctl: " << r.error().message << "\n";
        std::exit(1);
      }
    }
    std::string line;
    for (auto& w : o->words) line += (line.empty() ? "" : " ") + w;
    if (o->json) line += " --json";
    auto r = c->run(line);
    if (!r) {
      std::cerr << "vnet ctl: " << line << ": " << r.error().message << "\n";
      std::exit(1);
    }
    std::cout << *r;
    std::exit(0);
  });
}

}  // namespace vnet::cli
