#pragma once
// The forwarding state of a bridge port, IEEE 802.1D-2004 §7.4 / §17.10 (RSTP's three states;
// STP's blocking and listening are discarding). One definition for the spanning tree engine that
// decides it and the bridge that applies it.

#include <cstdint>
#include <string_view>

namespace vnet::stp {

enum class PortState : uint8_t { kDiscarding, kLearning, kForwarding };
std::string_view state_name(PortState s);  // "discarding", "learning", "forwarding"

}  // namespace vnet::stp
