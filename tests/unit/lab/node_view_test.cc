// A node's own view (lab/node_view.hh): the /etc files it gets and the keys that ask for it.
// The namespaces themselves are exercised by tests/lab/lab_nodeview.sh.

#include <gtest/gtest.h>

#include "lab/node_kind.hh"
#include "lab/node_view.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

std::string lab(const std::string& c1_keys) {
  return "name: v\nswitches: [{name: sw}]\nhosts:\n"
         "  - name: srv\n"
         "    interfaces: [{name: eth0, ipv4: [10.7.0.1/24, 10.8.0.1/24], ipv6: fd07::1/64}]\n"
         "  - name: c1\n"
         "    interfaces: [{name: eth0}]\n" +
         c1_keys +
         "routers:\n  - name: r1\n    interfaces: [{name: eth0, ipv4: 10.7.0.254/24}]\n"
         "links:\n  - endpoints: [srv:eth0, sw]\n  - endpoints: [c1:eth0, sw]\n"
         "  - endpoints: [r1:eth0, sw]\n";
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "v.yaml");
  return r ? std::string() : r.error().message;
}

TEST(NodeView, HostsListEveryAddressOfEveryNodeInTopologyOrder) {
  auto t = parse_topology(lab(""), "v.yaml");
  ASSERT_TRUE(t) << t.error().message;
  std::string hosts = hosts_text(*t, "srv");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("::1\tlocalhost ip6-localhost ip6-loopback\n"), std::string::npos);
  auto at = [&](const std::string& line) { return hosts.find(line); };
  ASSERT_NE(at("10.7.0.1\tsrv\n"), std::string::npos) << hosts;
  ASSERT_NE(at("10.8.0.1\tsrv\n"), std::string::npos) << hosts;
  ASSERT_NE(at("fd07::1\tsrv\n"), std::string::npos) << hosts;
  ASSERT_NE(at("10.7.0.254\tr1\n"), std::string::npos) << hosts;
  EXPECT_LT(at("10.7.0.1\tsrv\n"), at("10.7.0.254\tr1\n"));
  // A node with an address needs no loopback line for itself; the switch has no line at all.
  EXPECT_EQ(at("127.0.1.1"), std::string::npos) << hosts;
  EXPECT_EQ(at("\tsw\n"), std::string::npos) << hosts;
}

TEST(NodeView, ANodeWithoutAddressesStillResolvesItsOwnName) {
  auto t = parse_topology(lab(""), "v.yaml");
  ASSERT_TRUE(t) << t.error().message;
  std::string hosts = hosts_text(*t, "c1");
  EXPECT_NE(hosts.find("127.0.1.1\tc1\n"), std::string::npos) << hosts;
  EXPECT_EQ(hosts.find("\tc1\n"), hosts.find("127.0.1.1\tc1\n") + 9) << "c1 listed once";
}

TEST(NodeView, ResolvConfHasTheDeclaredServersOrNone) {
  EXPECT_EQ(resolv_text("v", "c1", {"10.7.0.1", "fd07::1"}),
            "# vnet lab v, node c1\nnameserver 10.7.0.1\nnameserver fd07::1\n");
  std::string none = resolv_text("v", "c1", {});
  EXPECT_EQ(none.find("nameserver"), std::string::npos) << none;
}

TEST(NodeView, IsolateIsOnUnlessTurnedOff) {
  auto on = parse_topology(lab(""), "v.yaml");
  ASSERT_TRUE(on) << on.error().message;
  const Node* c1 = on->node("c1");
  EXPECT_EQ(c1->kind->status(*c1, *on).value("isolate", false), true);
  auto off = parse_topology(lab("    isolate: false\n"), "v.yaml");
  ASSERT_TRUE(off) << off.error().message;
  c1 = off->node("c1");
  EXPECT_EQ(c1->kind->status(*c1, *off).value("isolate", true), false);
}

TEST(NodeView, KeysAreValidated) {
  EXPECT_EQ(errors_of(lab("    isolate: true\n    dns: [10.7.0.1, fd07::53]\n")), "");
  EXPECT_NE(errors_of(lab("    isolate: maybe\n"))
                .find("v.yaml:8:14: isolate 'maybe': expected "
                      "true or false"),
            std::string::npos)
      << errors_of(lab("    isolate: maybe\n"));
  EXPECT_NE(errors_of(lab("    dns: [ns1.example]\n"))
                .find("dns server 'ns1.example': expected an IPv4 or IPv6 address"),
            std::string::npos);
  EXPECT_NE(errors_of(lab("    isolate: false\n    dns: [10.7.0.1]\n")).find("dns needs"),
            std::string::npos);
  EXPECT_NE(errors_of(lab("    dns: 10.7.0.1\n")), "");
}

}  // namespace
