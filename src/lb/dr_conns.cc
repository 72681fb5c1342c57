#include "lb/dr_conns.hh"

#include <algorithm>

namespace vnet::lb {
namespace {

using S = DrTcpState;

// The state after a segment: IPVS's INPUT-ONLY rows (tcp_states[], ip_vs_proto_tcp.c) restricted
// to the states a connection started by a SYN (or, sloppily, an ACK) can reach. `flags` is
// classified as IPVS's tcp_state_idx() does: RST before SYN before FIN before ACK; a segment
// with none of them closes the connection.
S next_state(S s, uint8_t flags) {
  if (flags & kTcpRst) return s == S::kSynRecv ? S::kSynRecv : S::kClose;
  if (flags & kTcpSyn) return s == S::kEstablished ? S::kEstablished : S::kSynRecv;
  if (flags & kTcpFin) {
    switch (s) {
      case S::kSynRecv:
        return S::kTimeWait;
      case S::kEstablished:
        return S::kFinWait;
      default:
        return s;  // FIN_WAIT, TIME_WAIT and CLOSE stay
    }
  }
  if (flags & kTcpAck) return s == S::kSynRecv ? S::kEstablished : s;
  return S::kClose;
}

}  // namespace

std::optional<DrLogged> parse_dr_logged(std::span<const uint8_t> eth, std::span<const uint8_t> ip) {
  if (eth.size() != 14 || ip.size() < 20) return std::nullopt;
  if ((ip[0] >> 4) != 4) return std::nullopt;
  size_t ihl = size_t(ip[0] & 0x0f) * 4;
  if (ihl < 20 || ip[9] != 6) return std::nullopt;              // IPPROTO_TCP
  if (((ip[6] & 0x1f) << 8 | ip[7]) != 0) return std::nullopt;  // a fragment after the first
  if (ip.size() < ihl + 14) return std::nullopt;                // up to the flags byte
  auto u16 = [](const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); };
  auto u32 = [](const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; };
  DrLogged out;
  std::copy(eth.begin(), eth.begin() + 6, out.dst.bytes.begin());
  out.client.v4.value = u32(&ip[12]);
  out.vip.v4.value = u32(&ip[16]);
  out.client.port = u16(&ip[ihl]);
  out.vip.port = u16(&ip[ihl + 2]);
  out.flags = ip[ihl + 13];
  return out;
}

const char* to_string(DrTcpState s) {
  switch (s) {
    case S::kSynRecv:
      return "SYN_RECV";
    case S::kEstablished:
      return "ESTABLISHED";
    case S::kFinWait:
      return "FIN_WAIT";
    case S::kTimeWait:
      return "TIME_WAIT";
    case S::kClose:
      return "CLOSE";
  }
  return "?";
}

Duration DrConnTracker::timeout(DrTcpState s) const {
  switch (s) {
    case S::kSynRecv:
      return timeouts_.syn_recv;
    case S::kEstablished:
      return timeouts_.established;
    case S::kFinWait:
      return timeouts_.fin_wait;
    case S::kTimeWait:
      return timeouts_.time_wait;
    case S::kClose:
      return timeouts_.close;
  }
  return timeouts_.close;
}

ConnEvent DrConnTracker::event(ConnEvent::Kind kind, const Key& key, const Conn& c) const {
  ConnEvent e;
  e.kind = kind;
  e.id = c.id;
  e.protocol = Protocol::kTcp;
  e.client = key.second;
  e.orig_dst = key.first.addr;
  e.reply_src = c.dest;
  e.established = c.state == S::kEstablished;
  return e;
}

std::optional<ConnEvent> DrConnTracker::on_segment(const DrSegment& seg, TimePoint now) {
  Key key{seg.service, seg.client};
  auto it = conns_.find(key);
  if (it == conns_.end()) {
    // Only a SYN starts a connection in IPVS; an ACK does with sloppy_tcp; a FIN or RST of a
    // connection not followed starts nothing.
    if (seg.flags & (kTcpRst | kTcpFin)) return std::nullopt;
    if (!(seg.flags & (kTcpSyn | kTcpAck))) return std::nullopt;
    if (conns_.size() >= max_) {
      ++overflow_;
      return std::nullopt;
    }
    Conn c;
    c.id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    c.dest = seg.dest;
    c.state = (seg.flags & kTcpSyn) ? S::kSynRecv : S::kEstablished;
    c.deadline = now + timeout(c.state);
    deadlines_.insert({c.deadline, key});
    auto [pos, _] = conns_.emplace(key, c);
    return event(ConnEvent::kNew, key, pos->second);
  }
  Conn& c = it->second;
  S next = next_state(c.state, seg.flags);
  bool changed = (next == S::kEstablished) != (c.state == S::kEstablished) || !(c.dest == seg.dest);
  deadlines_.erase({c.deadline, key});
  c.state = next;
  c.dest = seg.dest;
  c.deadline = now + timeout(next);
  deadlines_.insert({c.deadline, key});
  if (!changed) return std::nullopt;
  return event(ConnEvent::kUpdate, key, c);
}

std::vector<ConnEvent> DrConnTracker::expire(TimePoint now) {
  std::vector<ConnEvent> out;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Key key = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = conns_.find(key);
    if (it == conns_.end()) continue;
    out.push_back(event(ConnEvent::kDestroy, key, it->second));
    conns_.erase(it);
  }
  return out;
}

std::optional<TimePoint> DrConnTracker::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<ConnEvent> DrConnTracker::snapshot() const {
  std::vector<ConnEvent> out;
  out.reserve(conns_.size());
  for (auto& [key, c] : conns_) out.push_back(event(ConnEvent::kNew, key, c));
  return out;
}

std::optional<DrTcpState> DrConnTracker::state(const ServiceKey& service,
                                               const Endpoint& client) const {
  auto it = conns_.find(Key{service, client});
  if (it == conns_.end()) return std::nullopt;
  return it->second.state;
}

}  // namespace vnet::lb
