#include "lab/captures.hh"

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "capture/capture.hh"
#include "lab/node_kind.hh"
#include "lab/orchestrator.hh"
#include "lab/reader.hh"
#include "lab/runtime.hh"

namespace vnet::lab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The longest BPF program the switch compiles for (capture::Options::snaplen's default).
constexpr uint32_t kSnaplen = 262144;

json port_schema() {
  return schema::pattern("^[A-Za-z][A-Za-z0-9_-]*(:[A-Za-z0-9_.-]+)?$",
                         "NODE:IF (the switch port that interface is plugged into) or "
                         "SWITCH:PORT");
}

// "h1:eth0", "h1" (its one interface), "sw1:3" into c; false after a diagnostic.
bool parse_port(const YAML::Node& n, LabCapture& c, const Topology& t, Reader& r) {
  auto s = r.str(n, "capture port");
  if (!s) return false;
  auto colon = s->find(':');
  c.node = s->substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : s->substr(colon + 1);
  const Node* node = t.node(c.node);
  if (!node) {
    r.error(n, fmt::format("capture of '{}': no node named '{}'", *s, c.node));
    return false;
  }
  if (node->kind->is_switch()) {
    auto p = parse_int(rest, 1, 65535);
    if (!p) {
      r.error(n,
              fmt::format("capture of '{}': expected SWITCH:PORT with a port number 1..65535", *s));
      return false;
    }
    c.port = static_cast<uint32_t>(*p);
    return true;
  }
  if (rest.empty()) {
    if (node->interfaces.size() != 1) {
      r.error(n, fmt::format("capture of '{}': name the interface (NODE:IF), {} has {}", *s, c.node,
                             node->interfaces.size()));
      return false;
    }
    rest = node->interfaces[0].name;
  }
  if (!node->interface(rest)) {
    r.error(n, fmt::format("capture of '{}': node {} has no interface '{}'", *s, c.node, rest));
    return false;
  }
  c.interface = rest;
  for (const Link& l : t.links) {
    if (!l.switch_to_switch && l.a.node == c.node && l.a.interface == rest) return true;
  }
  r.error(n, fmt::format("capture of '{}': {}:{} is not linked to a switch", *s, c.node, rest));
  return false;
}

void parse_entry(const YAML::Node& n, Topology& t, Reader& r) {
  LabCapture c;
  c.where = r.at(n);
  if (n.IsScalar()) {
    if (parse_port(n, c, t, r)) t.captures.push_back(std::move(c));
    return;
  }
  if (!n.IsMap()) {
    r.error(n, "a capture is NODE:IF, SWITCH:PORT or a map {port: NODE:IF, point: pre, …}");
    return;
  }
  if (!r.check_keys(n, capture_keys()) || !n["port"]) return;
  bool ok = parse_port(n["port"], c, t, r);
  if (n["point"]) {
    auto p = r.str(n["point"], "capture point");
    if (p && *p != "pre" && *p != "post") {
      r.error(n["point"], fmt::format("capture point '{}': expected pre or post", *p));
      ok = false;
    }
    c.pre = p && *p == "pre";
  }
  if (n["direction"]) {
    auto d = r.str(n["direction"], "capture direction");
    if (d && *d != "in" && *d != "out" && *d != "both") {
      r.error(n["direction"], fmt::format("capture direction '{}': expected in, out or both", *d));
      ok = false;
    }
    if (d) c.direction = *d;
  }
  if (n["filter"]) {
    auto f = r.str(n["filter"], "capture filter");
    if (f) {
      if (auto compiled = capture::Filter::compile(*f, kSnaplen); !compiled) {
        r.error(n["filter"], compiled.error().message);
        ok = false;
      }
      c.filter = *f;
    }
  }
  if (ok) t.captures.push_back(std::move(c));
}

}  // namespace

KeySpec captures_key() {
  return {"captures", schema::ref("captures"),
          "packet captures `up` starts and `down` completes, one pcapng file per port "
          "(docs/capture.md)"};
}

const KeyTable& captures_keys() {
  static const KeyTable t{
      "captures",
      {
          {"dir", schema::string(),
           "directory of the pcapng files, relative to the lab file's directory (default "
           "`captures`); files are named <lab>-<node>-<if>[-pre].pcapng"},
          {"ports", schema::list(schema::one_of({port_schema(), schema::ref("capture")})),
           "what to capture: NODE:IF, SWITCH:PORT, or a map with options", true},
      }};
  return t;
}

