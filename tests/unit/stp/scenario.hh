#pragma once
// Spanning tree scenarios: a small text language that builds a simulated bridged network
// (unit/stp/sim.hh), drives it through events in virtual time and checks what the IEEE
// 802.1D-2004 clause 17 engine must make of it — roles, forwarding states, the root, flushes,
// BPDU counts, and the loop-freedom property. The format is described with an example in
// tests/stp/README.md; in short, one statement per line, `#` starts a comment:
//
//   bridge NAME [priority N] [version rstp|stp|legacy] [hello S] [max-age S]
//               [forward-delay S] [hold N] [cost-method long|short]
//   port B:P [cost N] [priority N] [edge|no-edge] [auto-edge|no-auto-edge] [p2p auto|yes|no]
//            [bpdu-guard|no-bpdu-guard] [bpdu-filter|no-…] [root-guard|no-…] [loop-guard|no-…]
//            [enabled|disabled]
//   link B:P B:P [speed MBPS] [as NAME]      point-to-point, full duplex (default 1000 Mb/s)
//   lan NAME B:P… [speed MBPS]               shared, half duplex (default 100 Mb/s)
//   host B:P [speed MBPS]                    a segment with only that port (a silent end host)
//   down|up SEG          carrier lost/back on a segment (SEG: its name or any of its ports)
//   dead|alive SEG       carrier stays but nothing is carried (indirect failure) / repaired
//   silent|unsilent B:P  the BPDUs this port sends are lost (one-way control failure)
//   unplug|plug B:P      one port loses/regains its carrier
//   remove B             the bridge is switched off: its point-to-point links lose carrier at
//                        both ends, it leaves its LANs; nothing may refer to it afterwards but
//                        expectations
//   set B <bridge options>    management change at run time
//   set B:P <port options>    management change at run time
//   mcheck B:P           §17.19.13 protocol migration check
//   clear B:P            re-enable a port error-disabled by BPDU guard
//   run DURATION         virtual time passes ("3s", "500ms")
//   mark                 counters in later expectations count from here
//   expect … [within DURATION]   see below
//   known-failure TEXT   the scenario is known to fail (an engine defect, TEXT says which)
//
// Expectations (each may end with `within D`: virtual time runs, in the simulator's 100 ms steps,
// until it holds, failing if it does not within D):
//   expect root B                  every bridge physically connected to B has B as its root
//   expect B [root B2] [cost N] [root-port P|none] [tc|no-tc]
//   expect B:P [ROLE] [STATE] [FLAG…]   ROLE disabled|root|designated|alternate|backup; STATE
//                                  discarding|learning|forwarding; FLAG edge, p2p, enabled,
//                                  error-disabled, root-inconsistent, loop-inconsistent, tc
//                                  (each negated with a `no-` prefix), rstp|stp (the BPDUs the
//                                  port sends)
//   expect tree                    the forwarding ports form a spanning tree (sim check_tree)
//   expect converged               the tree holds; every port's forwarding state is where its
//                                  role settles (root and designated forwarding, except a
//                                  loop-inconsistent one; alternate, backup, disabled
//                                  discarding; a port without link has the disabled role), ports
//                                  on dead segments aside (they carry nothing); and bridges
//                                  joined through forwarding ports agree on the root
//   expect flushed B:P             at least one flush since the last mark
//   expect flushes B:P OP N        OP one of == != < <= > >=
//   expect bpdus B:P in|out KIND OP N   KIND any|rst|config|tcn, and for out also
//                                  tc|tca|proposal|agreement (sent BPDUs with that flag)
//   expect topology-changes B OP N
//
// Bridge ids: bridges get the MAC address 02:00:00:00:00:NN in declaration order (NN = 1, 2, …),
// so between equal priorities the bridge declared first is the better one.
//
// Errors are collected, each "FILE:LINE: what was found: what was expected"; a scenario with no
// expectation is refused (it could never fail). Running reports each failed expectation as
// "FILE:LINE: expect …: got …" and goes on; an action the engine refuses stops the run.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "stp/rstp.hh"

