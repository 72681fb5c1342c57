#pragma once
// The I/O around probe/stream.hh: UDP sockets the caller created (in whichever network
// namespace it likes), driven on the calling thread.
//
// Times are CLOCK_MONOTONIC. A probe's send time is read just before sendto(); an arrival's time
// is the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME, moved onto CLOCK_MONOTONIC
// by the offset between the two clocks read as the datagram is taken), so how late the loop
// woke up does not count in a round trip. Pacing sleeps on ppoll() with the thread's timer slack
// set to 1 ns and absolute deadlines from the Sender's schedule.

#include <atomic>
#include <functional>

#include "base/result.hh"
#include "probe/stream.hh"

namespace vnet::probe {

// Asks for kernel receive timestamps on `fd`.
Status enable_timestamps(int fd);

// Sends every probe of `sender` on `fd` (a connected UDP socket) on its schedule and feeds the
// replies to `replies`, until all came back or `wait` passed after the last send, or `stop`.
// A failed send (no buffer, no route) is a lost probe, as on a wire.
Status run_sender(int fd, Sender& sender, Collector& replies, Duration wait,
                  const std::atomic<bool>& stop);

// Echoes each probe arriving on `fd` (a bound UDP socket) to its source until `stop`, checked
// at least every 50 ms; `tick` (when set) runs as often with the current time. Each echo's
// turnaround (kernel arrival to just before sendto) goes to Reflector::echoed.
Status run_reflector(int fd, Reflector& reflector, const std::atomic<bool>& stop,
                     const std::function<void(TimePoint)>& tick = {});

}  // namespace vnet::probe
