// The table of broken topology files (tests/lab/broken/*.yaml): each must be refused with a
// diagnostic on the line its first comment names ("# expect: LINE: message"), or, for a file
// that is valid but likely wrong ("# warning: LINE: message"), accepted with that warning.
#include "lab/topology.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "base/file.hh"
#include "lab/graph.hh"
#include "lab/node_kind.hh"
#include "lab/orchestrator.hh"
#include "lab/schema.hh"
#include "vrrp/keepalived_conf.hh"

using namespace vnet::lab;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> broken_files() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(VNET_BROKEN_DIR)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Topology, EveryBrokenFileIsRefusedOnTheRightLine) {
  auto files = broken_files();
  ASSERT_GE(files.size(), 12u);
  for (auto& f : files) {
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    const std::string warning_tag = "# warning: ";
    if (first.rfind(warning_tag, 0) == 0) {
      std::string spec = first.substr(warning_tag.size());
      auto colon = spec.find(": ");
      int line = std::stoi(spec.substr(0, colon));
      std::string message = spec.substr(colon + 2);
      auto r = load_topology(f.string());
      ASSERT_TRUE(r.ok()) << f << " was refused: " << r.error().message;
      bool found = false;
      for (auto& w : r->warnings) {
        found |= w.where.file == f.string() && w.where.line == line &&
                 w.message.find(message) != std::string::npos;
      }
      EXPECT_TRUE(found) << f << ": expected a warning at line " << line << ": " << message;
      continue;
    }
    const std::string tag = "# expect: ";
    ASSERT_EQ(first.rfind(tag, 0), 0u) << f << " must start with '# expect: LINE: message'";
    std::string spec = first.substr(tag.size());
    auto colon = spec.find(": ");
    std::string line = spec.substr(0, colon), message = spec.substr(colon + 2);
    auto r = load_topology(f.string());
    ASSERT_FALSE(r.ok()) << f << " was accepted";
    std::string want_prefix = f.string() + ":" + line + ":";
    bool found = false;
    std::istringstream diags(r.error().message);
    for (std::string d; std::getline(diags, d);) {
      found |= d.rfind(want_prefix, 0) == 0 && d.find(message) != std::string::npos;
    }
    EXPECT_TRUE(found) << f << ": expected a diagnostic '" << want_prefix << " …" << message
                       << "', got:\n"
                       << r.error().message;
  }
}

TEST(Topology, ReportsEveryMistakeAtOnce) {
  auto r = parse_topology(R"(name: many
switches:
  - name: sw1
    vlans: [5000]
hosts:
  - name: pc1
    interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]
    gateway: 192.168.0.1
links:
  - endpoints: [pc1:eth0, nowhere]
)",
                          "many.yaml");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("many.yaml:4:"), std::string::npos) << m;
  EXPECT_NE(m.find("many.yaml:8:"), std::string::npos) << m;
  EXPECT_NE(m.find("many.yaml:10:"), std::string::npos) << m;
}

TEST(Topology, CampusExampleIsValidAndPlanned) {
  auto r = load_topology(VNET_EXAMPLES_DIR "/campus.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  Topology t = std::move(*r);
  EXPECT_EQ(t.name, "campus");
  EXPECT_EQ(t.of_kind("switch").size(), 2u);
  EXPECT_EQ(t.of_kind("router").size(), 2u);
  EXPECT_EQ(t.group_vips("CAMPUS").size(), 3u);
  EXPECT_EQ(t.group_vips("VI_50").size(), 1u);
  EXPECT_EQ(t.vrrp_routers(), (std::vector<std::string>{"r1", "r2"}));
  // Ports are unique per switch, device names fit IFNAMSIZ and are unique.
  std::set<std::pair<std::string, uint32_t>> ports;
  std::set<std::string> devices;
  for (auto& l : t.links) {
    EXPECT_TRUE(ports.insert({l.b.node, l.port_b}).second);
    if (l.switch_to_switch) {
      EXPECT_TRUE(ports.insert({l.a.node, l.port_a}).second);
    } else {
      EXPECT_LE(l.device.size(), 15u);
      EXPECT_TRUE(devices.insert(l.device).second);
    }
  }
  EXPECT_EQ(t.address_of("pc1", false), std::optional<std::string>("10.0.10.11"));
  EXPECT_EQ(t.address_of("pc1", true), std::optional<std::string>("fd00:10::11"));
  std::string dot = to_dot(t);
  EXPECT_NE(dot.find("\"sw1\" -- \"sw2\""), std::string::npos);
  EXPECT_NE(dot.find("trunk 10,20,50"), std::string::npos);
}

TEST(Topology, ExplicitAndAutomaticPortsDoNotCollide) {
  auto r = parse_topology(R"(name: ports
switches: [{name: sw1}]
hosts:
  - {name: a, interfaces: [{name: eth0}]}
  - {name: b, interfaces: [{name: eth0}]}
  - {name: c, interfaces: [{name: eth0}]}
links:
  - endpoints: [a:eth0, sw1]
  - endpoints: [b:eth0, "sw1:1"]
  - endpoints: [c:eth0, sw1]
)",
                          "ports.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->links[1].port_b, 1u);
  EXPECT_EQ(r->links[0].port_b, 2u);
  EXPECT_EQ(r->links[2].port_b, 3u);
}

TEST(Topology, VrrpScalarFormsNameAFileAndTheDaemon) {
  fs::path dir = fs::temp_directory_path() / ("vnet-topo-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "r1.conf") << "vrrp_instance V {\n  interface eth0\n  virtual_router_id 9\n"
                                    "  virtual_ipaddress {\n    10.9.0.254/24\n  }\n}\n";
  auto topo = [&](const std::string& vrrp) {
    return parse_topology(
        "name: v\nrouters:\n  - name: r1\n    interfaces: [{name: eth0, "
        "addresses: [10.9.0.1/24]}]\n    vrrp: " +
            vrrp + "\nswitches: [{name: sw}]\nlinks:\n  - endpoints: [r1, sw]\n",
        (dir / "t.yaml").string());
  };
  auto vnet = topo("r1.conf");
  ASSERT_TRUE(vnet.ok()) << vnet.error().message;
  auto daemon = [](const Topology& t) {
    const Node* n = t.node("r1");
    return n->kind->status(*n, t).value("vrrp", std::string());
  };
  EXPECT_EQ(daemon(*vnet), "vnet");
  EXPECT_EQ(vnet->vrrp_config(*vnet->node("r1"))->instances.at(0).vrid, 9);
  auto ka = topo("keepalived r1.conf");
  ASSERT_TRUE(ka.ok()) << ka.error().message;
  EXPECT_EQ(daemon(*ka), "keepalived");
  auto bare = topo("keepalived");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("t.yaml:5"), std::string::npos) << bare.error().message;
  EXPECT_NE(bare.error().message.find("'keepalived PATH'"), std::string::npos);
  auto missing = topo("keepalived nope.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.conf: cannot open"), std::string::npos)
      << missing.error().message;
  fs::remove_all(dir);
}

}  // namespace
