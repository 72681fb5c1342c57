// The VDE console protocol: framing of answers, errors with errno codes, rc files with file:line,
// and the switch commands through a registry.
#include "console/console.hh"

#include <gtest/gtest.h>

#include <fstream>

#include "base/file.hh"
#include "bridge/commands.hh"

using namespace vnet;

namespace {

class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest() : loop(clock), dp(loop) {
    bridge::register_commands(reg, dp, clock, info);
    (void)dp.create_bridge("br0");
  }
  Result<console::Reply> run(const std::string& line) { return reg.run(session, line); }
  ManualClock clock;
  EventLoop loop;
  bridge::Dataplane dp;
  console::Registry reg;
  bridge::SwitchInfo info{"test", "/tmp/x", clock.now()};
  console::Session session;
};

TEST_F(ConsoleTest, FramesDataAndStatusLikeVde) {
  auto r = run("vlan/create 10");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(console::frame_reply(r, false), "1000 Success\n");
  ASSERT_TRUE(run("port/create 3").ok());
  auto p = run("port/print 3");
  ASSERT_TRUE(p.ok());
  std::string framed = console::frame_reply(p, false);
  EXPECT_EQ(framed.rfind("0000 DATA END WITH '.'\nPort 0003 untagged_vlan=0001 INACTIVE", 0), 0u)
      << framed;
  EXPECT_NE(framed.find("\n.\n1000 Success\n"), std::string::npos);
}

TEST_F(ConsoleTest, ErrorsCarryErrnoCodes) {
  EXPECT_EQ(console::frame_reply(run("no/such"), false).substr(0, 4), "1038");
  EXPECT_EQ(console::frame_reply(run("port/setvlan 99 10"), false).substr(0, 4), "1006");  // ENXIO
  EXPECT_EQ(console::frame_reply(run("vlan/create 5000"), false).substr(0, 4), "1022");    // EINVAL
}

TEST_F(ConsoleTest, VdeVlanModelMapsOntoPortModes) {
  ASSERT_TRUE(run("vlan/create 10").ok());
  ASSERT_TRUE(run("vlan/create 20").ok());
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(run("port/setvlan 1 10").ok());
  EXPECT_EQ(run("port/mode 1")->text, "access 10\n");
  ASSERT_TRUE(run("vlan/addport 20 1").ok());  // + tagged 20 → trunk with native 10
  EXPECT_EQ(run("port/mode 1")->text, "trunk 20 native 10\n");
  ASSERT_TRUE(run("vlan/delport 20 1").ok());
  EXPECT_EQ(run("port/mode 1")->text, "access 10\n");
  ASSERT_TRUE(run("port/setvlan 1 0").ok());  // VDE's default VLAN 0 = VLAN 1
  EXPECT_EQ(run("port/mode 1")->text, "access 1\n");
  EXPECT_FALSE(run("vlan/remove 1").ok());
  ASSERT_TRUE(run("port/mode 1 trunk 10,20 native 10").ok());
  EXPECT_EQ(run("vlan/remove 20").error().code, EADDRINUSE);
}

TEST_F(ConsoleTest, JsonAnswers) {
  ASSERT_TRUE(run("port/create 2").ok());
  auto r = run("port/print 2 --json");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(session.json);
  EXPECT_EQ(r->json[0]["port"], 2);
  EXPECT_EQ(r->json[0]["config"], "access 1");
  std::string framed = console::frame_reply(r, true);
  EXPECT_NE(framed.find("\"port\": 2"), std::string::npos);
}

TEST_F(ConsoleTest, StaticFdbEntriesAndFind) {
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(run("fdb/add 02:00:00:00:00:07 1 1").ok());
  auto f = run("hash/find 02:00:00:00:00:07");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->json["port"], 1);
  EXPECT_FALSE(run("fdb/add ff:ff:ff:ff:ff:ff 1 1").ok());
  auto show = run("fdb/show --json");
  EXPECT_EQ(show->json[0]["static"], true);
}

TEST_F(ConsoleTest, RcFileErrorsNameFileAndLine) {
  std::string path = ::testing::TempDir() + "/vnet_rc_test";
  {
    std::ofstream rc(path);
    rc << "# comment\nvlan/create 10\n\nport/create 1\nport/setvlan 1 30\n";
  }
  auto st = reg.run_file(session, path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind(path + ":5: VLAN 30 does not exist", 0), 0u)
      << st.error().message;
}