const KeyTable& capture_keys() {
  static const KeyTable t{
      "capture",
      {
          {"port", port_schema(), "NODE:IF or SWITCH:PORT", true},
          {"point", schema::enumeration({"pre", "post"}),
           "post (default): after the port's impairment; pre: as offered, with frames the "
           "impairment or the bridge dropped marked `dropped: REASON`"},
          {"direction", schema::enumeration({"in", "out", "both"}),
           "frames the switch port receives, sends, or both (default)"},
          {"filter", schema::string(), "BPF filter, tcpdump syntax (checked when loading)"},
      }};
  return t;
}

void parse_captures(const YAML::Node& value, Topology& t, Reader& r) {
  if (!value) return;
  if (!r.check_keys(value, captures_keys())) return;
  std::string dir = "captures";
  if (value["dir"]) {
    auto d = r.str(value["dir"], "captures dir");
    if (d && d->empty()) r.error(value["dir"], "captures dir: expected a directory");
    if (d && !d->empty()) dir = *d;
  }
  std::error_code ec;
  fs::path base = fs::absolute(fs::path(t.file), ec).parent_path();
  t.capture_dir = (base / dir).lexically_normal().string();
  for (auto n : r.list(value["ports"], "captures ports")) parse_entry(n, t, r);
}

void check_capture_ports(const Topology& t, Reader& r) {
  std::map<std::string, std::set<uint32_t>> ports;  // switch → the ports the lab's links use
  for (const Link& l : t.links) {
    if (l.switch_to_switch) ports[l.a.node].insert(l.port_a);
    ports[l.b.node].insert(l.port_b);
  }
  std::map<std::tuple<std::string, uint32_t, bool>, int> seen;
  for (const LabCapture& c : t.captures) {
    CapturePort p = capture_port(t, c);
    if (c.port && !ports[c.node].count(*c.port)) {
      r.error(c.where,
              fmt::format("capture of {}:{}: switch {} has no port {} in this lab (its "
                          "ports: {})",
                          c.node, *c.port, c.node, *c.port, fmt::join(ports[c.node], ", ")));
      continue;
    }
    auto [it, fresh] = seen.emplace(std::tuple{p.bridge, p.port, c.pre}, c.where.line);
    if (!fresh) {
      r.error(c.where, fmt::format("switch port {}:{} is captured {} twice (also at line {})",
                                   p.bridge, p.port, c.pre ? "pre" : "post", it->second));
    }
  }
}

CapturePort capture_port(const Topology& t, const LabCapture& c) {
  if (c.port) return {c.node, static_cast<bridge::PortNo>(*c.port)};
  for (const Link& l : t.links) {
    if (!l.switch_to_switch && l.a.node == c.node && l.a.interface == c.interface)
      return {l.b.node, static_cast<bridge::PortNo>(l.port_b)};
  }
  return {};
}

std::string capture_file(const Topology& t, const LabCapture& c) {
  std::string what = c.port ? std::to_string(*c.port) : c.interface;
  return fmt::format("{}/{}-{}-{}{}.pcapng", t.capture_dir, t.name, c.node, what,
                     c.pre ? "-pre" : "");
}

Status start_captures(LabRuntime& rt) {
  const Topology& t = rt.topo();
  if (t.captures.empty()) return {};
  std::error_code ec;
  fs::create_directories(t.capture_dir, ec);
  if (ec) {
    return make_error(EIO, "captures: cannot create {}: {}", t.capture_dir, ec.message());
  }
  for (const LabCapture& c : t.captures) {
    CapturePort p = capture_port(t, c);
    std::string port = fmt::format("{}:{}", p.bridge, p.port);
    std::string file = capture_file(t, c);
    std::string name = c.port ? port : c.node + ":" + c.interface;
    ServiceSpec s;
    s.argv = {rt.vnet_binary(),           "capture",     lab_console(t.name), port, "-w", file,
              c.pre ? "--pre" : "--post", "--direction", c.direction};
    if (!c.filter.empty()) {
      s.argv.push_back("--");
      s.argv.push_back(c.filter);
    }
    s.what = fmt::format("capture {}{} → {}", name, c.pre ? " pre" : "", file);
    s.log_file = fmt::format("{}/capture-{}-{}{}.log", rt.state_dir(), p.bridge, p.port,
                             c.pre ? "-pre" : "");
    // Ready once the switch accepted the capture: `vnet capture` opens the file then.
    s.ready = [file]() -> Status {
      std::error_code e;
      if (fs::exists(file, e)) return {};
      return make_error(EAGAIN, "{} is not open yet", file);
    };
    if (fs::exists(file, ec)) fs::remove(file, ec);  // a file of an earlier run is not this one's
    if (auto st = rt.start_service(*t.node(p.bridge), t.switch_netns(), std::move(s)); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace vnet::lab
