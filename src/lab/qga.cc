#include "lab/qga.hh"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "lab/qmp.hh"

namespace vnet::lab {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the agent gets to answer one guest-exec-status, and to start the kill at the deadline.
constexpr auto kReplyDeadline = milliseconds(5000);

// A sync id no earlier exchange on the socket used: this process's id and a counter.
uint64_t fresh_id() {
  static std::atomic<uint32_t> counter{0};
  return (static_cast<uint64_t>(::getpid()) << 32) | counter++;
}

void cut(std::string& s, size_t limit, size_t& dropped) {
  if (s.size() <= limit) return;
  dropped = s.size() - limit;
  s.resize(limit);
}

}  // namespace

Result<GuestAgent> GuestAgent::connect(const std::string& socket, milliseconds deadline) {
  auto fd = connect_unix(socket);
  if (!fd) return make_error(fd.error().code, "guest agent: {}", fd.error().message);
  GuestAgent a(std::move(*fd), socket);
  auto end = SteadyClock::now() + deadline;
  uint64_t id = fresh_id();
  if (auto s = a.send(qga::sync_request(id)); !s) return s.error();
  a.reader_.expect_delimiter();
  while (true) {
    auto j = a.next_reply(end);
    if (!j) {
      if (j.error().code == ETIMEDOUT)
        return make_error(ETIMEDOUT, "no guest agent answered on {} within {} ms", socket,
                          deadline.count());
      return j.error();
    }
    auto v = qga::reply_value(*j, "guest-sync-delimited");
    if (v && qga::is_sync_reply(*v, id)) return a;
    // A reply to an abandoned request of an earlier client: skip it.
  }
}

Status GuestAgent::send(const std::string& bytes) {
  std::string_view s = bytes;
  while (!s.empty()) {
    ssize_t n = ::send(fd_.get(), s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(kReplyDeadline.count())) <= 0)
        return make_error(ETIMEDOUT, "guest agent {}: the socket takes no more bytes", socket_);
      continue;
    }
    if (n <= 0) return make_error(EPIPE, "guest agent {}: send: {}", socket_, std::strerror(errno));
    s.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<nlohmann::json> GuestAgent::next_reply(SteadyClock::time_point end) {
  while (true) {
    auto j = reader_.next();
    if (!j) return j.error();
    if (*j) return std::move(**j);
    auto left = std::chrono::duration_cast<milliseconds>(end - SteadyClock::now());
    if (left.count() <= 0) return make_error(ETIMEDOUT, "guest agent {}: no answer", socket_);
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return system_error("guest agent poll");
    if (r == 0) continue;
    char chunk[65536];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return system_error("guest agent recv");
    if (n == 0) return make_error(EPIPE, "guest agent {}: the connection closed", socket_);
    reader_.feed(std::string_view(chunk, static_cast<size_t>(n)));
  }
}

Result<nlohmann::json> GuestAgent::call(const std::string& request, std::string_view command,
                                        SteadyClock::time_point end) {
  if (auto s = send(request); !s) return s.error();
  auto j = next_reply(end);
  if (!j) {
    if (j.error().code == ETIMEDOUT)
      return make_error(ETIMEDOUT, "guest agent {}: no answer to {} in time", socket_, command);
    return j.error();
  }
  return qga::reply_value(*j, command);
}

Result<CapturedRun> GuestAgent::exec(const std::string& command, Duration timeout, size_t limit) {
  auto start = SteadyClock::now();
  auto deadline = start + timeout;
  auto started = call(qga::exec_request(command), "guest-exec", start + kReplyDeadline);
  if (!started) return started.error();
  auto pid = qga::exec_pid(*started);
  if (!pid) return pid.error();
  // Poll quickly at first (most commands are short), then back off to 50 ms.
  auto pause = milliseconds(2);
  CapturedRun run;
  while (true) {
    auto st = call(qga::exec_status_request(*pid), "guest-exec-status",
                   SteadyClock::now() + kReplyDeadline);
    if (!st) return st.error();
    auto status = qga::exec_status(*st);
    if (!status) return status.error();
    if (*status) {
      run.status = (*status)->status;
      run.out = std::move((*status)->out);
      run.err = std::move((*status)->err);
      cut(run.out, limit, run.out_dropped);
      cut(run.err, limit, run.err_dropped);
      return run;
    }
    auto now = SteadyClock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(std::min<SteadyClock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, milliseconds(50));
  }
  // The deadline: kill the shell (its children, when they outlive it, are left to the guest).
  auto killed = call(qga::exec_request(fmt::format("kill -9 {}", *pid)), "guest-exec",
                     SteadyClock::now() + kReplyDeadline);
  if (!killed) return killed.error();
  run.timed_out = true;
  run.status = 128 + SIGKILL;
  return run;
}

}  // namespace vnet::lab
