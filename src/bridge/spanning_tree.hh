#pragma once
// SpanningTree: one bridge's spanning tree — the RSTP engine (stp/rstp.hh, IEEE 802.1D-2004
// clause 17) bound to a Bridge. The dataplane owns one per bridge once spanning tree is
// configured, and calls it from the bridge's control hook (which the dataplane owns: EAPOL goes
// to port access control, the other reserved addresses here), on port link changes and on a timer
// at the engine's next tick; everything it does to the bridge is the engine's actions applied:
//   SendBpdu     → the BPDU framed (stp/bpdu.hh: 01-80-C2-00-00-00, LLC 42 42 03, the bridge
//                  address as source) and queued with Bridge::send_control (also on a discarding
//                  port); the caller drains the bridge's output afterwards;
//   SetPortState → Bridge::set_port_state (discarding, learning, forwarding);
//   Flush        → the port's learned FDB entries forgotten (topology change, §17.19.9);
//   role, root, topology, protocol and guard events → a log line each (with the log's wall and
//                  monotonic timestamps, for convergence forensics).
//
// Modes (`stp/set mode`): off (no engine: no BPDUs sent, BPDUs received are consumed and
// counted by the bridge, every port forwarding), stp (ForceProtocolVersion 0: 802.1D
// Configuration and TCN BPDUs only, §17.13.4) and rstp (version 2, with 802.1D compatibility per
// port). Bridge and port settings are kept while the mode is off and apply when it is turned
// on; turning it off sets every port forwarding again.
//
// The bridge identifier's address is derived from the bridge name (a locally administered
// address, stable across restarts), the system ID extension is 0. Every port's link speed is
// taken as 10 Gb/s (a veth's; path cost 2,000 long or 2 short) unless its cost is set.
// Frames to 01-80-C2-00-00-00 that are not valid BPDUs are dropped and counted (`bad_bpdus`);
// other reserved addresses (LACP, EAPOL, LLDP) are not spanning tree's and are ignored here.

#include <map>
#include <memory>
#include <optional>

#include "base/clock.hh"
#include "base/result.hh"
#include "bridge/bridge.hh"
#include "stp/rstp.hh"

namespace vnet::bridge {

enum class StpMode : uint8_t { kOff, kStp, kRstp };
std::string_view stp_mode_name(StpMode m);  // "off", "stp", "rstp"
Result<StpMode> parse_stp_mode(const std::string& text);

class SpanningTree {
 public:
  static constexpr uint32_t kLinkSpeedMbps = 10000;

  explicit SpanningTree(Bridge& bridge);
  ~SpanningTree();
  SpanningTree(const SpanningTree&) = delete;
  SpanningTree& operator=(const SpanningTree&) = delete;

  StpMode mode() const { return mode_; }
  // Turns the engine on (with the kept settings and every port of the bridge) or off.
  // Errors: the kept settings are invalid (cannot happen through set_config).
  Status set_mode(StpMode mode, TimePoint now);
  // Bridge settings; validated by the engine (ranges and the §17.14 timer relations).
  Status set_config(const stp::BridgeConfig& config, TimePoint now);
  const stp::BridgeConfig& config() const { return config_; }
  Status set_port_config(PortNo port, const stp::PortConfig& config, TimePoint now);
  stp::PortConfig port_config(PortNo port) const;

  // The bridge's control hook calls this for every reserved-address frame but EAPOL.
  void on_control(PortNo port, packet::Frame&& frame, TimePoint now);
  // The port's link (Bridge::active) changed, or the port appeared.
  void sync_port(PortNo port, TimePoint now);
  void port_removed(PortNo port, TimePoint now);
  void tick(TimePoint now);
  Status mcheck(PortNo port, TimePoint now);
  Status clear_error(PortNo port, TimePoint now);

  // The engine while the mode is not off.
  const stp::Rstp* engine() const { return engine_ ? &*engine_ : nullptr; }
  std::optional<TimePoint> next_tick() const;
  uint64_t bad_bpdus() const { return bad_bpdus_; }
  const packet::MacAddress& address() const { return address_; }

 private:
  void apply();

  Bridge& br_;
  StpMode mode_ = StpMode::kOff;
  packet::MacAddress address_;
  stp::BridgeConfig config_;
  std::map<PortNo, stp::PortConfig> port_configs_;
  std::optional<stp::Rstp> engine_;
  uint64_t bad_bpdus_ = 0;
};

}  // namespace vnet::bridge
