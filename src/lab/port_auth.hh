#pragma once
// Port authentication in a topology file (IEEE 802.1X-2010, RADIUS; docs/nac.md "In a lab"):
// the key tables and parsers shared by the switch kind (its `radius`, `auth` and `management`
// keys) and links (a switch port's `auth`). Timer names, ranges and meanings come from
// bridge::auth_timer_keys(), the list `port/auth` parses, so a file and the console agree.
//
//   switches:
//     - name: sw
//       radius: {server: 10.0.99.10, secret: testing123}   # HOST[:PORT]; the secret is required
//       auth: {quietPeriod: 10s}                            # defaults for every port below
//       management: {vlan: 99, address: 10.0.99.2/24}      # how the switch reaches the server
//   links:
//     - {endpoints: [pc1, sw], vlan: 10, auth: dot1x}
//     - {endpoints: [pc2, sw], vlan: 10, auth: {methods: dot1x,mac, txPeriod: 2s}}
//
// Errors name the file:line, the switch or link, the key and what was expected.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "bridge/port_access.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;

// A switch port's `auth` (a link's switch end).
struct PortAuth {
  bridge::PortAuthSettings settings;  // the link's own timers; the switch's fill the rest
  Where where;
};

// The switch's RADIUS client.
struct RadiusClient {
  bridge::RadiusServer server;
  Where where;
};

// A management interface: the dataplane's namespace gets an address on an access port of `vlan`
// of the switch (a veth whose one end is the port), as a real switch's management VLAN
// interface; the switch's RADIUS requests leave through it.
struct Management {
  static constexpr uint32_t kDefaultPort = 999;
  uint32_t port = kDefaultPort;
  bridge::VlanId vlan = 1;
  packet::IpPrefix address;  // with its prefix length
  std::optional<std::string> gateway;
  Where where;
};

const KeyTable& auth_timer_table();  // a switch's `auth`: timers only
const KeyTable& port_auth_table();   // a link's `auth` map: methods and timers
const KeyTable& radius_table();
const KeyTable& management_table();
// Schema of a link's `auth`: the methods word, or the map.
nlohmann::json port_auth_schema();

// A link's `auth` (a methods word or a map). nullopt after a diagnostic, or for `off`.
std::optional<PortAuth> parse_port_auth_key(const YAML::Node& v, Reader& r,
                                            const std::string& what);
// A switch's `auth` map of timers into `t`.
void parse_auth_timers(const YAML::Node& map, Reader& r, const std::string& what,
                       bridge::AuthTimers& t);
std::optional<RadiusClient> parse_radius(const YAML::Node& v, Reader& r, const std::string& sw);
std::optional<Management> parse_management(const YAML::Node& v, Reader& r, const std::string& sw);

// The port's timers: its own where set, else the switch's.
bridge::AuthTimers merge_timers(const bridge::AuthTimers& port, const bridge::AuthTimers& sw);

}  // namespace vnet::lab
