// The lab step `probe`: what loads, and each mistake refused at its line with the expected form.

#include <gtest/gtest.h>

#include <sstream>

#include "lab/scenario.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

// Hosts h1, h2 (IPv4) and h3 (no address) on one switch; `step` is the only step.
std::string errors_of(const std::string& step) {
  std::string text =
      "name: m\nswitches: [{name: sw1}]\nhosts:\n"
      "  - {name: h1, interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]}\n"
      "  - {name: h2, interfaces: [{name: eth0, ipv4: 10.0.0.2/24}]}\n"
      "  - {name: h3, interfaces: [{name: eth0}]}\n"
      "links: [{endpoints: [h1, sw1]}, {endpoints: [h2, sw1]}, {endpoints: [h3, sw1]}]\n"
      "scenarios:\n  - name: s\n    steps:\n      - " +
      step + "\n";
  auto r = parse_topology(text, "m.yaml");
  return r ? std::string() : r.error().message;
}

TEST(ProbeStep, ParsesEveryOption) {
  EXPECT_EQ(errors_of("probe: h1 h2"), "");
  EXPECT_EQ(errors_of("probe: h1 h2\n        rate: 200/s\n        size: 200\n"
                      "        duration: 5s\n        wait: 2s\n"
                      "        expect:\n          - loss 10% ± 3%\n          - rtt p50 40ms ± 2ms\n"
                      "          - rtt p99 < 45ms\n          - jitter < 5ms\n"
                      "          - throughput 9.5mbit ± 5%\n          - duplicates 0\n"),
            "");
  EXPECT_EQ(errors_of("probe: h1 h2\n        bitrate: 10mbit\n        count: 1000\n"
                      "        expect: loss < 1%"),
            "");
}

TEST(ProbeStep, RefusesMistakesAtTheirLine) {
  struct Case {
    std::string step, error;
  };
  for (const Case& c : std::vector<Case>{
           {"probe: h1", "m.yaml:11:16: probe: expected 'FROM TO'"},
           {"probe: h1 h1", "probe: FROM and TO are the same node (h1)"},
           {"probe: h1 sw1", "'sw1' is a switch: probes run on hosts and routers"},
           {"probe: h1 h9", "unknown node 'h9'"},
           {"probe: h1 h3", "probe: h3 has no IP address to send to"},
           {"probe: h1 h2\n        rate: 200",
            "m.yaml:12:15: probe rate 200: expected probes "
            "per second like 200/s"},
           {"probe: h1 h2\n        bitrate: 10", "m.yaml:12:18: probe bitrate 10: expected a rate"},
           {"probe: h1 h2\n        size: 10",
            "m.yaml:12:15: size '10': expected a whole number "
            "from 24 to 65507"},
           {"probe: h1 h2\n        count: 10\n        duration: 1s",
            "probe: count and duration: give one of them"},
           {"probe: h1 h2\n        rate: 10/s\n        bitrate: 1mbit",
            "probe: rate and bitrate: give one of them"},
           {"probe: h1 h2\n        duration: -1s", "m.yaml:12:19: duration"},
           {"probe: h1 h2\n        expect: [latency < 3ms]",
            "m.yaml:12:18: probe expect 'latency < 3ms': unknown metric 'latency'"},
           {"probe: h1 h2\n        expect: [loss -3%]",
            "loss VALUE needs a percentage from 0% to 100%"},
           {"probe: h1 h2\n        expect: [rtt p50 40ms ± 2]",
            "rtt p50 tolerance 2 needs a duration ≥ 0 with a unit (40ms, 250us) or a percentage"},
           {"probe: h1 h2\n        expect: [rtt 40ms]", "rtt needs a statistic"},
           {"probe: h1 h2\n        expect: [throughput 10mbit ± 5]",
            "throughput tolerance 5 needs a bit rate"},
           {"probe: h1 h2\n        within: 1s", "within"},
       }) {
    std::string e = errors_of(c.step);
    EXPECT_NE(e.find(c.error), std::string::npos) << c.step << " → " << e;
  }
}

}  // namespace

namespace {

TEST(ProbeStep, MeasurementsGoToJUnitPropertiesAndTheReport) {
  Report r;
  r.lab = "m";
  r.steps.push_back({"s",
                     "probe h1 h2 expect loss < 1%",
                     false,
                     "loss 2.00% … FAIL",
                     std::chrono::milliseconds(1500),
                     {{"probe.loss_pct", 2, "pct"}, {"probe.rtt_p50_ms", 0.125, "ms"}}});
  r.steps.push_back({"s", "ping h1 h2 expect reach", true, "reply", {}, {}});
  std::string x = r.junit_xml();
  EXPECT_NE(x.find("<testcase classname=\"m.s\" name=\"probe h1 h2 expect loss &lt; 1%\" "
                   "time=\"1.500\"><properties><property name=\"probe.loss_pct\" value=\"2\"/>"
                   "<property name=\"probe.rtt_p50_ms\" value=\"0.125\"/></properties>"
                   "<failure message=\"loss 2.00% … FAIL\"/></testcase>"),
            std::string::npos)
      << x;
  // A step without figures has no properties element.
  EXPECT_NE(x.find("name=\"ping h1 h2 expect reach\" time=\"0.000\"><system-out>reply"),
            std::string::npos)
      << x;
  std::ostringstream text;
  r.print(text);
  EXPECT_NE(text.str().find("measured: probe.loss_pct 2 pct, probe.rtt_p50_ms 0.125 ms"),
            std::string::npos)
      << text.str();
}

}  // namespace