namespace vnet::stp::scenario {

struct PortName {
  std::string bridge;
  PortNo port = 0;
  friend auto operator<=>(const PortName&, const PortName&) = default;
};
std::string to_string(const PortName& p);  // "sw1:2"

enum class Version : uint8_t { kRstp, kStp, kLegacy };

// ---- statements ---------------------------------------------------------------------------------
// The parser resolves every reference and keeps each bridge's and port's configuration, so that
// statements carry the complete configuration to apply.

struct AddBridge {
  std::string name;
  BridgeConfig config;
  bool legacy = false;  // an 802.1D-1998 bridge: RST BPDUs sent to it are lost
};
struct AddPort {
  PortName port;
  PortConfig config;
};
struct AddSegment {
  std::string name;
  std::vector<PortName> ports;
  uint32_t speed_mbps = 1000;
  bool lan = false;  // shared, half duplex
};
struct SegmentEvent {
  enum Kind : uint8_t { kDown, kUp, kDead, kAlive } kind = kDown;
  std::string segment;
};
struct PortEvent {
  enum Kind : uint8_t { kSilent, kUnsilent, kUnplug, kPlug, kMcheck, kClear } kind = kSilent;
  PortName port;
};
struct RemoveBridge {
  std::string name;
};
struct SetBridge {
  std::string name;
  BridgeConfig config;
  bool legacy = false;
};
struct SetPort {
  PortName port;
  PortConfig config;
};
struct Run {
  Duration duration{};
};
struct Mark {};

enum class Op : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct ExpectRoot {
  std::string root;
};
struct ExpectBridge {
  std::string bridge;
  std::optional<std::string> root;
  std::optional<uint32_t> cost;
  std::optional<std::optional<PortNo>> root_port;  // nullopt inside: the bridge is the root
  std::optional<bool> topology_change;
};
enum class PortFlag : uint8_t {
  kEdge,
  kP2p,
  kEnabled,
  kErrorDisabled,
  kRootInconsistent,
  kLoopInconsistent,
  kTopologyChange,
  kRstp
};
struct ExpectPort {
  PortName port;
  std::optional<PortRole> role;
  std::optional<PortState> state;
  std::vector<std::pair<PortFlag, bool>> flags;
};
struct ExpectTree {};
struct ExpectConverged {};
struct ExpectCount {
  enum What : uint8_t { kFlushes, kBpdusIn, kBpdusOut, kTopologyChanges } what = kFlushes;
  // kBpdusIn: any rst config tcn; kBpdusOut: those and tc tca proposal agreement.
  std::string kind;
  PortName port;  // kTopologyChanges: only the bridge
  Op op = Op::kGe;
  uint64_t value = 0;
};
using Check =
    std::variant<ExpectRoot, ExpectBridge, ExpectPort, ExpectTree, ExpectConverged, ExpectCount>;
struct Expect {
  Check check;
  std::optional<Duration> within;
  std::string text;  // the statement as written, for messages
};

using Action = std::variant<AddBridge, AddPort, AddSegment, SegmentEvent, PortEvent, RemoveBridge,
                            SetBridge, SetPort, Run, Mark, Expect>;

struct Statement {
  int line = 0;
  Action action;
};

struct Scenario {
  std::string file;  // for messages
  std::vector<Statement> statements;
  std::optional<std::string> known_failure;
};

// Parses a whole scenario. The error message lists every problem found, one per line, each
// "FILE:LINE: …", e.g. "a.scn:4: port sw9:1: no bridge sw9 declared before this line".
Result<Scenario> parse(std::string_view text, const std::string& file);
// Reads (regular files only, size-limited) and parses.
Result<Scenario> load(const std::string& path);

struct Outcome {
  std::vector<std::string> failures;  // "FILE:LINE: …" each
  std::string dump;                   // every bridge's view at the end (when something failed)
};
// Runs the scenario on a fresh simulated network starting at virtual time 1000 s.
Outcome run(const Scenario& scenario);

// Scenario statements in virtual time must not run away: the sum of every `run` and `within`.
constexpr Duration kMaxVirtualTime = std::chrono::hours(2);

}  // namespace vnet::stp::scenario
