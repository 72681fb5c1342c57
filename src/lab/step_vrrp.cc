// Steps `vrrp_master` and `failover`.
//   vrrp_master G is N  exactly N holds the virtual addresses of instance or sync group G: N
//                       holds all of them and no other powered router holds any
//   failover G < D      from the last fault (kill, stop, link down) to the first echo reply from
//                       G's first virtual address — sent every 10 ms by a host on its subnet,
//                       counting only replies whose Ethernet source is not the failed node —
//                       took less than D

#include <algorithm>

#include "lab/probe.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct MasterSpec final : StepSpec {
  std::string group, node;
};

bool check_group(const std::string& g, const YAML::Node& v, Reader& r) {
  if (!r.topo().group_vips(g).empty()) return true;
  r.error(v, fmt::format("no VRRP instance or sync group named '{}' on any router", g));
  return false;
}

class VrrpMasterStep final : public StepKind {
 public:
  std::string_view name() const override { return "vrrp_master"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+is\\s+\\S+$", "GROUP is NODE"),
            "NODE holds every virtual address of VRRP instance or sync group GROUP, and no "
            "other running router holds any"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "vrrp_master");
    if (!s) return nullptr;
    text = "vrrp_master " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 3 || w[1] != "is") {
      r.error(v, "vrrp_master: expected 'GROUP is NODE'");
      return nullptr;
    }
    bool ok = check_prober(w[2], v, r);
    ok &= check_group(w[0], v, r);
    if (!ok) return nullptr;
    auto spec = std::make_shared<MasterSpec>();
    spec->group = w[0];
    spec->node = w[2];
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<MasterSpec>();
    const Topology& t = ctx.topo();
    auto vips = t.group_vips(s.group);
    std::vector<std::string> holders;
    for (auto& router : t.vrrp_routers()) {
      if (!ctx.lab().powered(router)) continue;  // a node that is off holds nothing
      auto addrs = netns_addresses(t.netns(router));
      if (!addrs) return {false, addrs.error().message};
      size_t held = 0;
      for (auto& v : vips) held += std::count(addrs->begin(), addrs->end(), v.address_string());
      if (held == vips.size())
        holders.push_back(router);
      else if (held > 0)
        holders.push_back(router + " (partly)");
    }
    std::string who = holders.empty() ? "nobody" : fmt::format("{}", fmt::join(holders, ", "));
    bool ok = holders.size() == 1 && holders[0] == s.node;
    return {ok, fmt::format("{} virtual address{} held by {}", vips.size(),
                            vips.size() == 1 ? "" : "es", who)};
  }
};

struct FailoverSpec final : StepSpec {
  std::string group;
  Duration within{};
};

class FailoverStep final : public StepKind {
 public:
  std::string_view name() const override { return "failover"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+<\\s+\\S+$", "GROUP < DURATION"),
            "from the last fault to the first echo reply through GROUP's first virtual address "
            "took less than DURATION"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "failover");
    if (!s) return nullptr;
    text = "failover " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 3 || w[1] != "<") {
      r.error(v, "failover: expected 'GROUP < DURATION' (e.g. 'VI_10 < 4s')");
      return nullptr;
    }
    bool ok = check_group(w[0], v, r);
    auto d = parse_duration(w[2], std::chrono::milliseconds(1), std::chrono::seconds(600));
    if (!d) {
      r.error(v, "failover duration " + d.error().message);
      ok = false;
    }
    if (!ok) return nullptr;
    auto spec = std::make_shared<FailoverSpec>();
    spec->group = w[0];
    spec->within = *d;
    return spec;
  }
  void prepare(const Step& st, ScenarioContext& ctx) const override {
    ctx.watch_group(st.as<FailoverSpec>().group);
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    using std::chrono::milliseconds;
    const auto& s = st.as<FailoverSpec>();
    const auto* p = ctx.probe(s.group);
    auto fault = ctx.fault_time();
    if (!fault || !p)
      return {false,
              "no kill, stop, link down or link silent step ran before (or no host on the VIP's "
              "subnet)"};
    auto limit = std::chrono::duration_cast<milliseconds>(s.within);
    auto elapsed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - *fault);
    auto reply =
        p->probe->first_reply(std::max(limit - elapsed + milliseconds(500), milliseconds(0)));
    if (!reply) {
      return {false, fmt::format("no reply from {} to {} within {} of the fault ({} probes)",
                                 p->vip, p->host, format_duration(s.within), p->probe->sent())};
    }
    double ms = std::chrono::duration<double, std::milli>(*reply - *fault).count();
    return {
        ms < limit.count(),
        fmt::format("first reply through {} to {} {:.1f} ms after the fault", p->vip, p->host, ms)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_vrrp_master_step() { return std::make_unique<VrrpMasterStep>(); }
std::unique_ptr<StepKind> make_failover_step() { return std::make_unique<FailoverStep>(); }

}  // namespace vnet::lab
