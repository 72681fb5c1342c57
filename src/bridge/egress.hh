#pragma once
// Egress stage chain: what happens to a port's frames after the bridge has forwarded and tagged
// them (802.1Q-2018 §8.6.6) and before the port's backend sends them or a cable hands them to the
// far bridge. Link impairment (loss, delay, rate, ...) and capture sit here; with no stage the
// chain costs nothing (the dataplane skips it).
//
// A stage takes a batch and, frame by frame, passes it on (appends it to `pass`, in the order it
// should leave), drops it (counting it with count_drop()), or holds it to release later. A
// holding stage says when its next frame is due (next_due()) and hands over due frames in
// release(now). The chain's owner (the Dataplane) arms one EventLoop timer per port at the
// earliest due time of any stage, and only while some stage holds frames: an idle port has no
// timer. Frames released by stage i go on through stages i+1.. in order, like fresh ones.
// A stage that keeps frames should call Frame::shrink_to_fit() on them, so a held 60-byte frame
// does not pin a 72 KiB receive buffer.
//
// Removing a stage hands its held frames over in release order; the caller decides whether they
// go on through the rest of the chain now (HeldFrames::kRelease) or are dropped and counted on
// the removed stage (HeldFrames::kDrop). Removing a port drops everything its chain holds.
//
// Stages are sans-IO: they are given `now`, never read a clock, never arm a timer.
// Single-threaded: a chain belongs to one port of one dataplane thread.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "bridge/drop_reason.hh"
#include "packet/frame.hh"

namespace vnet::bridge {

// Told about each frame a stage drops, before it is discarded (a capture records it with the
// reason). Set on a chain (EgressChain::set_drop_observer), which passes it to its stages.
class DropObserver {
 public:
  virtual void dropped(const packet::Frame& frame, DropReason reason) = 0;

 protected:
  ~DropObserver() = default;
};

class EgressStage {
 public:
  virtual ~EgressStage() = default;
  // Unique on a chain ("capture-before", "impair", ...).
  virtual std::string_view name() const = 0;
  // Takes every frame of `in` (each is moved out or dropped). Frames that leave now are appended
  // to `pass`, in order.
  virtual void process(std::span<packet::Frame> in, std::vector<packet::Frame>& pass,
                       TimePoint now) = 0;
  // When the earliest held frame is due; nullopt when the stage holds nothing.
  virtual std::optional<TimePoint> next_due() const { return std::nullopt; }
  // Appends the held frames due at or before `now` to `pass`, in order.
  virtual void release(TimePoint now, std::vector<packet::Frame>& pass) {
    (void)now;
    (void)pass;
  }
  // Appends every held frame to `out`, in the order they would have left.
  virtual void take_held(std::vector<packet::Frame>& out) { (void)out; }
  virtual size_t held() const { return 0; }

  uint64_t dropped() const { return dropped_; }

 protected:
  void count_drop(uint64_t n = 1) { dropped_ += n; }
  // A stage that drops a frame for a reason reports it here (one branch when nobody listens).
  void report_drop(const packet::Frame& frame, DropReason reason) {
    if (observer_) observer_->dropped(frame, reason);
  }

 private:
  friend class EgressChain;
  uint64_t dropped_ = 0;
  DropObserver* observer_ = nullptr;
};

enum class HeldFrames { kRelease, kDrop };

struct EgressStageInfo {
  std::string name;
  uint64_t passed = 0;  // frames the stage handed on (at once or after holding them)
  uint64_t dropped = 0;
  size_t held = 0;
};

class EgressChain {
 public:
  static constexpr size_t kEnd = std::numeric_limits<size_t>::max();

  // Inserts `stage` before position `at` (0 = first; kEnd or past the end = last). Refused if a
  // stage of that name is already on the chain (EEXIST).
  Status add(std::unique_ptr<EgressStage> stage, size_t at = kEnd);
  // Removes the stage named `name` (ENOENT if none). Its held frames go on through the stages
  // after it and are appended to `out` (kRelease), or are dropped and counted on the stage
  // (kDrop). Returns the stage, with its counters.
  Result<std::unique_ptr<EgressStage>> remove(std::string_view name, HeldFrames held,
                                              std::vector<packet::Frame>& out, TimePoint now);
  bool empty() const { return stages_.empty(); }
  size_t size() const { return stages_.size(); }
  EgressStage* find(std::string_view name);
  std::vector<EgressStageInfo> info() const;

  // Runs `frames` through every stage; afterwards `frames` holds what leaves the chain now.
  void run(std::vector<packet::Frame>& frames, TimePoint now);
  // Releases what is due at `now` from every stage (each through the stages after it) and
  // appends what leaves the chain to `out`.
  void release(TimePoint now, std::vector<packet::Frame>& out);
  // The earliest due time of any stage; nullopt when nothing is held.
  std::optional<TimePoint> next_due() const;
  size_t held() const;
  // Drops every held frame (counted on its stage); returns how many.
  size_t drop_held();
  // Frames the stages drop are reported to `observer` (nullptr = nobody), stages added later too.
  void set_drop_observer(DropObserver* observer);

 private:
  struct Slot {
    std::unique_ptr<EgressStage> stage;
    uint64_t passed = 0;
  };
  // Runs `frames` through stages [first, end); the result replaces `frames`.
  void run_from(size_t first, std::vector<packet::Frame>& frames, TimePoint now);
  std::vector<Slot> stages_;
  std::vector<packet::Frame> tmp_, released_;
  DropObserver* observer_ = nullptr;
};

}  // namespace vnet::bridge
