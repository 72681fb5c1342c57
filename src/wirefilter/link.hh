#pragma once
// Link: the I/O side of `vnet wirefilter` — two VDE plugs (io/vde_plug.hh), frames from plug 0
// through the Filter's LR engine to plug 1 and from plug 1 through RL to plug 0, on an
// EventLoop with its (monotonic) clock.
//
// A frame read from a plug is offered to its direction's engine at the loop's now; the bytes
// wait in a table under the engine's handle until each of its copies is released (pop_due) or
// dropped, then go out, with the engine's bit flips applied, as one datagram each. One timer
// is armed at the earliest of the engines' next deadlines and the Markov chain's next step,
// re-armed after every batch of frames and every console command. Send errors (the switch's
// buffer full: EAGAIN) drop the frame and count it, as vde_switch does. EOF on a plug's control
// stream (the switch went away) calls on_closed, as wirefilter exits on POLLHUP.
//
// Memory: held frames are bounded by the engines' limits (1000 frames per direction by
// default, and chanbufsize bytes). A held frame lives in a slot of a slab whose index is the
// engine's handle; freed slots (and their buffers) are reused, so the steady state allocates
// nothing per frame — the slab only grows to the largest number of frames held at once.

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "base/event_loop.hh"
#include "io/vde_plug.hh"
#include "wirefilter/filter.hh"

namespace vnet::wirefilter {

struct LinkCounters {
  uint64_t received = 0;     // frames read from this side's plug
  uint64_t sent = 0;         // copies written to the other side's plug
  uint64_t send_failed = 0;  // copies the other side's socket did not take
  uint64_t runts = 0;        // datagrams shorter than an Ethernet header, ignored
};

class Link {
 public:
  static Result<std::unique_ptr<Link>> open(EventLoop& loop, Filter& filter,
                                            std::array<io::VdePlug, 2> plugs);
  ~Link();
  // Re-arms the timer (after a console command changed the settings or the chain).
  void changed();
  const LinkCounters& counters(Dir d) const { return counters_[d]; }
  void on_closed(std::function<void(const std::string&)> cb) { on_closed_ = std::move(cb); }

 private:
  Link(EventLoop& loop, Filter& filter, std::array<io::VdePlug, 2> plugs);
  void on_data(Dir d);
  void on_ctl(Dir d);
  void service();
  void send_release(Dir d, const impair::Release& r);
  void arm();

  struct Held {
    std::vector<uint8_t> bytes;
    uint8_t copies = 0;  // copies still held by the engine; 0 = a free slot
    impair::CopyVerdict verdicts[impair::kMaxCopies];
  };
  uint32_t take_slot();
  EventLoop& loop_;
  Filter& filter_;
  std::array<io::VdePlug, 2> plugs_;
  std::array<LinkCounters, 2> counters_{};
  std::vector<Held> slots_;     // index = the engine's handle
  std::vector<uint32_t> free_;  // free slot indices
  EventLoop::TimerId timer_ = 0;
  std::optional<TimePoint> armed_for_;
  std::function<void(const std::string&)> on_closed_;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> flipped_;  // a corrupted copy, sent from here
};

}  // namespace vnet::wirefilter
