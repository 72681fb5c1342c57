// ChildSupervisor with real processes: exit statuses reach their owner, timeouts kill the whole
// process group, cancel() silences the owner, and children it did not start are never reaped by
// it. Waits are on the children's pidfds through the loop (bounded), never sleeps.
#include "base/child_supervisor.hh"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

namespace vnet {
namespace {

using namespace std::chrono_literals;

ChildSpec sh(const std::string& command, Duration timeout = Duration{0}) {
  ChildSpec s;
  s.argv = {"/bin/sh", "-c", command};
  s.timeout = timeout;
  return s;
}

struct SupervisorTest : ::testing::Test {
  ManualClock clock;  // timeouts move only when the test says so
  EventLoop loop{clock};
  ChildSupervisor sup{loop};
  // Runs the loop until `done` or ~10 s of real waiting (a hung child fails the test).
  template <typename F>
  bool run_until(F done) {
    for (int i = 0; i < 1000 && !done(); ++i) loop.run_once(10ms);
    return done();
  }
};

TEST_F(SupervisorTest, ExitStatusReachesTheOwner) {
  std::optional<ChildExit> ok, bad;
  auto a = sup.start(sh("exit 0"), [&](const ChildExit& e) { ok = e; });
  auto b = sup.start(sh("exit 3"), [&](const ChildExit& e) { bad = e; });
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(sup.running(), 2u);
  ASSERT_TRUE(run_until([&] { return ok && bad; }));
  EXPECT_EQ(ok->pid, *a);
  EXPECT_TRUE(ok->success());
  EXPECT_EQ(bad->pid, *b);
  EXPECT_FALSE(bad->success());
  EXPECT_EQ(bad->describe(), "exit status 3");
  EXPECT_EQ(sup.running(), 0u);
  EXPECT_EQ(waitpid(*a, nullptr, WNOHANG), -1) << "already reaped";
}

TEST_F(SupervisorTest, AMissingProgramExits127) {
  std::optional<ChildExit> e;
  ChildSpec s;
  s.argv = {"/nonexistent/program"};
  ASSERT_TRUE(sup.start(s, [&](const ChildExit& x) { e = x; }).ok());
  ASSERT_TRUE(run_until([&] { return e.has_value(); }));
  EXPECT_EQ(e->describe(), "exit status 127");
}

TEST_F(SupervisorTest, TimeoutKillsTheWholeProcessGroup) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // Both sleeps inherit the pipe's write end: EOF on the read end only once both are dead.
  std::optional<ChildExit> e;
  auto pid = sup.start(sh("sleep 100 & sleep 100", 2s), [&](const ChildExit& x) { e = x; });
  ::close(fds[1]);
  ASSERT_TRUE(pid.ok());
  loop.run_once(50ms);
  EXPECT_FALSE(e.has_value());
  clock.advance(1s);
  loop.run_timers();
  loop.run_once(50ms);
  EXPECT_FALSE(e.has_value()) << "not yet: 1 s of 2";
  clock.advance(1s);
  ASSERT_TRUE(run_until([&] { return e.has_value(); }));
  EXPECT_TRUE(e->timed_out);
  EXPECT_FALSE(e->success());
  EXPECT_EQ(e->describe(), "timed out");
  pollfd p{fds[0], POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "the background sleep outlived its group";
  char c;
  EXPECT_EQ(read(fds[0], &c, 1), 0) << "the background sleep died with its group";
  ::close(fds[0]);
}

TEST_F(SupervisorTest, CancelKillsWithoutCallingTheOwner) {
  bool called = false;
  auto pid = sup.start(sh("sleep 100"), [&](const ChildExit&) { called = true; });
  ASSERT_TRUE(pid.ok());
  sup.cancel(*pid);
  ASSERT_TRUE(run_until([&] { return sup.running() == 0; }));
  EXPECT_FALSE(called);
  EXPECT_EQ(kill(*pid, 0), -1) << "reaped";
}

TEST_F(SupervisorTest, ChildrenItDidNotStartAreNotReaped) {
  pid_t mine = fork();
  ASSERT_GE(mine, 0);
  if (mine == 0) _exit(7);
  std::optional<ChildExit> e;
  ASSERT_TRUE(sup.start(sh("exit 0"), [&](const ChildExit& x) { e = x; }).ok());
  ASSERT_TRUE(run_until([&] { return e.has_value(); }));
  // Our own child exited long ago; it must still be there for us to reap.
  int status = 0;
  ASSERT_EQ(waitpid(mine, &status, 0), mine) << "the supervisor took the test's child";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST_F(SupervisorTest, CallbacksMayStartChildren) {
  int done = 0;
  std::function<void(const ChildExit&)> again = [&](const ChildExit&) {
    if (++done < 3) {
      ASSERT_TRUE(sup.start(sh("exit 0"), again).ok());
    }
  };
  ASSERT_TRUE(sup.start(sh("exit 0"), again).ok());
  ASSERT_TRUE(run_until([&] { return done == 3; }));
  EXPECT_EQ(sup.running(), 0u);
}

}  // namespace
}  // namespace vnet
