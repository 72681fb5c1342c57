// Listeners under hostile clients: accepting at the descriptor limit backs off instead of
// spinning (counted accept attempts over a fixed number of loop iterations), VDE handshakes are
// bounded in number and time, and a VDE client's data socket must be a socket, not a link.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/log.hh"
#include "base/parse.hh"
#include "console/console.hh"
#include "io/listener.hh"
#include "support/frames.hh"
#include "unit/console/client_sockets.hh"

using namespace vnet;
using namespace std::chrono_literals;
using test::connect_to;

namespace {

// Uses up every descriptor the process may open (soft RLIMIT_NOFILE lowered to a little above
// the highest one in use) until destroyed.
class NoDescriptorsLeft {
 public:
  NoDescriptorsLeft() {
    ::getrlimit(RLIMIT_NOFILE, &old_);
    int highest = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
      while (dirent* e = ::readdir(d)) {
        if (auto n = parse_int(e->d_name, 0, 1 << 30)) highest = std::max(highest, int(*n));
      }
      ::closedir(d);
    }
    rlimit lim = old_;
    lim.rlim_cur = static_cast<rlim_t>(highest + 16);
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    int fd;
    while ((fd = ::dup(2)) >= 0) fds_.push_back(fd);
    EXPECT_EQ(errno, EMFILE);
  }
  ~NoDescriptorsLeft() {
    for (int fd : fds_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &old_);
  }

 private:
  rlimit old_{};
  std::vector<int> fds_;
};

// Log lines go to a temporary file while the test runs.
class CapturedLog {
 public:
  CapturedLog() : f_(std::tmpfile()) { log::set_file(f_); }
  ~CapturedLog() {
    log::set_file(nullptr);
    std::fclose(f_);
  }
  int count(const std::string& text) {
    std::fflush(f_);
    std::rewind(f_);
    int n = 0;
    char line[4096];
    while (std::fgets(line, sizeof line, f_)) n += std::strstr(line, text.c_str()) != nullptr;
    return n;
  }

 private:
  std::FILE* f_;
};

// Three clients wait in the backlog while the process has no descriptor left: the acceptor
// tries once, sets the socket aside for 100 ms at a time (one attempt per period, one log line
// per second), and accepts them all once descriptors are free again.
void expect_backoff_without_spinning(ManualClock& clock, EventLoop& loop,
                                     const io::Acceptor& acceptor, const std::string& path) {
  CapturedLog log;
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(path));
  {
    NoDescriptorsLeft exhausted;
    for (int i = 0; i < 50; ++i) loop.run_once(0ms);
    EXPECT_EQ(acceptor.stats().failed, 1u) << "accept retried without waiting";
    EXPECT_EQ(acceptor.stats().backoffs, 1u);
    EXPECT_TRUE(acceptor.paused());
    for (int period = 1; period < 10; ++period) {
      clock.advance(io::Acceptor::kBackoff);
      for (int i = 0; i < 20; ++i) loop.run_once(0ms);
    }
    EXPECT_EQ(acceptor.stats().failed, 10u) << "one attempt per 100 ms";
    EXPECT_EQ(log.count("not accepting for 100 ms"), 1) << "at most one line per second";
    clock.advance(io::Acceptor::kBackoff);
    for (int i = 0; i < 20; ++i) loop.run_once(0ms);
    EXPECT_EQ(log.count("not accepting for 100 ms"), 2);
    EXPECT_EQ(log.count("Too many open files"), 2);
    EXPECT_EQ(log.count("(9 more such failures since the last message)"), 1);
    EXPECT_EQ(acceptor.stats().accepted, 0u);
  }
  clock.advance(io::Acceptor::kBackoff);
  for (int i = 0; i < 5; ++i) loop.run_once(0ms);
  EXPECT_EQ(acceptor.stats().accepted, 3u) << "not accepting again after the backoff";
  EXPECT_FALSE(acceptor.paused());
}

TEST(AcceptBackoff, ConsoleDoesNotSpinAtTheDescriptorLimit) {
  ManualClock clock;
  EventLoop loop(clock);
  console::Registry reg;
  std::string path = ::testing::TempDir() + "/vnet_backoff_" + std::to_string(::getpid());
  auto server = console::Server::open(loop, reg, path, 0600, "B");
  ASSERT_TRUE(server.ok()) << server.error().message;
  expect_backoff_without_spinning(clock, loop, (*server)->acceptor(), path);
  EXPECT_EQ((*server)->sessions(), 3u);
}

