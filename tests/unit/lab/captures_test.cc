// Captures declared in a lab (lab/captures.hh): NODE:IF resolves to the switch port the lab plugs
// that interface into, SWITCH:PORT to itself; options and file names; the directory is anchored
// at the lab file's; every mistake (node, interface, port, point, direction, filter, a port
// captured twice) is reported at its file:line.

#include <gtest/gtest.h>

#include "lab/captures.hh"
#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;

namespace {

// `captures` is spliced in at line 10.
std::string lab(const std::string& captures) {
  return "name: m\n"                                                         // 1
         "switches: [{name: sw1}, {name: sw2}]\n"                            // 2
         "hosts:\n"                                                          // 3
         "  - {name: pc1, interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]}\n"  // 4
         "  - {name: pc2, interfaces: [{name: eth0, ipv4: 10.0.0.2/24}]}\n"  // 5
         "links:\n"                                                          // 6
         "  - endpoints: [sw1, pc1]\n"                                       // 7
         "  - endpoints: [sw1:5, sw2]\n    trunk: [1]\n"                     // 8-9
         "  - endpoints: [sw2, pc2]\n" +                                     // 10
         captures;                                                           // 11…
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "/labs/m.yaml");
  return r ? std::string() : r.error().message;
}

TEST(LabCaptures, PortsResolveToTheSwitchPortsTheLabPlugsThemInto) {
  auto t = parse_topology(lab("captures:\n"
                              "  ports:\n"
                              "    - pc1:eth0\n"
                              "    - pc2\n"
                              "    - sw1:5\n"
                              "    - {port: pc1:eth0, point: pre, direction: in, filter: icmp}\n"),
                          "/labs/m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->captures.size(), 4u);
  auto port = [&](size_t i) {
    CapturePort p = capture_port(*t, t->captures[i]);
    return p.bridge + ":" + std::to_string(p.port);
  };
  EXPECT_EQ(port(0), "sw1:1");
  EXPECT_EQ(port(1), "sw2:2") << "pc2's only interface (the cable took sw2's port 1)";
  EXPECT_EQ(port(2), "sw1:5") << "the cable's end";
  EXPECT_EQ(port(3), "sw1:1");
  EXPECT_FALSE(t->captures[0].pre);
  EXPECT_EQ(t->captures[0].direction, "both");
  EXPECT_TRUE(t->captures[3].pre);
  EXPECT_EQ(t->captures[3].direction, "in");
  EXPECT_EQ(t->captures[3].filter, "icmp");
  EXPECT_EQ(t->capture_dir, "/labs/captures");
  EXPECT_EQ(capture_file(*t, t->captures[0]), "/labs/captures/m-pc1-eth0.pcapng");
  EXPECT_EQ(capture_file(*t, t->captures[2]), "/labs/captures/m-sw1-5.pcapng");
  EXPECT_EQ(capture_file(*t, t->captures[3]), "/labs/captures/m-pc1-eth0-pre.pcapng");
}

TEST(LabCaptures, TheDirectoryIsRelativeToTheLabFile) {
  auto t = parse_topology(lab("captures: {dir: ../out, ports: [pc1:eth0]}\n"), "/labs/x/m.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->capture_dir, "/labs/out");
  auto abs = parse_topology(lab("captures: {dir: /tmp/c, ports: [pc1:eth0]}\n"), "/labs/m.yaml");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->capture_dir, "/tmp/c");
  auto none = parse_topology(lab(""), "/labs/m.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->captures.empty()) << "no key, no captures";
}

TEST(LabCaptures, EveryMistakeIsReportedOnItsLine) {
  struct Case {
    std::string captures;
    std::string diagnostic;
  };
  const std::vector<Case> cases = {
      {"captures: {ports: [pc9:eth0]}\n", "/labs/m.yaml:11:20: capture of 'pc9:eth0': no node"},
      {"captures: {ports: [pc1:eth7]}\n",
       "/labs/m.yaml:11:20: capture of 'pc1:eth7': node pc1 has no interface 'eth7'"},
      {"captures: {ports: [sw1]}\n", "/labs/m.yaml:11:20: capture of 'sw1': expected SWITCH:PORT"},
      {"captures: {ports: [sw1:9]}\n",
       "/labs/m.yaml:11:20: capture of sw1:9: switch sw1 has no port 9 in this lab (its ports: 1, "
       "5)"},
      {"captures: {ports: [{port: pc1, point: middle}]}\n",
       "/labs/m.yaml:11:39: capture point 'middle': expected pre or post"},
      {"captures: {ports: [{port: pc1, direction: up}]}\n",
       "/labs/m.yaml:11:43: capture direction 'up': expected in, out or both"},
      {"captures: {ports: [{port: pc1, filter: \"tcp port\"}]}\n",
       "/labs/m.yaml:11:40: capture filter 'tcp port'"},
      {"captures: {ports: [{port: pc1, file: x}]}\n", "unknown key 'file'"},
      {"captures: {ports: [pc1:eth0, sw1:1]}\n",
       "/labs/m.yaml:11:30: switch port sw1:1 is captured post twice (also at line 11)"},
      {"captures: {dir: x}\n", "ports"},
      {"captures: [pc1]\n", "/labs/m.yaml:11:11"},
  };
  for (const auto& c : cases) {
    std::string e = errors_of(lab(c.captures));
    EXPECT_NE(e.find(c.diagnostic), std::string::npos)
        << c.captures << "\nexpected: " << c.diagnostic << "\ngot: " << e;
  }
  EXPECT_EQ(errors_of(lab("captures: {ports: [pc1:eth0, {port: sw1:1, point: pre}]}\n")), "")
      << "positive control: one port at both points";
}

}  // namespace
