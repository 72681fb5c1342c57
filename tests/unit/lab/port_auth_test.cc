// Port authentication in a topology file (lab/port_auth.hh, docs/nac.md "In a lab"): what the
// switch's `radius`, `auth` and `management` keys and a link's `auth` become, the `nac_port`
// step as the report shows it, and every bad input refused on its line with what was expected.

#include <gtest/gtest.h>

#include "lab/node_kind.hh"
#include "lab/port_auth.hh"
#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;
using namespace std::chrono_literals;

namespace {

// Lines 1–14; a test appends scenarios or replaces a line.
const std::vector<std::string> kLab = {
    "name: t",                                                                           // 1
    "switches:",                                                                         // 2
    "  - name: sw",                                                                      // 3
    "    vlans: [10, 20, 99]",                                                           // 4
    "    radius: {server: 10.0.99.10, secret: testing123}",                              // 5
    "    auth: {quietPeriod: 5s, txPeriod: 2s}",                                         // 6
    "    management: {vlan: 99, address: 10.0.99.2/24}",                                 // 7
    "hosts:",                                                                            // 8
    "  - {name: pc1, interfaces: [{name: eth0}]}",                                       // 9
    "  - {name: pc2, interfaces: [{name: eth0}]}",                                       // 10
    "links:",                                                                            // 11
    "  - {endpoints: [pc1, sw], vlan: 10, auth: dot1x}",                                 // 12
    "  - {endpoints: [pc2, sw], vlan: 10, auth: {methods: 'dot1x,mac', txPeriod: 1s}}",  // 13
    "scenarios:",                                                                        // 14
};

std::string lab(std::map<int, std::string> replace = {}, std::vector<std::string> more = {}) {
  std::string out;
  for (size_t i = 0; i < kLab.size(); ++i) {
    auto r = replace.find(static_cast<int>(i + 1));
    if (r == replace.end()) {
      out += kLab[i] + "\n";
    } else if (!r->second.empty()) {
      out += r->second + "\n";
    }
  }
  for (auto& l : more) out += l + "\n";
  return out;
}

std::string refusal(const std::string& text) {
  auto r = parse_topology(text, "t.yaml");
  return r.ok() ? std::string("(accepted)") : r.error().message;
}

TEST(PortAuthKeys, LinksCarryTheirMethodsAndOwnTimersAndTheSwitchItsRadiusClient) {
  auto t = parse_topology(lab(), "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->links.size(), 2u);
  ASSERT_TRUE(t->links[0].auth);
  EXPECT_EQ(bridge::port_auth_name(*t->links[0].auth), "dot1x");
  EXPECT_EQ(t->links[0].auth->timers, bridge::AuthTimers{});
  ASSERT_TRUE(t->links[1].auth);
  EXPECT_EQ(bridge::port_auth_name(*t->links[1].auth), "dot1x,mac");
  EXPECT_EQ(t->links[1].auth->timers.tx_period, Duration(1s));
  const Node* sw = t->node("sw");
  auto status = sw->kind->status(*sw, *t);
  EXPECT_EQ(status["radius"]["host"], "10.0.99.10");
  EXPECT_EQ(status["radius"]["port"], 1812);
  EXPECT_EQ(status["management"]["address"], "10.0.99.2/24");
  EXPECT_EQ(status.dump().find("testing123"), std::string::npos) << "the secret is never shown";
  // The management port is the switch's own: the planner gives links other numbers.
  for (const auto& l : t->links) EXPECT_NE(l.port_b, 999u);
}

TEST(PortAuthKeys, TheSwitchTimersFillWhatAPortLeavesUnset) {
  bridge::AuthTimers sw, port;
  sw.quiet_period = 5s;
  sw.tx_period = 2s;
  port.tx_period = 1s;
  auto m = merge_timers(port, sw);
  EXPECT_EQ(m.tx_period, Duration(1s));
  EXPECT_EQ(m.quiet_period, Duration(5s));
  EXPECT_FALSE(m.server_timeout);
  EXPECT_EQ(bridge::auth_timer_words(m),
            (std::vector<std::string>{"txPeriod=1s", "quietPeriod=5s"}));
}

TEST(PortAuthKeys, BadInputIsRefusedOnItsLine) {
  struct Case {
    const char* what;
    std::string text;
    int line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no secret", lab({{5, "    radius: {server: 10.0.99.10}"}}), 5, "radius without 'secret'"},
      {"empty secret", lab({{5, "    radius: {server: 10.0.99.10, secret: ''}"}}), 5,
       "the shared secret is empty"},
      {"secret with a space", lab({{5, "    radius: {server: 10.0.99.10, secret: 'a b'}"}}), 5,
       "may not contain spaces"},
      {"server by name", lab({{5, "    radius: {server: radius.lab, secret: x}"}}), 5,
       "expected an IPv4 or IPv6 address"},
      {"server port 0", lab({{5, "    radius: {server: '10.0.99.10:0', secret: x}"}}), 5, "port"},
      {"auth without radius", lab({{5, ""}}), 12, "auth dot1x needs a RADIUS server on switch sw"},
      {"unknown method", lab({{12, "  - {endpoints: [pc1, sw], vlan: 10, auth: kerberos}"}}), 12,
       "expected off, dot1x, mac"},
      {"timer without a unit",
       lab({{13, "  - {endpoints: [pc2, sw], vlan: 10, auth: {methods: mac, txPeriod: 5}}"}}), 13,
       "txPeriod"},
      {"map without methods",
       lab({{13, "  - {endpoints: [pc2, sw], vlan: 10, auth: {txPeriod: 5s}}"}}), 13,
       "without 'methods'"},
      {"misspelt timer",
       lab({{13, "  - {endpoints: [pc2, sw], vlan: 10, auth: {methods: mac, txperiod: 5s}}"}}), 13,
       "unknown key 'txperiod'"},
      {"switch timer out of range", lab({{6, "    auth: {serverTimeout: 2h}"}}), 6,
       "serverTimeout"},
      {"count out of range", lab({{6, "    auth: {serverRetries: 99}"}}), 6, "serverRetries"},
      {"gateway outside",
       lab({{7, "    management: {vlan: 99, address: 10.0.99.2/24, gateway: 10.0.98.1}"}}), 7,
       "expected an address in the subnet of 10.0.99.2/24"},
      {"address without length", lab({{7, "    management: {vlan: 99, address: 10.0.99.2}"}}), 7,
       "with its prefix length"},
      {"management VLAN not declared",
       lab({{7, "    management: {vlan: 98, address: 10.0.98.2/24}"}}), 7,
       "VLAN 98 is not declared on switch sw"},
      {"management port taken by a link",
       lab({{7, "    management: {vlan: 99, address: 10.0.99.2/24, port: 3}"},
            {12, "  - {endpoints: [pc1, 'sw:3'], vlan: 10, auth: dot1x}"}}),
       7, "port 3 is the management port and a link's port"},
  };
  for (const auto& c : cases) {
    std::string m = refusal(c.text);
    EXPECT_NE(m.find(fmt::format("t.yaml:{}:", c.line)), std::string::npos) << c.what << ": " << m;
    EXPECT_NE(m.find(c.message), std::string::npos) << c.what << ": " << m;
  }
}

TEST(NacPortStep, ParsesInlineAndKeyedFormsIntoOneReportLine) {
  auto t = parse_topology(
      lab({}, {"  - name: s",                                                        // 15
               "    steps:",                                                         // 16
               "      - nac_port: sw pc1 expect authorized vlan 20 within 10s",      // 17
               "      - {nac_port: sw pc2:eth0, expect: unauthorized, within: 2s}",  // 18
               "      - nac_port: sw pc1"}),                                         // 19
      "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const auto& steps = t->scenarios.at(0).steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].text, "nac_port sw pc1 expect authorized vlan 20 within 10s");
  EXPECT_EQ(steps[1].text, "nac_port sw pc2:eth0 expect unauthorized within 2s");
  EXPECT_EQ(steps[2].text, "nac_port sw pc1 expect authorized");
}

TEST(NacPortStep, BadStepsAreRefusedOnTheirLine) {
  struct Case {
    std::string step;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"nac_port: sw", "expected 'SWITCH PEER"},
      {"nac_port: pc1 sw", "'pc1' is not a switch"},
      {"nac_port: sw pc1 expect open", "expects authorized or unauthorized, got 'open'"},
      {"nac_port: sw pc1 expect unauthorized vlan 10", "vlan goes with expect authorized"},
      {"nac_port: sw pc1 vlan 5000", "vlan"},
      {"nac_port: sw pc1 within forever", "within"},
      {"nac_port: sw pc1 soon 1s", "'soon': expected"},
      {"{nac_port: sw pc1 expect authorized, expect: authorized}", "given twice"},
      {"nac_port: sw pc3", "no link between sw and pc3"},
  };
  for (const auto& c : cases) {
    std::string m = refusal(lab({}, {"  - name: s", "    steps:", "      - " + c.step}));
    EXPECT_NE(m.find("t.yaml:17:"), std::string::npos) << c.step << ": " << m;
    EXPECT_NE(m.find(c.message), std::string::npos) << c.step << ": " << m;
  }
  // A port that does not authenticate has nothing to assert.
  std::string m = refusal(lab({{12, "  - {endpoints: [pc1, sw], vlan: 10}"}},
                              {"  - name: s", "    steps:", "      - nac_port: sw pc1"}));
  EXPECT_NE(m.find("does not authenticate"), std::string::npos) << m;
}

}  // namespace
