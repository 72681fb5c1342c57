#include "bridge/impair_stage.hh"

#include <algorithm>

#include "base/hash.hh"
#include "packet/offload.hh"

namespace vnet::bridge {

using packet::Frame;

DropReason impair_drop_reason(impair::Cause cause) {
  switch (cause) {
    case impair::Cause::kCarrierDown:
      return DropReason::kImpairCarrierDown;
    case impair::Cause::kMtu:
      return DropReason::kImpairMtu;
    case impair::Cause::kEveryNth:
      return DropReason::kImpairEveryNth;
    case impair::Cause::kLoss:
      return DropReason::kImpairLoss;
    case impair::Cause::kBurstLoss:
      return DropReason::kImpairBurstLoss;
    case impair::Cause::kQueueFull:
    case impair::Cause::kNone:
    case impair::Cause::kCount:
      break;
  }
  return DropReason::kImpairQueueFull;
}

uint64_t impair_link_seed(uint64_t dataplane_seed, std::string_view bridge, PortNo port) {
  uint64_t h = kFnv1aOffsetBasis ^ dataplane_seed;
  h *= 1099511628211ull;
  h = fnv1a(bridge, h);
  h = fnv1a(":", h);
  h = fnv1a(std::to_string(port), h);
  return h;
}

// The bytes a frame puts on the wire: for a GSO frame (vnet_hdr offload, a TCP or UDP segment
// train carried as one frame) each gso_size piece of payload with its own copy of the headers,
// as the kernel counts a GSO packet's length for its qdiscs (qdisc_pkt_len_init), so a rate
// limit spaces a train as the segments it becomes. Headers end after the L4 header at
// csum_start (TCP: its data offset; UDP: 8 bytes); a frame too short for that counts as is.
uint32_t wire_size(const Frame& f) {
  const packet::OffloadInfo& o = f.offload;
  const size_t size = f.size();
  const uint8_t type = o.gso_type & 0x7f;  // without VIRTIO_NET_HDR_GSO_ECN
  if (type == packet::OffloadInfo::kGsoNone || o.gso_size == 0) return static_cast<uint32_t>(size);
  size_t headers = o.csum_start;
  if (type == 1 || type == 4) {  // VIRTIO_NET_HDR_GSO_TCPV4, _TCPV6
    if (headers + 13 > size) return static_cast<uint32_t>(size);
    headers += static_cast<size_t>(f.data()[headers + 12] >> 4) * 4;
  } else {
    headers += 8;  // _UDP, _UDP_L4
  }
  if (headers >= size) return static_cast<uint32_t>(size);
  const size_t segments = (size - headers + o.gso_size - 1) / o.gso_size;
  return static_cast<uint32_t>(size + (segments - 1) * headers);
}

ImpairStage::ImpairStage(Bridge& bridge, PortNo port, uint64_t link_seed,
                         std::string_view direction, const impair::Settings& settings,
                         TimePoint now)
    : bridge_(bridge),
      port_(port),
      direction_(direction),
      engine_(link_seed, direction, settings, now),
      per_segment_(per_segment(settings)) {}

uint32_t ImpairStage::take_slot() {
  if (free_.empty()) {
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  uint32_t s = free_.back();
  free_.pop_back();
  return s;
}

void ImpairStage::drop(impair::Cause cause, const Frame& frame) {
  bridge_.count_drop(port_, impair_drop_reason(cause));
  count_drop();
  report_drop(frame, impair_drop_reason(cause));
}

// Loss, rate, MTU, corruption, duplication, every-Nth and reordering act on what a wire carries:
// segments. Delay, jitter and carrier treat a GSO train as one (its segments would share them).
bool ImpairStage::per_segment(const impair::Settings& s) {
  return s.loss_model != impair::LossModel::kNone || s.rate_bps != 0 || s.mtu != 0 ||
         s.duplicate > 0 || s.corrupt > 0 || s.noise_per_mib > 0 || s.drop_every != 0 ||
         s.reorder > 0;
}

void ImpairStage::apply(const impair::Settings& settings, TimePoint now) {
  engine_.apply(settings, now);
  per_segment_ = per_segment(settings);
}

void ImpairStage::process(std::span<Frame> in, std::vector<Frame>& pass, TimePoint now) {
  for (Frame& f : in) {
    if (per_segment_ && f.offload.gso_type != packet::OffloadInfo::kGsoNone) {
      segments_.clear();
      if (packet::segment_gso(f, segments_)) {
        for (Frame& seg : segments_) offer(seg, now);
        continue;
      }
    }
    offer(f, now);
  }
  release_due(now, pass, false);
}

void ImpairStage::offer(Frame& f, TimePoint now) {
  const uint32_t slot = take_slot();
  const impair::Verdict v = engine_.offer(now, wire_size(f), slot);
  if (v.drop != impair::Cause::kNone) {
    drop(v.drop, f);
    free_.push_back(slot);
    return;
  }
  Slot& s = slots_[slot];
  bool held_later = false;
  for (uint8_t c = v.copies; c-- > 0;) {  // the duplicate first: it is cloned before flips
    const impair::CopyVerdict& cv = v.copy[c];
    if (cv.drop != impair::Cause::kNone) {
      drop(cv.drop, f);  // f is moved into copy 0 last
      continue;
    }
    s.copy[c] = c == 0 ? std::move(f) : f.clone();
    impair::apply_flips(cv, s.copy[c].bytes());
    if (cv.due > now) held_later = true;
    ++s.pending;
  }
  if (s.pending == 0) {
    free_.push_back(slot);
  } else if (held_later) {
    for (uint8_t c = 0; c < v.copies; ++c) {
      if (!s.copy[c].empty()) s.copy[c].shrink_to_fit();
    }
  }
}

void ImpairStage::hand_over(const impair::Release& r, std::vector<Frame>& out) {
  Slot& s = slots_[r.handle];
  out.push_back(std::move(s.copy[r.copy]));
  s.copy[r.copy] = Frame();
  if (--s.pending == 0) free_.push_back(static_cast<uint32_t>(r.handle));
}

void Lateness::add(Duration late) {
  const int64_t ns = std::max<int64_t>(late.count(), 0);
  ++count;
  sum_ns += ns;
  max_ns = std::max(max_ns, ns);
  size_t b = 0;
  while (b < kBoundsUs.size() && ns >= kBoundsUs[b] * 1000) ++b;
  ++buckets[b];
}

uint64_t Lateness::at_least(int64_t us) const {
  uint64_t n = 0;  // bucket i ≥ 1 starts at kBoundsUs[i - 1]
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (kBoundsUs[i - 1] >= us) n += buckets[i];
  }
  return n;
}

void ImpairStage::release(TimePoint now, std::vector<Frame>& pass) { release_due(now, pass, true); }

void ImpairStage::release_due(TimePoint now, std::vector<Frame>& pass, bool timed) {
  releases_.clear();
  engine_.poll(now, releases_);
  for (const auto& r : releases_) {
    if (timed) lateness_.add(now - r.due);
    hand_over(r, pass);
  }
}

void ImpairStage::take_held(std::vector<Frame>& out) {
  releases_.clear();
  engine_.take_all(releases_);
  for (const auto& r : releases_) hand_over(r, out);
}

}  // namespace vnet::bridge
