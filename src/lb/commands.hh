#pragma once
// Console commands of the load-balancing half, thin: they read the Director and format.
//
//   lb/show   virtual servers and their real servers as `ipvsadm -Ln` lists them (forwarding,
//             effective weight), with each real server's state (alive, in the table) and its
//             checkers' last result; then the traffic counters as `ipvsadm -Ln --stats` lists
//             them (Conns InPkts OutPkts InBytes OutBytes per service and real server; "-" where
//             the datapath does not count); --json for tools and tests.

#include <nlohmann/json.hpp>

#include "console/console.hh"
#include "lb/director.hh"

namespace vnet::lb {

// [{service, scheduler, forwarding, quorum_up, conns, inpkts, outpkts, inbytes, outbytes,
//   reals: [{address, weight, configured_weight, alive, in_table, conns, inpkts, outpkts,
//   inbytes, outbytes, checkers: [{type, up, last: {success, detail, age_ms}}]}], sorry}]
// Counters (lb/stats.hh) are null for a service the datapath does not count (and conns for one
// it counts no connections of); a service's are the sum over its real servers. The first form
// reads the datapath's counters.
nlohmann::json show_json(const Director& director, TimePoint now);
nlohmann::json show_json(const Director& director, TimePoint now, const Stats& stats);
void register_commands(console::Registry& registry, const Director& director, const Clock& clock);

}  // namespace vnet::lb
