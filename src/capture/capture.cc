#include "capture/capture.hh"

#include <pcap/pcap.h>

#include <algorithm>

namespace vnet::capture {

std::string_view point_name(Point p) { return p == Point::kPre ? "pre" : "post"; }

Result<Filter> Filter::compile(const std::string& expression, uint32_t snaplen) {
  Filter f;
  f.expression_ = expression;
  if (expression.empty()) return f;
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, static_cast<int>(std::max<uint32_t>(snaplen, 64)));
  if (!dead) return make_error(ENOMEM, "capture filter: pcap_open_dead failed");
  auto prog = std::make_unique<bpf_program>();
  if (pcap_compile(dead, prog.get(), expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string why = pcap_geterr(dead);
    pcap_close(dead);
    return make_error(EINVAL, "capture filter '{}': {}", expression, why);
  }
  pcap_close(dead);
  f.program_ = std::move(prog);
  return f;
}

Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&& o) noexcept {
  if (this != &o) {
    if (program_) pcap_freecode(program_.get());
    expression_ = std::move(o.expression_);
    program_ = std::move(o.program_);
  }
  return *this;
}
Filter::~Filter() {
  if (program_) pcap_freecode(program_.get());
}

bool Filter::accepts(std::span<const uint8_t> captured, uint32_t wire_length) const {
  if (!program_) return true;
  pcap_pkthdr h{};
  h.caplen = static_cast<bpf_u_int32>(captured.size());
  h.len = wire_length;
  return pcap_offline_filter(program_.get(), &h, captured.data()) != 0;
}

Capture::Capture(uint64_t id, const Options& options, std::vector<Interface> interfaces,
                 Filter filter, int64_t epoch_offset_ns, TimePoint now)
    : id_(id),
      options_(options),
      interfaces_(std::move(interfaces)),
      counters_(interfaces_.size()),
      filter_(std::move(filter)),
      epoch_offset_ns_(epoch_offset_ns),
      started_(now) {
  append_section_header(buf_, kApplication);
  for (auto& i : interfaces_) append_interface(buf_, i);
}

uint64_t Capture::timestamp(TimePoint t) const {
  return static_cast<uint64_t>(t.time_since_epoch().count() + epoch_offset_ns_);
}

bool Capture::add(uint32_t interface, Direction direction, const packet::Frame& frame,
                  std::string_view comment, TimePoint now) {
  InterfaceCounters& c = counters_[interface];
  ++c.seen;
  std::span<const uint8_t> bytes = frame.bytes();
  uint32_t snap = options_.snaplen ? options_.snaplen : UINT32_MAX;
  std::span<const uint8_t> kept = bytes.first(std::min<size_t>(bytes.size(), snap));
  if (!filter_.accepts(kept, static_cast<uint32_t>(bytes.size()))) return false;
  ++c.accepted;
  Packet p{interface, timestamp(now), kept, static_cast<uint32_t>(bytes.size()),
           direction, comment};
  if (pending() + packet_block_size(p) > options_.buffer_bytes) {
    ++c.lost;
    return false;
  }
  if (taken_ > 0 && taken_ == buf_.size() && batch_.empty()) {
    buf_.clear();
    taken_ = 0;
  }
  size_t at = buf_.size();
  append_packet(buf_, p);
  if (comment.empty()) {
    batch_.push_back(Recorded{bytes.data(),
                              p.original_length,
                              static_cast<uint32_t>(kept.size()),
                              at,
                              buf_.size() - at,
                              interface,
                              direction,
                              p.timestamp_ns,
                              {},
                              false});
  }
  ++c.kept;
  return true;
}

void Capture::record(uint32_t interface, Direction direction, std::span<const packet::Frame> frames,
                     TimePoint now) {
  if (finished_) return;
  write_marks();
  batch_.clear();
  mark_hint_ = 0;
  bool any = false;
  for (const auto& f : frames) any |= add(interface, direction, f, {}, now);
  if (any && on_output) on_output();
}

// Frames are usually dropped in the order they were recorded: the search starts after the
// latest match.
void Capture::mark_dropped(const packet::Frame& frame, std::string_view reason) {
  const size_t n = batch_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = (mark_hint_ + k) % n;
    Recorded& r = batch_[i];
    if (r.data != frame.data() || r.length != frame.size() || !r.dropped.empty()) continue;
    r.dropped = reason;
    first_mark_ = std::min(first_mark_, i);
    mark_hint_ = i + 1;
    return;
  }
}

// One pass over the batch's blocks from the first marked one: each marked block is written again
// from its recorded bytes (a stage may have changed the frame since: corruption) with the
// comment; the others, and blocks recorded in between (record_dropped), are copied.
void Capture::write_marks() {
  if (first_mark_ >= batch_.size()) {
    first_mark_ = SIZE_MAX;
    return;
  }
  const size_t from = batch_[first_mark_].offset;
  tail_.assign(buf_, from, std::string::npos);
  buf_.resize(from);
  size_t pos = 0;  // in tail_
  for (size_t i = first_mark_; i < batch_.size(); ++i) {
    Recorded& r = batch_[i];
    const size_t at = r.offset - from, old_size = r.size;
    buf_.append(tail_, pos, at - pos);
    r.offset = buf_.size();
    if (!r.dropped.empty() && !r.written) {
      comment_.assign("dropped: ");
      comment_ += r.dropped;
      auto* data = reinterpret_cast<const uint8_t*>(tail_.data() + at + kPacketDataOffset);
      append_packet(
          buf_,
          Packet{r.interface, r.timestamp_ns, {data, r.captured}, r.length, r.direction, comment_});
      r.written = true;
    } else {
      buf_.append(tail_, at, r.size);
    }
    r.size = buf_.size() - r.offset;
    pos = at + old_size;
  }
  buf_.append(tail_, pos, std::string::npos);
  first_mark_ = SIZE_MAX;
}

void Capture::record_dropped(uint32_t interface, Direction direction, const packet::Frame& frame,
                             std::string_view reason, TimePoint now) {
  if (finished_) return;
  std::string comment = "dropped: ";
  comment += reason;
  if (add(interface, direction, frame, comment, now) && on_output) on_output();
}

void Capture::finish(TimePoint now) {
  if (finished_) return;
  write_marks();
  finished_ = true;
  for (uint32_t i = 0; i < interfaces_.size(); ++i) {
    const InterfaceCounters& c = counters_[i];
    append_interface_statistics(
        buf_, {i, timestamp(now), timestamp(started_), timestamp(now), c.seen, c.lost, c.accepted});
  }
  if (on_output) on_output();
}

size_t Capture::take(std::string& out, size_t max) {
  write_marks();
  batch_.clear();  // blocks handed out can no longer change
  mark_hint_ = 0;
  size_t n = std::min(max, pending());
  out.append(buf_, taken_, n);
  taken_ += n;
  if (taken_ == buf_.size()) {
    buf_.clear();
    taken_ = 0;
  } else if (taken_ > (1u << 20) && taken_ > buf_.size() / 2) {
    buf_.erase(0, taken_);
    taken_ = 0;
  }
  return n;
}

}  // namespace vnet::capture
