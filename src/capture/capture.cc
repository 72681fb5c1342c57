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
    batch_.push_back(
        Recorded{bytes.data(), at, buf_.size() - at, interface, direction, p.timestamp_ns, false});
  }
  ++c.kept;
  return true;
}

void Capture::record(uint32_t interface, Direction direction, std::span<const packet::Frame> frames,
                     TimePoint now) {
  if (finished_) return;
  batch_.clear();
  bool any = false;
  for (const auto& f : frames) any |= add(interface, direction, f, {}, now);
  if (any && on_output) on_output();
}

void Capture::mark_dropped(const packet::Frame& frame, std::string_view reason) {
  for (size_t i = 0; i < batch_.size(); ++i) {
    Recorded& r = batch_[i];
    if (r.data != frame.data() || r.dropped) continue;
    r.dropped = true;
    std::string comment = "dropped: ";
    comment += reason;
    std::span<const uint8_t> bytes = frame.bytes();
    uint32_t snap = options_.snaplen ? options_.snaplen : UINT32_MAX;
    Packet p{r.interface,
             r.timestamp_ns,
             bytes.first(std::min<size_t>(bytes.size(), snap)),
             static_cast<uint32_t>(bytes.size()),
             r.direction,
             comment};
    std::string block;
    append_packet(block, p);
    buf_.replace(r.offset, r.size, block);
    size_t grown = block.size() - r.size;
    r.size = block.size();
    for (size_t j = i + 1; j < batch_.size(); ++j) batch_[j].offset += grown;
    return;
  }
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
  finished_ = true;
  for (uint32_t i = 0; i < interfaces_.size(); ++i) {
    const InterfaceCounters& c = counters_[i];
    append_interface_statistics(
        buf_, {i, timestamp(now), timestamp(started_), timestamp(now), c.seen, c.lost, c.accepted});
  }
  if (on_output) on_output();
}

size_t Capture::take(std::string& out, size_t max) {
  batch_.clear();  // blocks handed out can no longer change
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
