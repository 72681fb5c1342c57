// Step `dns`: a name resolution from inside a node (busybox nslookup in the node's namespace and
// view: a DNS query to the server in its /etc/resolv.conf, or to `server`; /etc/hosts is not
// consulted, so the answer is the DNS server's).
//   dns: NODE NAME [expect ADDRESS | none]
//   expect: 10.0.10.12     one of the answers is this address (also inline, as above)
//   expect: none           no address comes back (NXDOMAIN or no answer)
//   server: 10.0.10.1      ask this server instead of the node's resolv.conf
//   within: 5s             (default 5 s)
// Without expect, any address passes.

#include "base/parse.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct DnsSpec final : StepSpec {
  std::string node, name, expect, server;
  Duration within{std::chrono::seconds(5)};
};

// The addresses of busybox nslookup's answer: "Address: A" or "Address 1: A NAME" lines after
// the first "Name:" line (the lines before it describe the server).
std::vector<std::string> answer_addresses(const std::string& out) {
  std::vector<std::string> got;
  auto at = out.find("\nName:");
  if (at == std::string::npos) return got;
  size_t pos = at;
  while ((pos = out.find("\nAddress", pos + 1)) != std::string::npos) {
    auto colon = out.find(':', pos);
    auto end = out.find('\n', pos + 1);
    if (colon == std::string::npos || (end != std::string::npos && colon > end)) continue;
    auto w = Reader::words(
        out.substr(colon + 1, end == std::string::npos ? std::string::npos : end - colon - 1));
    if (!w.empty()) got.push_back(w[0]);
  }
  return got;
}

class DnsStep final : public StepKind {
 public:
  std::string_view name() const override { return "dns"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+(\\s+expect\\s+\\S+)?$", "NODE NAME [expect X]"),
            "resolves NAME from inside NODE with a DNS query (busybox nslookup)"};
  }
  std::vector<KeySpec> options() const override {
    return {
        {"expect", schema::string("ADDRESS | none"),
         "one answer is ADDRESS, or none comes (default: any address)"},
        {"server", schema::ref("ipAddress"), "ask this server (default the node's resolv.conf)"},
        {"within", schema::ref("duration"), "(default 5 s)"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "dns");
    if (!s) return nullptr;
    auto w = Reader::words(*s);
    auto spec = std::make_shared<DnsSpec>();
    if (w.size() == 4 && w[2] == "expect") {
      spec->expect = w[3];
    } else if (w.size() != 2) {
      r.error(v, "dns: expected 'NODE NAME' or 'NODE NAME expect ADDRESS|none'");
      return nullptr;
    }
    spec->node = w[0];
    spec->name = w[1];
    if (!check_prober(spec->node, v, r)) return nullptr;
    if (step["expect"]) {
      if (!spec->expect.empty()) {
        r.error(step["expect"], "dns: expect is given twice (inline and as a key)");
        return nullptr;
      }
      spec->expect = r.str(step["expect"], "dns expect").value_or("");
    }
    if (!spec->expect.empty() && spec->expect != "none" &&
        !packet::Ipv4Address::parse(spec->expect).ok() &&
        !packet::Ipv6Address::parse(spec->expect).ok()) {
      r.error(
          step["expect"] ? step["expect"] : v,
          fmt::format("dns expect '{}': expected an IPv4 or IPv6 address, or none", spec->expect));
      return nullptr;
    }
    if (step["server"]) {
      spec->server = r.str(step["server"], "dns server").value_or("");
      if (!packet::Ipv4Address::parse(spec->server).ok() &&
          !packet::Ipv6Address::parse(spec->server).ok()) {
        r.error(step["server"],
                fmt::format("dns server '{}': expected an IPv4 or IPv6 address", spec->server));
        return nullptr;
      }
    }
    if (step["within"]) {
      auto d = r.duration(step["within"], "within", std::chrono::milliseconds(100),
                          std::chrono::seconds(60));
      if (!d) return nullptr;
      spec->within = *d;
    }
    text = fmt::format("dns {} {} expect {}", spec->node, spec->name,
                       spec->expect.empty() ? "an address" : spec->expect);
    return spec;
  }

  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<DnsSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    std::vector<std::string> argv = {"busybox", "nslookup", s.name};
    if (!s.server.empty()) argv.push_back(s.server);
    auto r = run_captured(ctx.topo().netns(s.node), argv, ctx.lab().view_of(s.node), s.within,
                          16 * 1024);
    if (!r) return {false, r.error().message};
    auto got = answer_addresses(r->out);
    Outcome o;
    o.out = r->out;
    std::string answers = got.empty() ? "no address" : fmt::format("{}", fmt::join(got, ", "));
    o.detail = fmt::format("{} resolved {}: {}", s.node, s.name, answers);
    if (r->timed_out) o.detail += " (timed out)";
    if (s.expect == "none") {
      o.passed = got.empty();
    } else if (s.expect.empty()) {
      o.passed = !got.empty();
    } else {
      o.passed = std::find(got.begin(), got.end(), s.expect) != got.end();
      if (!o.passed) o.detail += "; expected " + s.expect;
    }
    return o;
  }
};

}  // namespace

std::unique_ptr<StepKind> make_dns_step() { return std::make_unique<DnsStep>(); }

}  // namespace vnet::lab
