// libFuzzer target: one RSTP engine (IEEE 802.1D-2004 clause 17, src/stp/rstp.hh) driven by a
// fuzzer-chosen sequence of inputs: BPDUs of every type with any field values, link events with
// any speed and duplex, port and bridge configuration changes, mcheck, clear_error, port removal
// and time steps (forwards by up to a few seconds, a long jump, or backwards).
//
// Properties, after every input:
//  - nothing crashes and the state machines come to rest within their bound (the engine's
//    iteration_limit counter stays 0: "a bound hit is counted, never expected");
//  - a port's forwarding state only moves discarding → learning → forwarding, or back to
//    discarding (rstp.hh: "in the standard's order"), and port_status() says the last state
//    reported by SetPortState;
//  - every BPDU sent is for a port the engine has, and encodes to bytes that decode (a neighbour
//    accepts them) and re-encode to the same bytes, unless its message age has reached its max
//    age;
//  - next_tick() lies in the future.
//
// Run: mkdir -p /tmp/rstp-corpus && ./build/fuzz/tests/fuzz_rstp -max_total_time=60
// /tmp/rstp-corpus
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>

#include "base/byte_io.hh"
#include "stp/rstp.hh"

namespace {

using namespace vnet;
using namespace vnet::stp;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr PortNo kPorts = 4;

Bpdu make_bpdu(ByteReader& in) {
  static constexpr BpduType kTypes[] = {BpduType::kConfig, BpduType::kRst, BpduType::kTcn};
  Bpdu b;
  b.type = kTypes[in.u8() % 3];
  b.version = in.u8() % 4;
  const uint8_t f = in.u8();
  b.flags = {.topology_change = (f & 0x01) != 0,
             .proposal = (f & 0x02) != 0,
             .role = static_cast<BpduRole>((f >> 2) & 3),
             .learning = (f & 0x10) != 0,
             .forwarding = (f & 0x20) != 0,
             .agreement = (f & 0x40) != 0,
             .topology_change_ack = (f & 0x80) != 0};
  // Few distinct ids, so that BPDUs compare equal, better and worse, and some are our own
  // (MAC 02:00:00:00:00:aa, priority 32768).
  auto id = [&] {
    uint8_t v = in.u8();
    if (v == 0xff) return BridgeId::make(32768, 0, packet::MacAddress::from_u64(0x0200000000aa));
    return BridgeId{uint64_t{v & 0xf0u} << 56 | (0x020000000000ULL + (v & 0x0f))};
  };
  b.root = id();
  b.root_path_cost = in.u8() % 2 ? in.u8() * 1000u : in.u32();
  b.bridge = id();
  uint8_t port = in.u8();
  b.port = PortId::make(static_cast<uint8_t>(port & 0xf0), static_cast<uint16_t>(port & 0x07));
  // Times: mostly plausible seconds, sometimes anything.
  if (in.u8() % 4) {
    b.times = {to_wire(in.u8() % 25), to_wire(in.u8() % 45), to_wire(in.u8() % 12),
               to_wire(in.u8() % 35)};
  } else {
    b.times = {in.u16(), in.u16(), in.u16(), in.u16()};
  }
  return b;
}

PortConfig make_port_config(ByteReader& in) {
  PortConfig c;
  const uint8_t f = in.u8();
  c.admin_edge = f & 0x01;
  c.auto_edge = f & 0x02;
  c.bpdu_guard = f & 0x04;
  c.bpdu_filter = f & 0x08;
  c.root_guard = f & 0x10;
  c.loop_guard = f & 0x20;
  c.enabled = !(f & 0x40);
  c.p2p = static_cast<AdminP2p>(in.u8() % 3);
  c.priority = static_cast<uint8_t>(in.u8() & 0xf0);
  c.path_cost = in.u8() % 2 ? 0 : 1 + in.u16();
  return c;
}

BridgeConfig make_bridge_config(ByteReader& in) {
  BridgeConfig c;
  c.priority = static_cast<uint16_t>((in.u8() % 16) * 4096);
  c.force_version = in.u8() % 2 ? 2 : 0;
  c.hello_time = static_cast<uint16_t>(1 + in.u8() % 2);
  c.forward_delay = static_cast<uint16_t>(4 + in.u8() % 27);
  c.max_age = static_cast<uint16_t>(6 + in.u8() % 35);
  c.tx_hold_count = static_cast<uint8_t>(1 + in.u8() % 10);
  return c;  // may break §17.14's relation: then configure() refuses it, which is fine
}

bool sendable(const Bpdu& b) {
  return b.type == BpduType::kTcn || b.times.message_age < b.times.max_age;
}

struct Checker {
  Rstp& engine;
  std::map<PortNo, PortState> states;

