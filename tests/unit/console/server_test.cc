// The console server on a real unix socket, driven one loop iteration at a time: a client that
// does not read is cut off while another is served, long lines are refused with bounded input,
// `load` echoes share the answer path, and the session count is bounded.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "console/console.hh"
#include "unit/console/client_sockets.hh"

using namespace vnet;
using namespace std::chrono_literals;
using test::connect_to;
using test::Read;
using test::read_available;
using test::send_text;

namespace {

constexpr const char* kPrompt = "\nvde$ ";

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : loop(clock) {
    path = ::testing::TempDir() + "/vnet_console_" + std::to_string(::getpid()) + ".sock";
    reg.add("dump", "", "4 KiB of text", [](console::Session&, const auto&) {
      return Result<console::Reply>(console::Reply{std::string(4095, 'd') + "\n", nullptr});
    });
    auto s = console::Server::open(loop, reg, path, 0600, "BANNER");
    EXPECT_TRUE(s.ok());
    if (s) server = std::move(*s);
  }
  void spin(int n = 3) {
    for (int i = 0; i < n; ++i) loop.run_once(0ms);
  }
  // Runs the loop until pred() holds, at most n iterations.
  template <typename Pred>
  void spin_until(Pred pred, int n = 200) {
    for (int i = 0; i < n && !pred(); ++i) loop.run_once(0ms);
  }
  ManualClock clock;
  EventLoop loop;
  console::Registry reg;
  std::string path;
  std::unique_ptr<console::Server> server;
};

TEST_F(ServerTest, AClientThatDoesNotReadIsCutOffWhileAnotherIsServed) {
  UniqueFd stuck = connect_to(path), good = connect_to(path);
  spin();
  ASSERT_EQ(server->sessions(), 2u);
  EXPECT_EQ(read_available(good.get()).data, std::string("BANNER") + kPrompt);
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += "dump\n";
  int rounds = 0;
  for (; rounds < 1000 && server->sessions() == 2; ++rounds) {
    send_text(stuck.get(), sixteen);  // 64 KiB of answers per round, never read
    send_text(good.get(), "help\n");
    spin(2);
    Read r = read_available(good.get());
    ASSERT_FALSE(r.eof) << "round " << rounds;
    ASSERT_NE(r.data.find("1000 Success\n"), std::string::npos) << "round " << rounds;
    ASSERT_EQ(r.data.substr(r.data.size() - 6), kPrompt);
  }
  EXPECT_EQ(server->sessions(), 1u) << "the client that never reads is still connected";
  // Disconnected once its buffer would pass 1 MiB: the kernel's socket buffer plus ours.
  EXPECT_LT(rounds * 16 * 4096, int(console::kMaxOutputBytes) + (4 << 20));
  spin();
  Read gone = read_available(stuck.get());
  EXPECT_TRUE(gone.eof);
  EXPECT_LE(gone.data.size(), size_t(rounds) * 16 * 4096);
  // The other session goes on.
  send_text(good.get(), "dump\n");
  spin();
  EXPECT_NE(read_available(good.get()).data.find(std::string(4095, 'd')), std::string::npos);
}

TEST_F(ServerTest, AnUnterminatedLongLineIsRefusedAndInputStaysBounded) {
  UniqueFd c = connect_to(path);
  spin();
  read_available(c.get());
  // Positive control: a line just under the limit is a comment like any other.
  std::string comment = "#" + std::string(console::kMaxLineBytes - 1, 'c') + "\n";
  size_t off = 0;
  while (off < comment.size()) {
    ssize_t n = ::send(c.get(), comment.data() + off, comment.size() - off, MSG_NOSIGNAL);
    if (n > 0) off += static_cast<size_t>(n);
    spin(1);
  }
  std::string got;
  spin_until([&] { return (got += read_available(c.get()).data) == kPrompt; });
  EXPECT_EQ(got, kPrompt);
  ASSERT_EQ(server->sessions(), 1u);
  // 64 MiB without a newline, 4 KiB at a time, one loop iteration after each chunk.
  std::string chunk(4096, 'x');
  size_t sent = 0;
  while (sent < (64u << 20) && server->sessions() == 1) {
    ssize_t n = ::send(c.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n < 0) break;
    sent += static_cast<size_t>(n);
    spin(1);
  }
  EXPECT_EQ(server->sessions(), 0u);
  EXPECT_LE(sent, console::kMaxLineBytes + 2 * chunk.size()) << "the server kept reading";
  spin();
  Read r = read_available(c.get());
  EXPECT_EQ(r.data, "1090 console line longer than 65536 bytes (64 KiB); closing the session\n");
  EXPECT_TRUE(r.eof);
}

