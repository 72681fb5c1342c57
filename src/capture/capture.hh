#pragma once
// Capture: one running packet capture of the switch — a set of interfaces (the captured ports),
// a BPF filter, and a bounded buffer of pcapng bytes (capture/pcapng.hh) that a consumer (the
// console connection that started it) takes from.
//
// The datapath calls record() per batch for the frames a port received (inbound) or sent
// (outbound) and record_dropped() for a frame the switch dropped; the capture filters them
// (libpcap's pcap_offline_filter on a program compiled for DLT_EN10MB and the snapshot length),
// and appends one Enhanced Packet Block per frame. It never blocks and never grows past its
// bound: a frame whose block does not fit in the buffer is not kept, and counted per interface
// ("could not keep", reported as isb_ifdrop and by capture/list). on_output is called once per
// batch that added bytes, so the consumer can flush.
//
// Timestamps: the dataplane clock is steady (CLOCK_MONOTONIC); a capture is given, once, the
// offset from that clock to the Unix epoch, so readers show wall-clock times.
// finish() appends one Interface Statistics Block per interface (always, beyond the bound: they
// are small) and ends the capture; later frames are ignored.
// Single-threaded: it lives on the dataplane thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "capture/pcapng.hh"
#include "packet/frame.hh"

struct bpf_program;

namespace vnet::capture {

// Where on a port a capture looks, relative to its link impairment (and other stages).
enum class Point : uint8_t {
  kPre,   // as the wire or peer offered them: before `in` impairment, before `out` impairment
  kPost,  // after impairment: what the bridge received / what went on the wire
};
std::string_view point_name(Point p);

// A compiled BPF filter (tcpdump syntax). Empty expression = accept everything.
class Filter {
 public:
  static Result<Filter> compile(const std::string& expression, uint32_t snaplen);
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();
  bool accepts(std::span<const uint8_t> captured, uint32_t wire_length) const;
  const std::string& expression() const { return expression_; }

 private:
  Filter() = default;
  std::string expression_;
  std::unique_ptr<bpf_program> program_;
};

struct InterfaceCounters {
  uint64_t seen = 0;      // frames offered to the capture
  uint64_t accepted = 0;  // passed the filter
  uint64_t kept = 0;      // written to the buffer
  uint64_t lost = 0;      // accepted but not kept: the buffer was full
};

struct Options {
  Point point = Point::kPost;
  bool inbound = true, outbound = true;
  uint32_t snaplen = 262144;
  size_t buffer_bytes = 4u << 20;
};

class Capture {
 public:
  static constexpr std::string_view kApplication = "vnet switch";

  Capture(uint64_t id, const Options& options, std::vector<Interface> interfaces, Filter filter,
          int64_t epoch_offset_ns, TimePoint now);

  uint64_t id() const { return id_; }
  const Options& options() const { return options_; }
  const std::vector<Interface>& interfaces() const { return interfaces_; }
  const std::string& filter() const { return filter_.expression(); }
  const InterfaceCounters& counters(uint32_t interface) const { return counters_[interface]; }
  TimePoint started() const { return started_; }

  // Frames of one batch on `interface` (an index into interfaces()).
  void record(uint32_t interface, Direction direction, std::span<const packet::Frame> frames,
              TimePoint now);
  // A frame of the latest record() batch (the same Frame, or one moved from it: matched by the
  // address and length of its bytes) was dropped after it was recorded: its block, as recorded,
  // gets the comment "dropped: REASON". Nothing happens if the frame was not recorded
  // (filtered, not kept, or recorded in an earlier batch). `reason` must outlive the batch (a
  // drop reason's name). The blocks are rewritten once, when the batch ends (the next record,
  // take or finish), however many of its frames were dropped.
  void mark_dropped(const packet::Frame& frame, std::string_view reason);
  // One frame the switch dropped, with the reason ("dropped: REASON").
  void record_dropped(uint32_t interface, Direction direction, const packet::Frame& frame,
                      std::string_view reason, TimePoint now);

  void finish(TimePoint now);
  bool finished() const { return finished_; }

  // Moves up to `max` bytes of pending output to the end of `out`; returns how many.
  size_t take(std::string& out, size_t max);
  size_t pending() const { return buf_.size() - taken_; }
  std::function<void()> on_output;

 private:
  bool add(uint32_t interface, Direction direction, const packet::Frame& frame,
           std::string_view comment, TimePoint now);
  struct Recorded {  // a block of the latest record() batch
    const uint8_t* data;
    uint32_t length;    // the frame's length
    uint32_t captured;  // bytes kept (snaplen)
    size_t offset, size;
    uint32_t interface;
    Direction direction;
    uint64_t timestamp_ns;
    std::string_view dropped;  // mark_dropped()'s reason; empty = not dropped
    bool written;              // the block has its comment
  };
  uint64_t timestamp(TimePoint t) const;
  // Rewrites the blocks of the batch marked since the last call, with their comments.
  void write_marks();

  uint64_t id_;
  Options options_;
  std::vector<Interface> interfaces_;
  std::vector<InterfaceCounters> counters_;
  Filter filter_;
  int64_t epoch_offset_ns_;
  TimePoint started_;
  std::string buf_;
  size_t taken_ = 0;
  bool finished_ = false;
  std::vector<Recorded> batch_;
  size_t first_mark_ = SIZE_MAX;  // earliest batch_ entry marked and not written yet
  size_t mark_hint_ = 0;          // where the next mark_dropped() starts looking
  std::string tail_, comment_;    // write_marks()' scratch
};

}  // namespace vnet::capture