  void take() {
    std::vector<Action> actions = engine.take_actions();
    check(actions.size() < 100000);
    for (const Action& a : actions) {
      if (auto* s = std::get_if<SetPortState>(&a)) {
        auto it = states.find(s->port);
        PortState from = it == states.end() ? PortState::kDiscarding : it->second;
        if (s->state == PortState::kLearning) check(from == PortState::kDiscarding);
        if (s->state == PortState::kForwarding) check(from == PortState::kLearning);
        states[s->port] = s->state;
      } else if (auto* b = std::get_if<SendBpdu>(&a)) {
        check(engine.port_config(b->port).has_value());
        if (sendable(b->bpdu)) {
          const std::vector<uint8_t> bytes = encode_bpdu(b->bpdu);
          auto d = decode_bpdu(bytes);
          check(d.ok() && encode_bpdu(*d) == bytes);
        }
      }
    }
    for (PortNo p : engine.ports()) {
      auto st = engine.port_status(p);
      check(st.has_value());
      auto it = states.find(p);
      check(st->state == (it == states.end() ? PortState::kDiscarding : it->second));
    }
    check(engine.status().counters.iteration_limit == 0);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(std::span<const uint8_t>(data, size));
  TimePoint now{std::chrono::seconds(1000)};
  BridgeConfig bc = make_bridge_config(in);
  if (!validate(bc).ok()) bc = BridgeConfig{};
  auto r = Rstp::create(bc, packet::MacAddress::from_u64(0x0200000000aa), now);
  check(r.ok());
  Rstp& e = *r;
  Checker c{e, {}};
  for (PortNo p = 1; p <= kPorts; ++p) check(e.add_port(p, PortConfig{}, now).ok());
  c.take();
  int steps = 0;
  while (in.remaining() > 0 && ++steps < 2000) {
    const uint8_t op = in.u8();
    const PortNo port = 1 + in.u8() % (kPorts + 1);  // kPorts + 1 is never added
    switch (op % 12) {
      case 0:
        e.link_up(port, in.u8() % 4 ? 1000 : in.u32(), in.u8() % 2, now);
        break;
      case 1:
        e.link_down(port, now);
        break;
      case 2:
        e.mcheck(port, now);
        break;
      case 3:
        (void)e.clear_error(port, now);
        break;
      case 4:
        (void)e.configure_port(port, make_port_config(in), now);
        break;
      case 5:
        (void)e.configure(make_bridge_config(in), now);
        break;
      case 6:
        if (in.u8() % 8 == 0) {
          if (e.remove_port(port, now).ok()) c.states.erase(port);
        } else if (e.add_port(port, make_port_config(in), now).ok()) {
          c.states.erase(port);
        }
        break;
      case 7: {
        // Time: mostly small steps forwards, sometimes a long jump or backwards.
        const uint8_t t = in.u8();
        if (t == 0xff) {
          now += std::chrono::minutes(10);
        } else if (t == 0xfe) {
          now -= std::chrono::seconds(5);
        } else {
          now += std::chrono::milliseconds(t * 20);
        }
        e.tick(now);
        break;
      }
      default:
        e.receive(port, make_bpdu(in), now);
        break;
    }
    c.take();
    check(e.next_tick() > now);
  }
  return 0;
}
