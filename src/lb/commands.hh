#pragma once
// Console commands of the load-balancing half, thin: they read the Director and format.
//
//   lb/show   virtual servers and their real servers as `ipvsadm -Ln` lists them (forwarding,
//             effective weight), with each real server's state (alive, in the table) and its
//             checkers' last result; --json for tools and tests.

#include <nlohmann/json.hpp>

#include "console/console.hh"
#include "lb/director.hh"

namespace vnet::lb {

// [{service, scheduler, forwarding, quorum_up, reals: [{address, weight, configured_weight,
//   alive, in_table, checkers: [{type, up, last: {success, detail, age_ms}}]}], sorry}]
nlohmann::json show_json(const Director& director, TimePoint now);
void register_commands(console::Registry& registry, const Director& director, const Clock& clock);

}  // namespace vnet::lb
