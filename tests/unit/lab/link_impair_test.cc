// Link impairment in the lab's model: the `impair` key of a link (words or a map of them, both
// directions or `from` one end) gives exactly what the console's parser gives for the same
// words; each direction lands on the right switch port and console direction; the `impair` and
// `flap` steps parse; every mistake is reported at its file:line with the key and the range.

#include <gtest/gtest.h>

#include "impair/settings.hh"
#include "lab/link_impair.hh"
#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;

namespace {

// Two hosts and two switches; `pc1_link` is spliced into pc1's link map (line 9 of the file),
// `steps` after line 13.
std::string lab(const std::string& pc1_link, const std::string& steps = "",
                const std::string& cable = "") {
  std::string s =
      "name: m\n"                                                         // 1
      "switches: [{name: sw1}, {name: sw2}]\n"                            // 2
      "hosts:\n"                                                          // 3
      "  - {name: pc1, interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]}\n"  // 4
      "  - {name: pc2, interfaces: [{name: eth0, ipv4: 10.0.0.2/24}]}\n"  // 5
      "links:\n"                                                          // 6
      "  - endpoints: [sw2, pc2]\n"                                       // 7
      "  - endpoints: [sw1, sw2]\n    trunk: [1]\n" +
      cable +                                    // 8-9
      "  - endpoints: [sw1, pc1]\n" + pc1_link;  // 10
  if (!steps.empty()) s += "scenarios:\n  - steps:\n" + steps;
  return s;
}

impair::Settings settings(std::string_view words) {
  auto s = impair::parse_settings(words);
  EXPECT_TRUE(s.ok()) << words;
  return s.ok() ? *s : impair::Settings{};
}

const Link& node_link(const Topology& t, const std::string& node) {
  for (auto& l : t.links) {
    if (!l.switch_to_switch && l.a.node == node) return l;
  }
  throw std::runtime_error("no link of " + node);
}

const Link& cable(const Topology& t) {
  for (auto& l : t.links) {
    if (l.switch_to_switch) return l;
  }
  throw std::runtime_error("no cable");
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "m.yaml");
  return r ? std::string() : r.error().message;
}

