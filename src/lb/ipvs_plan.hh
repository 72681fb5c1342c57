#pragma once
// From the director's table (lb/balancer.hh) to IPVS requests (lb/ipvs_genl.hh), without I/O:
// what keepalived's check/ipwrapper.c asks of the kernel. A virtual server becomes one IPVS
// service, a virtual_server_group one per entry (a VIP range one per address), each with the
// same real servers; persistence_timeout is the service's timeout and IP_VS_SVC_F_PERSISTENT,
// persistence_granularity its netmask, scheduler flags IP_VS_SVC_F_SCHED1..3 / ONEPACKET.
//
// ipvs_plan(old, now) lists the requests that turn the kernel's table from `old` into `now`, in
// the order keepalived issues them: services that go are deleted first (their destinations go
// with them), then changed services are set, new ones added, and then each service's
// destinations removed, changed and added. Applying the requests of ipvs_plan({}, t) to an
// empty table gives what `ipvsadm -Ln` would list for t.

#include <optional>
#include <vector>

#include "lb/balancer.hh"
#include "lb/ipvs_genl.hh"

namespace vnet::lb {

struct IpvsRequest {
  ipvs::Cmd cmd;
  ipvs::Service service;
  std::optional<ipvs::Dest> dest;
  friend bool operator==(const IpvsRequest&, const IpvsRequest&) = default;
};

// The IPVS services of one table entry (EINVAL: a persistence_granularity that is neither a
// netmask nor a prefix length, or a scheduler flag IPVS does not have).
Result<std::vector<ipvs::Service>> ipvs_services(const TableService& s);
ipvs::Dest ipvs_dest(const TableService& s, const TableDest& d);

Result<std::vector<IpvsRequest>> ipvs_plan(const Table& old, const Table& now);

}  // namespace vnet::lb
