// Spanning tree scenarios: every tests/stp/scenarios/*.scn replayed in virtual time (one test
// each), and the scenario language itself — bad files refused with FILE:LINE, false
// expectations failing.
#include "unit/stp/scenario.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace vnet;
using namespace vnet::stp::scenario;

namespace {

std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(VNET_STP_SCENARIO_DIR, ec)) {
    if (e.path().extension() == ".scn") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class StpScenario : public testing::TestWithParam<std::string> {};

TEST_P(StpScenario, Passes) {
  auto s = load(GetParam());
  ASSERT_TRUE(s.ok()) << s.error().message;
  Outcome out = run(*s);
  std::string failures;
  for (const std::string& f : out.failures) failures += f + "\n";
  if (s->known_failure) {
    ASSERT_FALSE(out.failures.empty()) << GetParam() << " is marked known-failure ("
                                       << *s->known_failure << ") but passes: remove the mark";
    GTEST_SKIP() << "known failure: " << *s->known_failure << "\n" << failures;
  }
  EXPECT_TRUE(out.failures.empty()) << failures << out.dump;
}

INSTANTIATE_TEST_SUITE_P(Files, StpScenario, testing::ValuesIn(scenario_files()), test_name);

TEST(StpScenarioFiles, TheDirectoryHoldsTheScenarios) {
  // A wrong VNET_STP_SCENARIO_DIR would otherwise run nothing and pass.
  EXPECT_GE(scenario_files().size(), 15u) << VNET_STP_SCENARIO_DIR;
}

// ---- the language -----------------------------------------------------------------------------

std::string parse_error(std::string_view text) {
  auto s = parse(text, "t.scn");
  return s.ok() ? "(parsed)" : s.error().message;
}

Outcome run_text(std::string_view text) {
  auto s = parse(text, "t.scn");
  if (!s.ok()) return Outcome{{"parse: " + s.error().message}, ""};
  return run(*s);
}

constexpr std::string_view kTriangle = R"(
bridge a priority 4096
bridge b
bridge c
link a:1 b:1
link a:2 c:1 as ac
link b:2 c:2
run 5s
)";

TEST(StpScenarioParser, ACompleteScenarioParses) {
  auto s = parse(std::string(kTriangle) + R"(
port a:3 edge bpdu-guard p2p yes cost 100 priority 64   # a host port
host a:3
lan shared b:5 c:5 speed 10
set b priority 8192 hello 1 max-age 6 forward-delay 4 hold 3 version stp
set c:2 loop-guard no-auto-edge
down ac
up a:2
dead b:1
alive b:1
silent b:2
unsilent b:2
unplug c:5
plug c:5
mcheck b:1
mark
expect root a
expect c root a cost 20000 root-port 1 no-tc
expect c:2 alternate discarding no-edge p2p rstp within 2s
expect tree
expect converged within 1s
expect flushed c:1
expect flushes c:1 >= 1
expect bpdus a:1 out proposal == 0
expect bpdus a:1 in any >= 1
expect topology-changes a < 10
remove c
)",
                 "t.scn");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->known_failure);
  EXPECT_EQ(s->statements.size(), 33u);
  // The port's configuration is carried complete into the statement.
  auto* p = std::get_if<AddPort>(&s->statements[7].action);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->config.admin_edge);
  EXPECT_TRUE(p->config.bpdu_guard);
  EXPECT_EQ(p->config.path_cost, 100u);
  EXPECT_EQ(p->config.priority, 64);
  auto* set = std::get_if<SetBridge>(&s->statements[10].action);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->config.force_version, 0);
  EXPECT_EQ(set->config.tx_hold_count, 3);
  auto* e = std::get_if<Expect>(&s->statements[24].action);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->within, std::chrono::seconds(2));
}

