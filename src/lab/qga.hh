#pragma once
// A client of the QEMU guest agent on a unix socket (a VM's NODE.qga in the lab's state
// directory, lab/kind_vm.cc): the protocol is lab/qga_protocol.hh; this file only moves its
// bytes. Every wait polls the socket with what is left of a deadline, so an agent that is
// absent, hung or half-way through an earlier exchange costs at most that deadline and never
// blocks the lab.

#include <chrono>
#include <string>

#include "base/clock.hh"
#include "base/fd.hh"
#include "base/result.hh"
#include "lab/netns.hh"
#include "lab/qga_protocol.hh"

namespace vnet::lab {

class GuestAgent {
 public:
  // Connects to the agent's socket and resynchronises (guest-sync-delimited with a fresh id)
  // within `deadline`. Errors: the socket cannot be reached; ETIMEDOUT when no agent answered
  // (no qemu-ga in the guest, or not started yet); EPROTO for bytes that are not the protocol.
  static Result<GuestAgent> connect(const std::string& socket, std::chrono::milliseconds deadline);

  // Runs `command` with /bin/sh -c in the guest (guest-exec with capture-output) and polls
  // guest-exec-status until it exited. out/err: its stdout and stderr, each cut to `limit`
  // bytes (the rest counted in *_dropped); status: its exit code, 128+signal when a signal ended
  // it. At `timeout` it asks the agent to SIGKILL the shell (guest-exec of kill -9 PID) and
  // returns timed_out with status 128+9. Errors: the agent refused (EIO with its description),
  // closed the socket (EPIPE), stopped answering (ETIMEDOUT), or spoke nonsense (EPROTO).
  Result<CapturedRun> exec(const std::string& command, Duration timeout, size_t limit);

 private:
  GuestAgent(UniqueFd fd, std::string socket) : fd_(std::move(fd)), socket_(std::move(socket)) {}
  Status send(const std::string& bytes);
  // The next reply's value (its "return"), waiting until `end`.
  Result<nlohmann::json> call(const std::string& request, std::string_view command,
                              std::chrono::steady_clock::time_point end);
  Result<nlohmann::json> next_reply(std::chrono::steady_clock::time_point end);

  UniqueFd fd_;
  std::string socket_;
  qga::ReplyReader reader_;
};

}  // namespace vnet::lab