TEST_F(ServerTest, ALongLineWithItsNewlineIsRefusedToo) {
  UniqueFd c = connect_to(path);
  spin();
  read_available(c.get());
  std::string line = "help " + std::string(console::kMaxLineBytes, 'y') + "\n";
  size_t off = 0;
  for (int i = 0; i < 100 && off < line.size() && server->sessions() == 1; ++i) {
    ssize_t n = ::send(c.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n > 0) off += static_cast<size_t>(n);
    spin(1);
  }
  spin_until([&] { return server->sessions() == 0; });
  EXPECT_EQ(server->sessions(), 0u);
  EXPECT_EQ(read_available(c.get()).data.substr(0, 5), "1090 ");
}

TEST_F(ServerTest, LoadEchoesTheCommandsItRunsBeforeTheAnswer) {
  std::string rc = ::testing::TempDir() + "/vnet_console_rc";
  std::ofstream(rc) << "# two\nhelp dump\n";
  UniqueFd c = connect_to(path);
  spin();
  read_available(c.get());
  send_text(c.get(), "load " + rc + "\n");
  spin();
  EXPECT_EQ(read_available(c.get()).data, "vde[" + rc + "]: help dump\n1000 Success\n" + kPrompt);
  send_text(c.get(), "load /dev/zero\nlogout\n");
  spin();
  Read r = read_available(c.get());
  EXPECT_EQ(r.data, std::string("1022 /dev/zero: not a regular file (a character device)\n") +
                        kPrompt + "9999 END OF SESSION\n");
  EXPECT_TRUE(r.eof);
}

TEST_F(ServerTest, LoadEchoesCountAgainstTheBufferAndStopWithTheSession) {
  int count = 0;
  reg.add("count", "", "", [&](console::Session&, const std::vector<std::string>&) {
    ++count;
    return Result<console::Reply>(console::Reply{});
  });
  std::string rc = ::testing::TempDir() + "/vnet_console_many";
  {
    std::ofstream f(rc);
    for (int i = 0; i < 60000; ++i) f << "count\n";
  }
  UniqueFd c = connect_to(path);
  spin();
  send_text(c.get(), "load " + rc + "\n");  // about 2 MiB of echoes, never read
  spin();
  EXPECT_EQ(server->sessions(), 0u);
  EXPECT_GT(count, 0);
  EXPECT_LT(count, 60000) << "the load went on after its session was closed";
}

TEST_F(ServerTest, SessionsAreBounded) {
  std::vector<UniqueFd> clients;
  for (size_t i = 0; i <= console::kMaxSessions; ++i) {
    clients.push_back(connect_to(path));
    spin(1);
  }
  spin();
  EXPECT_EQ(server->sessions(), console::kMaxSessions);
  Read last = read_available(clients.back().get());
  EXPECT_EQ(last.data, "1024 too many console sessions (64 at most)\n");
  EXPECT_TRUE(last.eof);
  EXPECT_EQ(read_available(clients.front().get()).data, std::string("BANNER") + kPrompt);
  clients.front().reset();
  spin();
  EXPECT_EQ(server->sessions(), console::kMaxSessions - 1);
}

}  // namespace