TEST(StpScenarioParser, BadStatementsAreRefusedWithFileLineAndWhatWasExpected) {
  const struct {
    std::string_view text, error;
  } cases[] = {
      {"bridge a\nfrobnicate\nexpect tree",
       "t.scn:2: 'frobnicate': expected a statement (bridge, port, link"},
      {"bridge a\nlink a:1 b:1\nexpect tree",
       "t.scn:2: 'b': expected a bridge declared before this line"},
      {"bridge a\nbridge a\nexpect tree", "t.scn:2: bridge a declared twice"},
      {"bridge root\nexpect tree", "t.scn:1: bridge name 'root': expected a letter"},
      {"bridge a priority 100\nexpect tree", "t.scn:1: bridge priority 100"},
      {"bridge a forward-delay 40\nexpect tree",
       "t.scn:1: bridge forward_delay 40: expected 4–30 s"},
      {"bridge a version mstp\nexpect tree",
       "t.scn:1: version 'mstp': expected rstp, stp or legacy"},
      {"bridge a colour red\nexpect tree", "t.scn:1: 'colour': expected a bridge option"},
      {"bridge a\nport a:0\nexpect tree",
       "t.scn:2: port 'a:0': '0': expected a whole number from 1"},
      {"bridge a\nport a:1 priority 100\nexpect tree",
       "t.scn:2: port priority 100: expected 0–240"},
      {"bridge a\nport a:1 sparkly\nexpect tree", "t.scn:2: 'sparkly': expected a port option"},
      {"bridge a\nbridge b\nlink a:1 b:1\nlink a:1 b:2\nexpect tree",
       "t.scn:4: port a:1 is already on a:1-b:1"},
      {"bridge a\nlink a:1 a:1\nexpect tree", "t.scn:2: link from a:1 to itself"},
      {"bridge a\ndown a:1\nexpect tree", "t.scn:2: port a:1: expected a port declared"},
      {"bridge a\nport a:1\ndown a:1\nexpect tree", "t.scn:3: port a:1 is on no link or lan"},
      {"bridge a\ndown nowhere\nexpect tree", "t.scn:2: 'nowhere': expected a link or lan name"},
      {"bridge a\nrun 3\nexpect tree", "t.scn:2: '3': expected a duration"},
      {"bridge a\nrun 3h\nexpect tree", "t.scn:2: '3h': expected a duration"},
      {"bridge a\nrun 60m\nrun 60m\nrun 1s\nexpect tree", "t.scn:4: the scenario runs longer than"},
      {"bridge a\nexpect a:1 root", "t.scn:2: port a:1: expected a port declared"},
      {"bridge a\nport a:1\nexpect a:1 purple", "t.scn:3: 'purple': expected one role"},
      {"bridge a\nport a:1\nexpect a:1", "t.scn:3: expect a:1: expected a role, a state or flags"},
      {"bridge a\nexpect a cost many", "t.scn:2: cost 'many': expected a whole number"},
      {"bridge a\nport a:1\nexpect flushes a:1 ~ 1", "t.scn:3: '~': expected a comparison"},
      {"bridge a\nport a:1\nexpect bpdus a:1 out mstp >= 1",
       "t.scn:3: BPDU kind 'mstp': expected any, rst, config, tcn, tc, tca, proposal or agreement"},
      {"bridge a\nport a:1\nexpect bpdus a:1 in tc >= 1",
       "t.scn:3: BPDU kind 'tc': expected any, rst, config or tcn"},
      {"bridge a\nexpect tree within soon", "t.scn:2: 'soon': expected a duration"},
      {"bridge a\nremove a\nset a priority 0\nexpect tree",
       "t.scn:3: bridge a was removed at line 2"},
      {"bridge a\nbridge b\nlink a:1 b:1 as ab\nremove b\nup ab\nexpect tree",
       "t.scn:5: segment ab joins bridge b, removed at line 4"},
      {"bridge a\nknown-failure x\nknown-failure y\nexpect tree",
       "t.scn:3: known-failure given twice"},
      {"bridge a\nrun 1s", "t.scn: no `expect` statement"},
  };
  for (const auto& c : cases) {
    std::string got = parse_error(c.text);
    EXPECT_NE(got.find(c.error), std::string::npos) << "input:\n" << c.text << "\ngot: " << got;
  }
}

TEST(StpScenarioParser, EveryErrorIsReportedNotOnlyTheFirst) {
  std::string got = parse_error("bridge a\nlink a:1 x:1\nrun never\nexpect a:1 root\n");
  EXPECT_NE(got.find("t.scn:2:"), std::string::npos) << got;
  EXPECT_NE(got.find("t.scn:3:"), std::string::npos) << got;
  EXPECT_NE(got.find("t.scn:4:"), std::string::npos) << got;
}

TEST(StpScenarioParser, BinaryAndHugeInputIsRefusedNotCrashed) {
  EXPECT_NE(parse_error(std::string("bridge a\n\0\nexpect tree", 22)).find("t.scn:2: a NUL byte"),
            std::string::npos);
  std::string many;
  for (int i = 0; i < 300; ++i) many += "bogus\n";
  auto s = parse(many, "t.scn");
  ASSERT_FALSE(s.ok());
  // The error list stops growing after a hundred.
  EXPECT_LT(std::count(s.error().message.begin(), s.error().message.end(), '\n'), 110);
}

// ---- the runner can fail ------------------------------------------------------------------------

TEST(StpScenarioRunner, TheTrianglePassesWhatTheStandardSays) {
  Outcome out = run_text(std::string(kTriangle) + R"(
expect root a
expect converged
expect tree
expect b:2 designated forwarding
expect c:2 alternate discarding
expect c root a cost 20000 root-port 1
)");
  EXPECT_TRUE(out.failures.empty()) << out.failures.front() << out.dump;
}

