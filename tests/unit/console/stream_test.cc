// A console connection turned into a byte stream (console::StreamSource, as capture/start does),
// on a real unix socket driven one loop iteration at a time: after "1000 Success" only the
// source's bytes follow (no prompt, no more commands), output the source announces later is sent,
// the client shutting down its sending side ends the stream (the rest is sent, then EOF), and a
// client that goes away tells the source.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "console/console.hh"
#include "unit/console/client_sockets.hh"

using namespace vnet;
using namespace std::chrono_literals;
using test::connect_to;
using test::read_available;
using test::send_text;

namespace {

struct FakeSource final : console::StreamSource {
  std::string pending;
  bool ended = false, was_closed = false;
  size_t take(std::string& out, size_t max) override {
    size_t n = std::min(max, pending.size());
    out.append(pending, 0, n);
    pending.erase(0, n);
    return n;
  }
  bool done() const override { return ended && pending.empty(); }
  void end() override {
    ended = true;
    pending += "END";
    if (ready) ready();
  }
  void closed() override { was_closed = true; }
  void produce(const std::string& s) {
    pending += s;
    if (ready) ready();
  }
};

class StreamTest : public ::testing::Test {
 protected:
  StreamTest() : loop(clock) {
    path = ::testing::TempDir() + "/vnet_stream_" + std::to_string(::getpid()) + ".sock";
    reg.add("stream", "", "becomes a stream", [this](console::Session& s, const auto&) {
      if (!s.can_stream) return Result<console::Reply>(make_error(EINVAL, "no stream here"));
      source = std::make_shared<FakeSource>();
      source->pending = "HEAD";
      s.stream = source;
      return Result<console::Reply>(console::Reply{});
    });
    auto s = console::Server::open(loop, reg, path, 0600, "B");
    EXPECT_TRUE(s.ok());
    if (s) server = std::move(*s);
  }
  void spin(int n = 5) {
    for (int i = 0; i < n; ++i) loop.run_once(0ms);
  }
  ManualClock clock;
  EventLoop loop;
  console::Registry reg;
  std::string path;
  std::unique_ptr<console::Server> server;
  std::shared_ptr<FakeSource> source;
};

TEST_F(StreamTest, TheConnectionCarriesOnlyTheStreamUntilTheClientEndsIt) {
  UniqueFd c = connect_to(path);
  spin();
  EXPECT_EQ(read_available(c.get()).data, std::string("B") + console::kPrompt);
  send_text(c.get(), "stream\nhelp\n");
  spin();
  ASSERT_TRUE(source);
  EXPECT_EQ(read_available(c.get()).data, "1000 Success\nHEAD") << "no prompt, help not run";
  source->produce("more");
  spin();
  EXPECT_EQ(read_available(c.get()).data, "more");
  send_text(c.get(), "help\n");
  spin();
  EXPECT_EQ(read_available(c.get()).data, "") << "input is not read as commands";
  ::shutdown(c.get(), SHUT_WR);
  spin();
  auto last = read_available(c.get());
  EXPECT_EQ(last.data, "END");
  EXPECT_TRUE(last.eof) << "the server closes once the ended stream is sent";
  EXPECT_EQ(server->sessions(), 0u);
}

TEST_F(StreamTest, AClientThatGoesAwayTellsTheSource) {
  UniqueFd c = connect_to(path);
  spin();
  send_text(c.get(), "stream\n");
  spin();
  ASSERT_TRUE(source);
  EXPECT_FALSE(source->was_closed);
  c.reset();
  spin();
  EXPECT_TRUE(source->was_closed);
  source->produce("late");  // nobody listens: no crash, nothing sent
  spin();
  EXPECT_EQ(server->sessions(), 0u);
}

TEST_F(StreamTest, OnlyAConsoleConnectionCanStream) {
  console::Session s;  // as `load` and rc files run commands
  auto r = reg.run(s, "stream");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(s.stream);
}

}  // namespace
