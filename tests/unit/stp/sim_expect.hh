#pragma once
// GoogleTest helpers for sim::Network.
#include <gtest/gtest.h>

#include "unit/stp/sim.hh"

// The loop-freedom property (sim::Network::check_tree), with every bridge's view on failure.
#define EXPECT_TREE(net)                   \
  do {                                     \
    std::string why_ = (net).check_tree(); \
    EXPECT_EQ(why_, "") << (net).dump();   \
  } while (0)

namespace vnet::stp::sim {

inline BridgeConfig with_priority(uint16_t priority) {
  BridgeConfig c;
  c.priority = priority;
  return c;
}

inline BridgeConfig stp_only() {
  BridgeConfig c;
  c.force_version = 0;
  return c;
}

}  // namespace vnet::stp::sim