TEST(StpScenarioRunner, FalseExpectationsFailNamingLineAndWhatWasFound) {
  Outcome out = run_text(std::string(kTriangle) + R"(expect root b
expect c:2 designated forwarding
expect c root-port 2
expect flushes c:1 > 1000
expect bpdus a:1 out config >= 1
expect topology-changes a > 1000
expect c:2 edge
)");
  // kTriangle is 8 lines (a leading newline); the expectations are lines 9–15.
  ASSERT_EQ(out.failures.size(), 7u) << out.dump;
  EXPECT_EQ(out.failures[0],
            "t.scn:9: expect root b: got a has root a, b has root a, c has root a");
  EXPECT_EQ(out.failures[1],
            "t.scn:10: expect c:2 designated forwarding: got alternate discarding");
  EXPECT_EQ(out.failures[2],
            "t.scn:11: expect c root-port 2: got root a cost 20000 root-port 1 no-tc");
  EXPECT_NE(out.failures[3].find("t.scn:12: expect flushes c:1 > 1000: got "), std::string::npos);
  EXPECT_EQ(out.failures[4], "t.scn:13: expect bpdus a:1 out config >= 1: got 0");
  EXPECT_NE(out.failures[5].find("t.scn:14: expect topology-changes a > 1000: got "),
            std::string::npos);
  EXPECT_EQ(out.failures[6], "t.scn:15: expect c:2 edge: got alternate discarding no-edge");
  EXPECT_NE(out.dump.find("port 2 alternate discarding"), std::string::npos) << out.dump;
}

TEST(StpScenarioRunner, WithinWaitsInVirtualTimeAndFailsWhenTooShort) {
  // STP-compatible bridges: no proposal/agreement. A new port's fdWhile starts at Max Age
  // (§17.29.1 DISABLED_PORT), then learning lasts Forward Delay: forwarding after 20 + 15 s.
  constexpr std::string_view kStp = R"(
bridge a priority 4096 version stp
bridge b version stp
link a:1 b:1
)";
  Outcome too_short = run_text(std::string(kStp) + "expect b:1 forwarding within 31s\n");
  ASSERT_EQ(too_short.failures.size(), 1u);
  EXPECT_EQ(too_short.failures[0], "t.scn:5: expect b:1 forwarding within 31s: got root learning");
  Outcome enough = run_text(std::string(kStp) + "expect b:1 forwarding within 36s\n");
  EXPECT_TRUE(enough.failures.empty()) << enough.failures.front();
  // Not converged while the ports learn.
  Outcome conv = run_text(std::string(kStp) + "run 25s\nexpect converged\n");
  ASSERT_EQ(conv.failures.size(), 1u);
  EXPECT_EQ(conv.failures[0],
            "t.scn:6: expect converged: got a and b are connected but not through forwarding "
            "ports");
}

TEST(StpScenarioRunner, TreeAndConvergedFailOnALoop) {
  // Positive control: BPDU filter on every port of a triangle leaves a forwarding cycle.
  Outcome out = run_text(R"(
bridge x
bridge y
bridge z
port x:1 bpdu-filter
port x:2 bpdu-filter
port y:1 bpdu-filter
port y:2 bpdu-filter
port z:1 bpdu-filter
port z:2 bpdu-filter
link x:1 y:1
link y:2 z:1
link z:2 x:2
run 60s
expect tree
expect converged
)");
  ASSERT_EQ(out.failures.size(), 2u) << out.dump;
  EXPECT_NE(out.failures[0].find("t.scn:15: expect tree: got forwarding cycle"), std::string::npos)
      << out.failures[0];
  EXPECT_NE(out.failures[1].find("t.scn:16: expect converged: got forwarding cycle"),
            std::string::npos)
      << out.failures[1];
}

TEST(StpScenarioRunner, CountersCountFromTheLastMark) {
  Outcome out = run_text(std::string(kTriangle) + R"(
expect bpdus a:1 out rst >= 2
mark
expect bpdus a:1 out rst == 0
expect flushes c:1 == 0
run 2s
expect bpdus a:1 out rst == 1
expect bpdus b:1 in rst == 1
)");
  EXPECT_TRUE(out.failures.empty()) << out.failures.front() << out.dump;
}

TEST(StpScenarioRunner, ARefusedActionStopsTheRun) {
  // Clearing a port that is not error-disabled is refused (EALREADY): the run stops there.
  Outcome out = run_text("bridge a\nport a:1\nclear a:1\nexpect a:1 disabled\n");
  ASSERT_EQ(out.failures.size(), 1u);
  EXPECT_NE(out.failures[0].find("t.scn:3: clear a:1: "), std::string::npos) << out.failures[0];
}

}  // namespace
