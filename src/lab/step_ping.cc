// Steps `ping` and `ping6`: ICMP echo from a node to a node or an address.
//   reach       a reply within 3 s (500 ms when polled by wait_until)
//   unreachable no reply to 3 requests over 1 s
// From a node that runs commands but no probes (a VM): the guest's own ping through exec
// (NodeKind::exec): for reach up to three `ping -c 1 -W 1` until one has a reply (within about
// 3 s), for unreachable `ping -c 3 -w 1` (none within 1 s); the exit status decides.

#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/probe.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct PingSpec final : StepSpec {
  std::string from, to;
  bool reach = true;
};

class PingStep final : public StepKind {
 public:
  explicit PingStep(bool v6) : v6_(v6) {}
  std::string_view name() const override { return v6_ ? "ping6" : "ping"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+$", "FROM TO"),
            v6_ ? "ICMPv6 echo from node FROM to a node or IPv6 address"
                : "ICMP echo from node FROM to a node or IPv4 address"};
  }
  std::vector<KeySpec> options() const override {
    return {expect_key({"reach", "unreachable"},
                       "reach (default): a reply within 3 s; unreachable: none to 3 requests "
                       "over 1 s")};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, std::string(name()));
    if (!s) return nullptr;
    auto w = Reader::words(*s);
    auto exp = expect_word(step, r, name(), {"reach", "unreachable"}, "reach");
    text = fmt::format("{} {} expect {}", name(), *s, exp.value_or("?"));
    if (w.size() != 2) {
      r.error(v, fmt::format("{}: expected 'FROM TO' (TO a node or an address)", name()));
      return nullptr;
    }
    const Node* from = r.topo().node(w[0]);
    bool ok = from && !from->kind->runs_probes() && from->kind->runs_commands()
                  ? true
                  : check_prober(w[0], v, r);
    ok &= check_target(w[1], v6_, v, r);
    if (!ok || !exp) return nullptr;
    auto spec = std::make_shared<PingSpec>();
    spec->from = w[0];
    spec->to = w[1];
    spec->reach = *exp == "reach";
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    const auto& s = st.as<PingSpec>();
    if (auto off = refuse_if_off(s.from, ctx)) return *off;
    std::string addr = ctx.target(s.to, v6_);
    const Node& from = *ctx.topo().node(s.from);
    if (!from.kind->runs_probes()) return guest_ping(from, addr, s.reach, ctx);
    using std::chrono::milliseconds;
    milliseconds deadline = s.reach ? milliseconds(quick ? 500 : 3000) : milliseconds(1000);
    milliseconds interval = s.reach ? milliseconds(100) : milliseconds(330);
    auto r = ping(ctx.topo().netns(s.from), addr, deadline, interval);
    if (!r) return {false, r.error().message};
    std::string d = r->reply
                        ? fmt::format("reply from {} in {:.2f} ms", addr, r->rtt.count() / 1000.0)
                        : fmt::format("no reply from {} to {} requests", addr, r->sent);
    return {r->reply == s.reach, d};
  }

 private:
  Outcome guest_ping(const Node& n, const std::string& addr, bool reach,
                     ScenarioContext& ctx) const {
    const char* ping = v6_ ? "ping6" : "ping";
    std::string cmd =
        reach
            ? fmt::format("for i in 1 2 3; do {} -c 1 -W 1 {} && exit 0; done; exit 1", ping, addr)
            : fmt::format("{} -c 3 -w 1 {}", ping, addr);
    auto r = n.kind->exec(n, ctx.lab(), cmd, std::chrono::seconds(10), 4096);
    if (!r) return {false, r.error().message};
    if (r->timed_out) return {false, fmt::format("'{}' in {} did not finish in 10 s", cmd, n.name)};
    bool reply = r->status == 0;
    auto at = r->out.find("time=");
    std::string rtt = at == std::string::npos
                          ? ""
                          : " in " + r->out.substr(at + 5, r->out.find('\n', at) - at - 5);
    std::string d =
        reply ? fmt::format("reply from {}{} (the guest's ping)", addr, rtt)
              : fmt::format("no reply from {} (the guest's ping: exit status {})", addr, r->status);
    return {reply == reach, d};
  }

  bool v6_;
};

}  // namespace

std::unique_ptr<StepKind> make_ping_step() { return std::make_unique<PingStep>(false); }
std::unique_ptr<StepKind> make_ping6_step() { return std::make_unique<PingStep>(true); }

}  // namespace vnet::lab
