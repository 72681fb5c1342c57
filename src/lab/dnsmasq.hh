#pragma once
// dnsmasq for a lab network (lab/networks.hh): the configuration vnet generates and the lease
// database it reads back, both pure text functions (the kind in lab/kind_network.cc writes the
// files and runs `dnsmasq --keep-in-foreground --conf-file=…` in the service namespace).
//
// What dnsmasq serves (dnsmasq(8) 2.90):
//   DHCPv4 (RFC 2131) on eth0 only: `dhcp-range` pools, `dhcp-host` static leases by MAC, the
//     gateway as router (option 3, none for an isolated network) and DNS server (option 6), the
//     domain (option 15); the lease database in the lab's state directory.
//   DNS on eth0 only: the lab's node names as NODE.DOMAIN (a hosts file plus the names clients
//     send in DHCP), every other name through the forwarders (none: answered locally only).
//   Router advertisements (RFC 4861 §6.2) with the IPv6 prefix for SLAAC (`ra-only`); router
//     lifetime 0 on an isolated network (no default route through it).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "lab/networks.hh"
#include "packet/address.hh"

namespace vnet::lab {

// A static lease with its MAC known (a node's comes from the planner).
struct ResolvedLease {
  packet::MacAddress mac;
  packet::Ipv4Address address;
  std::string name;  // empty: none
};

struct DnsmasqFiles {
  std::string hosts;   // network_hosts_file() text
  std::string leases;  // the lease database
  std::string pid;
};

// The configuration file for network `net` (comment names `label`).
std::string dnsmasq_config(const NetworkSpec& net, const std::vector<ResolvedLease>& leases,
                           const DnsmasqFiles& files, const std::string& label);

// One line of dnsmasq's lease database ("EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID"; DHCPv6 entries,
// after the "duid" line, are skipped).
struct DnsmasqLease {
  long long expires = 0;               // seconds since the epoch; 0 = infinite
  std::string mac, address, hostname;  // hostname "" when the client sent none ("*")
  friend bool operator==(const DnsmasqLease&, const DnsmasqLease&) = default;
};
std::vector<DnsmasqLease> parse_dnsmasq_leases(std::string_view text);

}  // namespace vnet::lab