std::string write_file(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_F(ConsoleTest, RcFileThatLoadsItselfIsRefusedWithTheChain) {
  std::string a = write_file("vnet_rc_self",
                             "vlan/create 10\nload " + ::testing::TempDir() + "/vnet_rc_self\n");
  auto st = reg.run_file(session, a);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ELOOP);
  EXPECT_EQ(st.error().message, a + ":2: " + a + " loads itself");
  EXPECT_TRUE(dp.bridge("br0")->vlan_exists(10)) << "the lines before the load ran";
}

TEST_F(ConsoleTest, MutuallyLoadingRcFilesAreRefusedWithTheChain) {
  std::string a = ::testing::TempDir() + "/vnet_rc_a", b = ::testing::TempDir() + "/vnet_rc_b";
  write_file("vnet_rc_a", "# a\nload " + b + "\n");
  write_file("vnet_rc_b", "help\n\n\nload " + a + "\n");
  auto st = reg.run_file(session, a);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ELOOP);
  EXPECT_EQ(st.error().message, a + ":2: " + b + ":4: " + a + " loads itself");
  // The same through the console command, and under another name for the same file.
  auto r = run("load " + b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, b + ":4: " + a + ":2: " + b + " loads itself");
  write_file("vnet_rc_c", "load " + ::testing::TempDir() + "/./vnet_rc_c\n");
  auto c = run("load " + ::testing::TempDir() + "/vnet_rc_c");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("loads itself (as "), std::string::npos) << c.error().message;
}

TEST_F(ConsoleTest, LoadNestingIsBoundedButAFileMayBeLoadedTwice) {
  // A chain one deeper than allowed: f0 loads f1 … loads f8.
  for (int i = 0; i <= kMaxIncludeDepth; ++i) {
    write_file("vnet_rc_n" + std::to_string(i),
               i < kMaxIncludeDepth
                   ? "load " + ::testing::TempDir() + "/vnet_rc_n" + std::to_string(i + 1) + "\n"
                   : "vlan/create 30\n");
  }
  auto st = reg.run_file(session, ::testing::TempDir() + "/vnet_rc_n0");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("nested deeper than 8 files"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(dp.bridge("br0")->vlan_exists(30));
  // Positive control: loading the same file twice in sequence is no loop, and the deepest chain
  // allowed runs to its end.
  int count = 0;
  reg.add("count", "", "", [&](console::Session&, const std::vector<std::string>&) {
    ++count;
    return Result<console::Reply>(console::Reply{});
  });
  std::string leaf = write_file("vnet_rc_leaf", "count\n");
  std::string twice = write_file("vnet_rc_twice", "load " + leaf + "\nload " + leaf + "\n");
  EXPECT_TRUE(reg.run_file(session, twice).ok());
  EXPECT_EQ(count, 2);
  EXPECT_TRUE(reg.run_file(session, ::testing::TempDir() + "/vnet_rc_n1").ok());
  EXPECT_TRUE(dp.bridge("br0")->vlan_exists(30));
}

TEST_F(ConsoleTest, LoadReadsOnlyRegularFiles) {
  auto r = run("load /dev/zero");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/dev/zero: not a regular file (a character device)");
  auto d = reg.run_file(session, ::testing::TempDir());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("not a regular file (a directory)"), std::string::npos);
}

TEST_F(ConsoleTest, RcFileLinesAreLimited) {
  std::string ok = write_file(
      "vnet_rc_longok", "# " + std::string(console::kMaxLineBytes - 2, 'x') + "\nvlan/create 50\n");
  EXPECT_TRUE(reg.run_file(session, ok).ok());
  std::string bad =
      write_file("vnet_rc_long", "vlan/create 60\n# " + std::string(console::kMaxLineBytes, 'x') +
                                     "\nvlan/create 61\n");
  auto st = reg.run_file(session, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, bad + ":2: line longer than 65536 bytes");
  EXPECT_TRUE(dp.bridge("br0")->vlan_exists(60));
  EXPECT_FALSE(dp.bridge("br0")->vlan_exists(61));
}

TEST_F(ConsoleTest, SeveralBridgesPerSession) {
  ASSERT_TRUE(run("bridge/create sw2").ok());
  ASSERT_TRUE(run("bridge/select sw2").ok());
  ASSERT_TRUE(run("vlan/create 30").ok());
  ASSERT_TRUE(run("bridge/select br0").ok());
  EXPECT_FALSE(dp.bridge("br0")->vlan_exists(30));
  EXPECT_TRUE(dp.bridge("sw2")->vlan_exists(30));
  EXPECT_FALSE(run("bridge/select nope").ok());
}

}  // namespace
