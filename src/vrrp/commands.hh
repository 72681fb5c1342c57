#pragma once
// Console commands of the VRRP daemon, thin: they read the Daemon and format.
//
//   vrrp/show [INSTANCE]   state, priorities, timers, virtual addresses and counters per
//                          instance (the Router's receive checks of RFC 5798 §7.1, the port's
//                          malformed and bad-checksum drops); --json for tools and tests.
// Errors: ENXIO for an INSTANCE that does not exist.

#include <nlohmann/json.hpp>

#include "console/console.hh"
#include "vrrp/daemon.hh"

namespace vnet::vrrp {

// One JSON object per instance, in name order.
nlohmann::json show_json(const Daemon& daemon);
void register_commands(console::Registry& registry, const Daemon& daemon);

}  // namespace vnet::vrrp