TEST(LinkImpair, WordsImpairBothDirectionsAsTheConsoleParserDoes) {
  auto t = parse_topology(lab("    impair: loss 10% delay 20ms 5ms rate 10mbit\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Link& l = node_link(*t, "pc1");
  auto want = settings("loss 10% delay 20ms 5ms rate 10mbit");
  ASSERT_TRUE(l.impair_ab && l.impair_ba);
  EXPECT_EQ(*l.impair_ab, want);
  EXPECT_EQ(*l.impair_ba, want);
  EXPECT_FALSE(node_link(*t, "pc2").impair_ab) << "an undeclared link is not impaired";
  EXPECT_FALSE(cable(*t).impair_ab);
}

TEST(LinkImpair, AMapOfKeysIsTheSameAsItsWords) {
  auto t = parse_topology(
      lab("    impair: {loss: 10%, delay: 20ms 5ms, distribution: normal, mtu: 1400}\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*node_link(*t, "pc1").impair_ab,
            settings("loss 10% delay 20ms 5ms distribution normal mtu 1400"));
}

TEST(LinkImpair, FromOneEndAddsWordsForWhatThatEndSends) {
  // Written switch first: the model puts the node at a, so "from pc1" must still be pc1's frames.
  auto t =
      parse_topology(lab("    impair:\n      delay: 10ms\n      from: {pc1: loss 5%}\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Link& l = node_link(*t, "pc1");
  ASSERT_EQ(l.a.node, "pc1");
  ASSERT_TRUE(l.impair_ab && l.impair_ba);
  EXPECT_EQ(*l.impair_ab, settings("delay 10ms loss 5%"));
  EXPECT_EQ(*l.impair_ba, settings("delay 10ms"));
  // Only one end: the other direction is not impaired at all.
  t = parse_topology(lab("    impair: {from: {sw1: {rate: 1mbit}}}\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(node_link(*t, "pc1").impair_ab);
  EXPECT_EQ(*node_link(*t, "pc1").impair_ba, settings("rate 1mbit"));
}

TEST(LinkImpair, EachDirectionLandsOnTheLinksSwitchPort) {
  auto t = parse_topology(lab("", "", "    impair: {from: {sw2: loss 1%}}\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  // Node link: the node's frames enter the switch (the port's in), the switch's leave (out).
  const Link& n = node_link(*t, "pc1");
  ImpairPort into = impair_port(n, true), toward = impair_port(n, false);
  EXPECT_EQ(into.bridge, "sw1");
  EXPECT_EQ(into.port, n.port_b);
  EXPECT_EQ(into.direction, "in");
  EXPECT_EQ(toward.port, n.port_b);
  EXPECT_EQ(toward.direction, "out");
  // Switch link: both on a's port; a's frames leave it (out), b's arrive on it (in).
  const Link& c = cable(*t);
  ASSERT_EQ(c.a.node, "sw1");
  ImpairPort ab = impair_port(c, true), ba = impair_port(c, false);
  EXPECT_EQ(ab.bridge, "sw1");
  EXPECT_EQ(ab.port, c.port_a);
  EXPECT_EQ(ab.direction, "out");
  EXPECT_EQ(ba.bridge, "sw1");
  EXPECT_EQ(ba.direction, "in");
  EXPECT_FALSE(c.impair_ab);
  EXPECT_EQ(*c.impair_ba, settings("loss 1%")) << "sw2's frames: sw1's port in";
}

TEST(LinkImpair, WordsThatAddUpToNothingImpairNothing) {
  auto t = parse_topology(lab("    impair: loss 10% clear\n"), "m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(node_link(*t, "pc1").impair_ab);
}

TEST(LinkImpair, MistakesNameTheLineTheKeyAndTheRange) {
  auto e = errors_of(lab("    impair: loss 120%\n"));
  EXPECT_NE(e.find("m.yaml:11:13: link pc1–sw1 impair: loss 120%: expected a percentage from 0% "
                   "to 100%"),
            std::string::npos)
      << e;
  // Map form: at the key the error is about.
  e = errors_of(lab("    impair:\n      loss: 5%\n      delay: 2h\n"));
  EXPECT_NE(e.find("m.yaml:13:7: link pc1–sw1 impair: delay 2h: expected a duration"),
            std::string::npos)
      << e;
  e = errors_of(lab("    impair: {los: 5%}\n"));
  EXPECT_NE(e.find("m.yaml:11:"), std::string::npos) << e;
  EXPECT_NE(e.find("'los': expected an impairment key"), std::string::npos) << e;
  e = errors_of(lab("    impair: {from: {pc9: loss 1%}}\n"));
  EXPECT_NE(e.find("m.yaml:11:21: link pc1–sw1 impair from pc9: not an end of this link "
                   "(expected pc1 or sw1)"),
            std::string::npos)
      << e;
  e = errors_of(lab("    impair: {from: {pc1: rate 5}}\n"));
  EXPECT_NE(e.find("link pc1–sw1 impair from pc1: rate 5: expected a rate"), std::string::npos)
      << e;
  e = errors_of(lab("    impair: [loss, 5%]\n"));
  EXPECT_NE(e.find("m.yaml:11:13: link pc1–sw1 impair: expected impairment words"),
            std::string::npos)
      << e;
  e = errors_of(lab("    impair: ''\n"));
  EXPECT_NE(e.find("m.yaml:11:13:"), std::string::npos) << e;
}

TEST(LinkImpair, VlanSubinterfacesCarryTheirCablesImpairment) {
  auto t = parse_topology(R"(name: s
switches: [{name: sw1, vlans: [10]}]
routers:
  - name: r1
    interfaces: [{name: eth0}, {name: eth0.10, ipv4: 10.0.10.1/24}]
links:
  - endpoints: [r1:eth0, sw1]
    trunk: [10]
    impair: delay 5ms
)",
                          "s.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->links.size(), 2u);
  for (auto& l : t->links) {
    ASSERT_TRUE(l.impair_ab) << l.a.interface;
    EXPECT_EQ(*l.impair_ab, settings("delay 5ms")) << l.a.interface;
  }
}

// ---- steps

std::string step(const std::string& s) { return "      - " + s + "\n"; }

TEST(ImpairStep, ParsesBothDirectionsOneEndAndClear) {
  for (const char* s : {"impair: pc1 sw1 loss 10% delay 20ms 5ms",
                        "impair: pc1 sw1 loss 10% delay 20ms\u00b15ms",  // the issue's words
                        "impair: sw1 pc1:eth0 rate 1mbit", "impair: pc1 sw1 from pc1 loss 100%",
                        "impair: pc1 sw1 from sw1 clear", "impair: pc1 sw1 clear",
                        "impair: sw1 sw2 from sw2 delay 1ms", "impair: pc1 sw1 clear loss 1%"}) {
    EXPECT_EQ(errors_of(lab("", step(s))), "") << s;
  }
  // Checked on top of the declared settings: reordering needs a delay, which the link has.
  EXPECT_EQ(errors_of(lab("    impair: delay 10ms\n", step("impair: pc1 sw1 reorder 5%"))), "");
  EXPECT_NE(errors_of(lab("", step("impair: pc1 sw1 reorder 5%"))), "");
}

TEST(ImpairStep, MistakesNameTheLineAndTheWord) {
  auto e = errors_of(lab("", step("impair: pc1 sw1 loss 120%")));
  EXPECT_NE(e.find("m.yaml:13:17: impair pc1 sw1: loss 120%: expected a percentage from 0% to "
                   "100%"),
            std::string::npos)
      << e;
  e = errors_of(lab("", step("impair: pc1 sw2 loss 1%")));
  EXPECT_NE(e.find("m.yaml:13:17: impair step: no link between pc1 and sw2"), std::string::npos)
      << e;
  e = errors_of(lab("", step("impair: pc1 sw1 from pc2 loss 1%")));
  EXPECT_NE(e.find("impair pc1 sw1 from pc2: not an end of this link (expected pc1 or sw1)"),
            std::string::npos)
      << e;
  e = errors_of(lab("", step("impair: pc1 sw1")));
  EXPECT_NE(e.find("m.yaml:13:17: impair: expected 'X Y [from END] WORDS…'"), std::string::npos)
      << e;
  e = errors_of(lab("", step("impair: pc1 sw1 from pc1")));
  EXPECT_NE(e.find("impair: expected 'X Y from END WORDS…'"), std::string::npos) << e;
  e = errors_of(lab("", step("impair: pc1 sw1 sometimes")));
  EXPECT_NE(e.find("'sometimes': expected an impairment key"), std::string::npos) << e;
  e = errors_of(lab("", "      - wait_until: {impair: pc1 sw1 clear}\n        within: 1s\n"));
  EXPECT_NE(e.find("wait_until polls probes and assertions, not 'impair'"), std::string::npos) << e;
}

TEST(FlapStep, ParsesTimesPeriodAndDownTime) {
  for (const char* s : {"flap: pc1 sw1 times 5 every 200ms", "flap: sw1 sw2 every 1s times 1",
                        "flap: pc1:eth0 sw1 times 3 every 100ms down 10ms"}) {
    EXPECT_EQ(errors_of(lab("", step(s))), "") << s;
  }
}

TEST(FlapStep, MistakesNameTheLineAndTheRange) {
  struct Case {
    const char* step;
    const char* message;
  } cases[] = {
      {"flap: pc1 sw1 times 0 every 200ms", "flap times 0: expected a whole number from 1 to 1000"},
      {"flap: pc1 sw1 times 5x every 200ms", "flap times 5x: expected a whole number from 1 to"},
      {"flap: pc1 sw1 times 5 every 1ms", "flap every 1ms: expected a duration from 2ms to 60s"},
      {"flap: pc1 sw1 times 5 every 100ms down 100ms",
       "flap down 100ms: expected less than the period (100ms)"},
      {"flap: pc1 sw1 times 5",
       "flap: expected 'X Y times N every PERIOD [down D]': times and every are required"},
      {"flap: pc1 sw1 times 5 every", "flap: expected 'X Y times N every PERIOD [down D]'"},
      {"flap: pc1 sw1 times 5 often 1s", "flap: unknown word 'often'"},
      {"flap: pc1 pc2 times 5 every 1s", "flap step: no link between pc1 and pc2"},
      {"flap: pc1 sw1 times 1000 every 60s", "flap: 1000 times every 60s is longer than"},
  };
  for (auto& c : cases) {
    auto e = errors_of(lab("", step(c.step)));
    EXPECT_NE(e.find(std::string("m.yaml:13:15: ") + c.message), std::string::npos)
        << c.step << "\n"
        << e;
  }
}

}  // namespace
