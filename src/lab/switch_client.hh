#pragma once
// SwitchClient: the lab's typed view of a `vnet switch` dataplane. The orchestrator, node kinds
// and scenario steps call these methods; only this file turns them into console commands
// (docs/switch.md), so nothing else assembles command strings.
//
// Errors carry the dataplane's message prefixed with what was asked ("bridge sw1 port 3: …").
// The console session's selected bridge is tracked so consecutive calls on one bridge cost one
// round trip each. Not thread-safe: one client per thread.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.hh"
#include "bridge/port_access.hh"
#include "bridge/port_config.hh"
#include "console/console.hh"
#include "lab/spanning_tree.hh"
#include "packet/address.hh"

namespace vnet::lab {

class SwitchClient {
 public:
  static Result<SwitchClient> connect(const std::string& console_path);

  // The dataplane starts with one bridge (`vnet switch --bridge NAME`); others are created.
  Status create_bridge(const std::string& bridge);
  Status create_vlan(const std::string& bridge, bridge::VlanId vlan);
  // Creates the port (inactive) with its 802.1Q configuration.
  Status create_port(const std::string& bridge, bridge::PortNo port,
                     const bridge::PortConfig& config);
  // Attaches a backend (io::make_backend spec, e.g. "afpacket:DEV") to an existing port.
  Status attach(const std::string& bridge, bridge::PortNo port, const std::string& spec);
  Status detach(const std::string& bridge, bridge::PortNo port);
  // Serves a VDE switch directory for the bridge (`bridge/vde`): libvdeplug clients join it.
  Status serve_vde(const std::string& bridge, const std::string& dir);
  Status connect_cable(const std::string& a, bridge::PortNo pa, const std::string& b,
                       bridge::PortNo pb);
  // Administrative link state: down = the cable is pulled (its peer goes down with it).
  // (`up` also ends silence.)
  Status set_link(const std::string& bridge, bridge::PortNo port, bool up);
  // The same for several ports of one bridge in one console command: every change is made
  // before the bridges' spanning trees run again, as when a switch loses power.
  Status set_links(const std::string& bridge, const std::vector<bridge::PortNo>& ports, bool up);
  // A silent cable: carrier up, no frame crosses either way (Dataplane::set_silent).
  Status set_link_silent(const std::string& bridge, bridge::PortNo port);

  // A bridge's spanning tree: spanning_tree_command().
  Status set_spanning_tree(const std::string& bridge, const StpBridge& stp);
  // Spanning tree off: the engine and everything it learned are gone, every port forwarding
  // (bridge and port settings are kept for the next set_spanning_tree).
  Status stop_spanning_tree(const std::string& bridge);
  // Forgets every learned MAC of the bridge (`fdb/flush`).
  Status flush_fdb(const std::string& bridge);
  // A bridge port's spanning-tree settings (those set, in one `stp/port`; the port exists).
  Status set_stp_port(const std::string& bridge, bridge::PortNo port, const StpPort& stp);

  // Port authentication (docs/nac.md): the bridge's RADIUS server (`nac/radius`), a port's
  // methods and timers (`port/auth N METHODS NAME=VALUE…`), and `nac/show`.
  Status set_radius(const std::string& bridge, const bridge::RadiusServer& server);
  Status set_port_auth(const std::string& bridge, bridge::PortNo port,
                       const bridge::PortAuthSettings& settings);
  Result<nlohmann::json> nac(const std::string& bridge);

  // A port's ARP sender filter (`port/droparp N IP,…`; bridge/arp_filter.hh); empty: off.
  Status set_drop_arp_for(const std::string& bridge, bridge::PortNo port,
                          const std::vector<packet::Ipv4Address>& senders);

  // Impairment of one direction ("in", "out" or "both") of a port's link (`impair/set`): the
  // words of impair/settings.hh, added to the direction's current settings ("clear" first
  // replaces them). `clear_impair` removes it (`impair/clear`).
  Status set_impair(const std::string& bridge, bridge::PortNo port, std::string_view direction,
                    const std::string& words);
  Status clear_impair(const std::string& bridge, bridge::PortNo port, std::string_view direction);

  // JSON answers as the console gives them (docs/switch.md).
  Result<nlohmann::json> bridges();
  Result<nlohmann::json> ports(const std::string& bridge);
  Result<nlohmann::json> fdb(const std::string& bridge);
  // `stp/show`: mode, bridge and root ids, and per port its role and state.
  Result<nlohmann::json> spanning_tree(const std::string& bridge);
  // `impair/show PORT`: one entry per impaired direction (port, direction, settings, counters).
  Result<nlohmann::json> impairments(const std::string& bridge, bridge::PortNo port);

 private:
  explicit SwitchClient(console::Client c) : client_(std::move(c)) {}
  Status select(const std::string& bridge);
  Status run(const std::string& what, const std::string& command);
  Result<nlohmann::json> run_json(const std::string& what, const std::string& command);

  console::Client client_;
  std::string selected_;
};

// `stp/set` with the priority and times written, then the mode: the dataplane checks the pairs
// of one command together (the §17.14 relation holds for the target, not for each step on the
// way) and turns the tree on with them in effect.
std::string spanning_tree_command(const StpBridge& stp);

}  // namespace vnet::lab