class VdeServerTest : public ::testing::Test {
 protected:
  VdeServerTest() : loop(clock) {
    dir = ::testing::TempDir() + "/vnet_vde_" + std::to_string(::getpid());
    auto s = io::VdeServer::open(loop, dir, [this](uint32_t want, std::unique_ptr<io::Backend> b) {
      attached.push_back(std::move(b));
      return Result<uint32_t>(want ? want : 1u);
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (s) server = std::move(*s);
  }
  void spin(int n = 3) {
    for (int i = 0; i < n; ++i) loop.run_once(0ms);
  }
  // A struct request_v3 (vdeplug4 libvdeplug_vde.c) naming `data_path`.
  static std::string request(const std::string& data_path, uint32_t port = 0) {
    std::string req(12 + sizeof(sockaddr_un), '\0');
    uint32_t head[3] = {0xfeedface, 3, port << 8};
    std::memcpy(req.data(), head, sizeof head);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", data_path.c_str());
    std::memcpy(req.data() + 12, &sa, sizeof sa);
    return req + "unit test";
  }
  UniqueFd bound_dgram(const std::string& path) {
    ::unlink(path.c_str());
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return fd;
  }
  ManualClock clock;
  EventLoop loop;
  std::string dir;
  std::vector<std::unique_ptr<io::Backend>> attached;
  std::unique_ptr<io::VdeServer> server;
};

TEST_F(VdeServerTest, CtlListenerDoesNotSpinAtTheDescriptorLimit) {
  expect_backoff_without_spinning(clock, loop, server->acceptor(), dir + "/ctl");
  EXPECT_EQ(server->pending(), 3u);
}

TEST_F(VdeServerTest, PendingHandshakesAreBoundedAndTimeOut) {
  std::vector<UniqueFd> silent;
  for (size_t i = 0; i < io::kVdeMaxPendingHandshakes + 4; ++i) {
    silent.push_back(connect_to(dir + "/ctl"));
  }
  spin();
  EXPECT_EQ(server->pending(), io::kVdeMaxPendingHandshakes);
  EXPECT_EQ(server->refused(), 4u);
  clock.advance(io::kVdeHandshakeTimeout - 1ms);
  spin();
  EXPECT_EQ(server->pending(), io::kVdeMaxPendingHandshakes);
  clock.advance(1ms);
  spin();
  EXPECT_EQ(server->pending(), 0u);
  EXPECT_EQ(server->refused(), io::kVdeMaxPendingHandshakes + 4);
  // The connections were closed: each client reads end of file.
  char c;
  for (auto& s : silent) EXPECT_EQ(::recv(s.get(), &c, 1, MSG_DONTWAIT), 0);
  EXPECT_TRUE(attached.empty());
}

TEST_F(VdeServerTest, AClientOwningItsSocketIsAttachedAndGetsFrames) {
  std::string mine = dir + ".client";
  UniqueFd data = bound_dgram(mine);
  UniqueFd ctl = connect_to(dir + "/ctl");
  std::string req = request(mine, 5);
  ASSERT_EQ(::send(ctl.get(), req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  spin();
  ASSERT_EQ(attached.size(), 1u);
  EXPECT_EQ(server->refused(), 0u);
  sockaddr_un ours{};
  ASSERT_EQ(::recv(ctl.get(), &ours, sizeof ours, MSG_DONTWAIT), ssize_t(sizeof ours));
  EXPECT_EQ(std::string(ours.sun_path).rfind(dir + "/005.", 0), 0u) << ours.sun_path;
  std::vector<packet::Frame> frames;
  frames.push_back(test::frame(test::mac(1), test::mac(2)));
  EXPECT_EQ(attached[0]->send(frames), 1u);
  uint8_t buf[2048];
  EXPECT_EQ(::recv(data.get(), buf, sizeof buf, MSG_DONTWAIT), 60);
  ::unlink(mine.c_str());
}

TEST_F(VdeServerTest, ALinkAFileOrAnAbstractNameIsRefused) {
  CapturedLog log;
  std::string target = dir + ".target", link = dir + ".link", file = dir + ".file";
  UniqueFd victim = bound_dgram(target);
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::ofstream(file) << "x";
  std::vector<UniqueFd> ctls;
  for (const std::string& name : {link, file, std::string()}) {
    ctls.push_back(connect_to(dir + "/ctl"));
    std::string req = request(name);
    ASSERT_EQ(::send(ctls.back().get(), req.data(), req.size(), 0), ssize_t(req.size()));
  }
  spin();
  EXPECT_TRUE(attached.empty());
  EXPECT_EQ(server->refused(), 3u);
  EXPECT_EQ(log.count(link + ": is a symbolic link"), 1);
  EXPECT_EQ(log.count(file + ": is not a socket"), 1);
  EXPECT_EQ(log.count("an abstract or unnamed data socket address"), 1);
  uint8_t buf[64];
  EXPECT_LT(::recv(victim.get(), buf, sizeof buf, MSG_DONTWAIT), 0) << "the link's target got data";
  for (auto* p : {&target, &link, &file}) ::unlink(p->c_str());
}

}  // namespace
