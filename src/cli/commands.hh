#pragma once
// Subcommands of the `vnet` binary. Each adds its CLI11 subcommand and runs it; exceptions stop
// here (the CLI is the only place they may occur).

#include <CLI/CLI.hpp>

namespace vnet::cli {

void add_switch(CLI::App& app);
void add_ctl(CLI::App& app);
void add_lab(CLI::App& app);
void add_vrrp(CLI::App& app);
void add_wirefilter(CLI::App& app);
void add_capture(CLI::App& app);
void add_probe(CLI::App& app);
// The words after `--` on the command line.
std::vector<std::string>& passthrough();

}  // namespace vnet::cli
