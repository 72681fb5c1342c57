// Step `http`: HTTP GETs from a node to a node or address and port, one after another — what a
// client of a load-balanced service sees (docs/topology.md, examples/ha-web.yaml).
//   http: FROM TO:PORT[/PATH]
//   count: N              requests (default 1, at most 1000)
//   expect: ok            every request answered with a 2xx or 3xx status (the default)
//   expect: status N      every request answered with status N
//   expect: from A        every answer comes from node A
//   expect: spread A B…   every answer comes from one of A B…, and each of them answered
//   expect: fail          no request is answered (refused, or nothing within the timeout)
// Which node answered is the first line of the body when it is a node's name (a real server
// serving its own name, as the examples' `python3 -m http.server` over a file with it does). Each
// request has 2 s (1 s when polled by wait_until) to be answered whole.

#include <map>

#include "base/parse.hh"
#include "lab/node_kind.hh"
#include "lab/probe.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct HttpSpec final : StepSpec {
  std::string from, to, path = "/";
  uint16_t port = 0;
  int count = 1;
  std::string expect = "ok";  // ok | status | from | spread | fail
  int status = 0;
  std::vector<std::string> nodes;
};

class HttpStep final : public StepKind {
 public:
  std::string_view name() const override { return "http"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+:[0-9]+(/\\S*)?$", "FROM TO:PORT[/PATH]"),
            "HTTP GETs from node FROM to TO (a node or an IP address) on PORT, path PATH (default "
            "/); the answering node is the body's first line when it names a node"};
  }
  std::vector<KeySpec> options() const override {
    return {{"count", schema::integer(1, 1000), "requests, one after another (default 1)"},
            {"expect", schema::string("ok | status N | from NODE | spread NODE... | fail"),
             "ok (default): every answer 2xx or 3xx; status N: every answer N; from NODE: every "
             "answer from NODE; spread A B...: every answer from one of them, each at least once; "
             "fail: nothing answers"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "http");
    if (!s) return nullptr;
    auto w = Reader::words(*s);
    auto spec = std::make_shared<HttpSpec>();
    std::string target = w.size() == 2 ? w[1] : "";
    if (auto slash = target.find('/'); slash != std::string::npos) {
      spec->path = target.substr(slash);
      target.resize(slash);
    }
    auto colon = target.rfind(':');
    if (w.size() != 2 || colon == std::string::npos) {
      r.error(v, "http: expected 'FROM TO:PORT[/PATH]'");
      return nullptr;
    }
    spec->from = w[0];
    spec->to = target.substr(0, colon);
    bool ok = check_prober(spec->from, v, r);
    ok &= check_target(spec->to, false, v, r);
    auto port = parse_int(target.substr(colon + 1), 1, 65535);
    if (!port) {
      r.error(v, "http: port " + port.error().message);
      ok = false;
    } else {
      spec->port = static_cast<uint16_t>(*port);
    }
    if (step["count"]) {
      auto c = r.integer(step["count"], "http count", 1, 1000);
      if (!c) return nullptr;
      spec->count = static_cast<int>(*c);
    }
    std::string expect_text = "ok";
    if (auto e = step["expect"]) {
      auto words = Reader::words(r.str(e, "http expect").value_or(""));
      expect_text = fmt::format("{}", fmt::join(words, " "));
      const std::string kind = words.empty() ? "" : words[0];
      if (kind == "ok" || kind == "fail") {
        ok &= words.size() == 1;
      } else if (kind == "status" && words.size() == 2) {
        auto st = parse_int(words[1], 100, 599);
        ok &= st.ok();
        if (st) spec->status = static_cast<int>(*st);
      } else if ((kind == "from" && words.size() == 2) || (kind == "spread" && words.size() >= 2)) {
        spec->nodes.assign(words.begin() + 1, words.end());
        for (const auto& n : spec->nodes) {
          if (!r.topo().node(n)) {
            r.error(e, fmt::format("http expect: no node {} in the lab", n));
            return nullptr;
          }
        }
      } else {
        ok = false;
      }
      if (!ok) {
        r.error(e, fmt::format("http expect '{}': expected ok, status N (100-599), from NODE, "
                               "spread NODE..., or fail",
                               expect_text));
        return nullptr;
      }
      spec->expect = kind;
    }
    text = fmt::format("http {}{} expect {}", *s,
                       spec->count > 1 ? fmt::format(" count {}", spec->count) : "", expect_text);
    return ok ? spec : nullptr;
  }

  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    const auto& s = st.as<HttpSpec>();
    if (auto off = refuse_if_off(s.from, ctx)) return *off;
    const std::string addr = ctx.target(s.to, false);
    const std::string netns = ctx.topo().netns(s.from);
    const auto timeout = std::chrono::milliseconds(quick ? 1000 : 2000);
    std::map<std::string, int> by;  // answering node (or "status N", "refused"...) → count
    int answered = 0, good = 0;
    std::string first_error;
    for (int i = 0; i < s.count; ++i) {
      auto a = http_get(netns, addr, s.port, s.path, timeout);
      if (!a) {
        ++by[a.error().code == ECONNREFUSED ? "refused"
             : a.error().code == ETIMEDOUT  ? "no answer"
                                            : "bad answer"];
        if (first_error.empty()) first_error = a.error().message;
        continue;
      }
      ++answered;
      std::string who = a->body.substr(0, a->body.find('\n'));
      while (!who.empty() && (who.back() == '\r' || who.back() == ' ')) who.pop_back();
      if (!ctx.topo().node(who)) who = "?";
      bool status_ok =
          s.expect == "status" ? a->status == s.status : a->status >= 200 && a->status < 400;
      if (!status_ok) who = fmt::format("status {}", a->status);
      ++by[who];
      if (!status_ok) continue;
      if (s.expect == "ok" || s.expect == "status" ||
          std::find(s.nodes.begin(), s.nodes.end(), who) != s.nodes.end())
        ++good;
    }
    bool passed = false;
    if (s.expect == "fail") {
      passed = answered == 0;
    } else {
      passed = good == s.count;
      if (passed && s.expect == "spread")
        for (const auto& n : s.nodes) passed &= by.count(n) > 0;
    }
    std::string tally;
    for (const auto& [k, n] : by) tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", k, n);
    Outcome o{passed, fmt::format("{} GET{} {}:{}{}: {}", s.count, s.count == 1 ? "" : "s", addr,
                                  s.port, s.path, tally)};
    if (!first_error.empty() && s.expect != "fail")
      o.detail += " (first error: " + first_error + ")";
    return o;
  }
};

}  // namespace

std::unique_ptr<StepKind> make_http_step() { return std::make_unique<HttpStep>(); }

}  // namespace vnet::lab
