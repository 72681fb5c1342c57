// Step `tcp`: a TCP connection from a node to a node or address and port.
//   open    connected within 2 s (a refused connect is retried: the listener may be starting)
//   closed  refused or unanswered within 1 s
// From a node that runs no probes but runs commands (a VM), the connection is the guest's own:
// `nc -w 1 ADDR PORT -e true` (busybox nc: exit 0 once connected) through its console, retried
// as above for `open`.

#include <thread>

#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/probe.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct TcpSpec final : StepSpec {
  std::string from, to;
  uint16_t port = 0;
  bool open = true;
};

class TcpStep final : public StepKind {
 public:
  std::string_view name() const override { return "tcp"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+:[0-9]+$", "FROM TO:PORT"),
            "a TCP connection from node FROM to TO (a node or an IPv4 address) on PORT"};
  }
  std::vector<KeySpec> options() const override {
    return {expect_key({"open", "closed"},
                       "open (default): connected within 2 s; closed: refused or unanswered "
                       "within 1 s")};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "tcp");
    if (!s) return nullptr;
    auto exp = expect_word(step, r, "tcp", {"open", "closed"}, "open");
    text = fmt::format("tcp {} expect {}", *s, exp.value_or("?"));
    auto w = Reader::words(*s);
    auto colon = w.size() == 2 ? w[1].rfind(':') : std::string::npos;
    if (w.size() != 2 || colon == std::string::npos) {
      r.error(v, "tcp: expected 'FROM TO:PORT'");
      return nullptr;
    }
    auto spec = std::make_shared<TcpSpec>();
    spec->from = w[0];
    spec->to = w[1].substr(0, colon);
    const Node* from = r.topo().node(spec->from);
    bool ok = from && !from->kind->runs_probes() && from->kind->runs_commands()
                  ? true
                  : check_prober(spec->from, v, r);
    ok &= check_target(spec->to, false, v, r);
    auto port = parse_int(w[1].substr(colon + 1), 1, 65535);
    if (!port) {
      r.error(v, "tcp: port " + port.error().message);
      ok = false;
    }
    if (!ok || !exp) return nullptr;
    spec->port = static_cast<uint16_t>(*port);
    spec->open = *exp == "open";
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    using std::chrono::milliseconds;
    const auto& s = st.as<TcpSpec>();
    if (auto off = refuse_if_off(s.from, ctx)) return *off;
    std::string addr = ctx.target(s.to, false);
    const Node& from = *ctx.topo().node(s.from);
    if (!from.kind->runs_probes()) return guest_connect(from, addr, s, quick, ctx);
    auto end = std::chrono::steady_clock::now() + milliseconds(s.open && !quick ? 2000 : 1000);
    TcpResult last = TcpResult::kTimeout;
    do {
      auto r = tcp_connect(ctx.topo().netns(s.from), addr, s.port, milliseconds(1000));
      if (!r) return {false, r.error().message};
      last = *r;
      if (last == TcpResult::kOpen || !s.open) break;
      std::this_thread::sleep_for(milliseconds(50));  // refused: the listener may be starting
    } while (std::chrono::steady_clock::now() < end);
    const char* what = last == TcpResult::kOpen      ? "connected"
                       : last == TcpResult::kRefused ? "refused"
                                                     : "no answer";
    return {(last == TcpResult::kOpen) == s.open, fmt::format("{}:{} {}", addr, s.port, what)};
  }

 private:
  static Outcome guest_connect(const Node& n, const std::string& addr, const TcpSpec& s, bool quick,
                               ScenarioContext& ctx) {
    int tries = s.open && !quick ? 3 : 1;
    std::string cmd = fmt::format(
        "for i in $(seq {}); do nc -w 1 {} {} -e true && exit 0; sleep 0.2; done; exit 1", tries,
        addr, s.port);
    auto r = n.kind->exec(n, ctx.lab(), cmd, std::chrono::seconds(10), 4096);
    if (!r) return {false, r.error().message};
    if (r->timed_out) return {false, fmt::format("'{}' in {} did not finish in 10 s", cmd, n.name)};
    bool open = r->status == 0;
    std::string why = r->out;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    if (auto nl = why.rfind('\n'); nl != std::string::npos) why = why.substr(nl + 1);
    return {open == s.open,
            open ? fmt::format("{}:{} connected (the guest's nc)", addr, s.port)
                 : fmt::format("{}:{} not connected (the guest's nc: {})", addr, s.port,
                               why.empty() ? "exit status " + std::to_string(r->status) : why)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_tcp_step() { return std::make_unique<TcpStep>(); }

}  // namespace vnet::lab
