// Step `exec`: a shell command inside a node.
//   exec: NODE COMMAND…    run with /bin/sh -c in the node's namespace and view
//   expect: 0              the exit status that passes (default 0), or expectations:
//   expect: [exit 1, output contains "Established", output matches "prefixes: [1-9]",
//            stderr contains TEXT, stderr matches REGEX]
//   within: 60s            the command is killed (its process group) after this (default 60 s)
// The step passes when the exit status is the expected one (0 unless an `exit N` is given) and
// every output expectation holds. `output` is the command's stdout, `stderr` its stderr; a
// REGEX is ECMAScript (std::regex, ^ and $ at every line), searched anywhere in the text, checked
// when the file is read. The first 64 KiB of each stream are kept and matched; the report and JUnit
// (<system-out>, <system-err>) show their last 20 lines.

#include <regex>

#include "base/parse.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

constexpr size_t kKeepBytes = 64 * 1024;
constexpr size_t kReportLines = 20;

struct OutputExpectation {
  bool stderr_stream = false;  // stdout ("output") or stderr
  bool regex = false;          // "matches" or "contains"
  std::string text;            // as written
  std::regex re;
};

struct ExecSpec final : StepSpec {
  std::string node, command;
  int status = 0;
  Duration within{std::chrono::seconds(60)};
  std::vector<OutputExpectation> output;
};

// "output contains TEXT" / "stderr matches REGEX" (TEXT may be quoted: "…").
Result<OutputExpectation> parse_output_expectation(const std::string& s) {
  OutputExpectation e;
  std::string rest;
  if (s.rfind("output ", 0) == 0) {
    rest = s.substr(7);
  } else if (s.rfind("stderr ", 0) == 0) {
    e.stderr_stream = true;
    rest = s.substr(7);
  } else {
    return make_error(EINVAL,
                      "'{}': expected 'exit N', 'output contains TEXT', 'output matches REGEX', "
                      "'stderr contains TEXT' or 'stderr matches REGEX'",
                      s);
  }
  if (rest.rfind("contains ", 0) == 0) {
    e.text = rest.substr(9);
  } else if (rest.rfind("matches ", 0) == 0) {
    e.regex = true;
    e.text = rest.substr(8);
  } else {
    return make_error(EINVAL, "'{}': expected 'contains TEXT' or 'matches REGEX' after '{}'", s,
                      e.stderr_stream ? "stderr" : "output");
  }
  if (e.text.size() >= 2 && e.text.front() == '"' && e.text.back() == '"')
    e.text = e.text.substr(1, e.text.size() - 2);
  if (e.text.empty()) return make_error(EINVAL, "'{}': the text to look for is empty", s);
  if (e.regex) {
    try {
      e.re = std::regex(e.text, std::regex::ECMAScript | std::regex::multiline);
    } catch (const std::regex_error& x) {
      return make_error(EINVAL, "'{}': not a regular expression (ECMAScript): {}", s, x.what());
    }
  }
  return e;
}

bool holds(const OutputExpectation& e, const std::string& text) {
  return e.regex ? std::regex_search(text, e.re) : text.find(e.text) != std::string::npos;
}

// The last `lines` lines of `text`, with a note of what was left out before them.
std::string last_lines(const std::string& text, size_t dropped_bytes) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t pos = t.size(), n = 0;
  while (pos > 0 && n < kReportLines) {
    size_t nl = t.rfind('\n', pos - 1);
    ++n;
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  std::string head;
  if (pos > 0) head = fmt::format("[… {} earlier bytes]\n", pos + 1);
  std::string tail = pos > 0 ? t.substr(pos + 1) : t;
  if (dropped_bytes) tail += fmt::format("\n[… {} more bytes not kept]", dropped_bytes);
  return head + tail;
}

}  // namespace

Result<CapturedRun> NodeKind::exec(const Node& n, LabRuntime& rt, const std::string& command,
                                   Duration within, size_t limit) const {
  auto argv = command_env(rt, n.name);
  if (!argv) return argv.error();
  argv->insert(argv->end(), {"/bin/sh", "-c", command});
  return run_captured(rt.topo().netns(n.name), *argv, rt.view_of(n.name), within, limit);
}

namespace {

class ExecStep final : public StepKind {
 public:
  std::string_view name() const override { return "exec"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+.+$", "NODE COMMAND…"),
            "runs COMMAND with /bin/sh -c inside NODE (environment as for `commands`)"};
  }
  std::vector<KeySpec> options() const override {
    return {{"expect",
             schema::one_of({schema::integer(0, 255),
                             schema::one_or_list(schema::string(
                                 "exit N | output contains TEXT | output matches REGEX | "
                                 "stderr contains TEXT | stderr matches REGEX"))}),
             "the exit status that passes (default 0), or expectations on the exit status and "
             "the output"},
            {"within", schema::ref("duration"),
             "the command is killed after this (default 60 s, at most 3600 s)"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "exec");
    if (!s) return nullptr;
    auto spec = std::make_shared<ExecSpec>();
    auto sp = s->find(' ');
    spec->node = s->substr(0, sp);
    spec->command = sp == std::string::npos ? "" : s->substr(sp + 1);
    bool ok = check_commands(spec->node, v, r);
    if (spec->command.find_first_not_of(' ') == std::string::npos) {
      r.error(v, "exec: expected 'NODE COMMAND…'");
      ok = false;
    }
    std::string clauses;
    if (const YAML::Node& e = step["expect"]) {
      if (e.IsScalar() && !e.as<std::string>().empty() &&
          e.as<std::string>().find_first_not_of("0123456789") == std::string::npos) {
        auto code = r.integer(e, "exec expect: exit status", 0, 255);
        if (!code) ok = false;
        spec->status = static_cast<int>(code.value_or(0));
      } else {
        std::vector<YAML::Node> items = e.IsSequence() ? r.list(e, "expect") : std::vector{e};
        for (const YAML::Node& item : items) {
          auto t = r.str(item, "exec expect");
          if (!t) {
            ok = false;
            continue;
          }
          if (t->rfind("exit ", 0) == 0) {
            auto code = parse_int(t->substr(5), 0, 255);
            if (!code) {
              r.error(item, fmt::format("exec expect '{}': exit status 0–255", *t));
              ok = false;
            } else {
              spec->status = static_cast<int>(*code);
            }
            continue;
          }
          auto x = parse_output_expectation(*t);
          if (!x) {
            r.error(item, "exec expect " + x.error().message);
            ok = false;
            continue;
          }
          clauses += ", " + *t;
          spec->output.push_back(std::move(*x));
        }
      }
    }
    if (step["within"]) {
      auto w = r.duration(step["within"], "within", std::chrono::milliseconds(1),
                          std::chrono::seconds(3600));
      if (!w) ok = false;
      spec->within = w.value_or(spec->within);
    }
    text = fmt::format("exec {} expect exit {}{}", *s, spec->status, clauses);
    return ok ? spec : nullptr;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<ExecSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    const Node& n = *ctx.topo().node(s.node);
    auto r = n.kind->exec(n, ctx.lab(), s.command, s.within, kKeepBytes);
    if (!r) return {false, r.error().message};
    Outcome o;
    o.out = r->out.empty() && !r->out_dropped ? "" : last_lines(r->out, r->out_dropped);
    o.err = r->err.empty() && !r->err_dropped ? "" : last_lines(r->err, r->err_dropped);
    if (r->timed_out) {
      o.detail =
          fmt::format("killed after {} ms (within)",
                      std::chrono::duration_cast<std::chrono::milliseconds>(s.within).count());
      if (!r->via.empty()) o.detail += " (through the " + r->via + ")";
      return o;
    }
    o.passed = r->status == s.status;
    o.detail = fmt::format("exit status {}", r->status);
    if (!r->via.empty()) o.detail += " (through the " + r->via + ")";
    for (const auto& e : s.output) {
      bool ok = holds(e, e.stderr_stream ? r->err : r->out);
      o.detail += fmt::format("; {} {} \"{}\": {}", e.stderr_stream ? "stderr" : "output",
                              e.regex ? "matches" : "contains", e.text, ok ? "yes" : "NO");
      o.passed = o.passed && ok;
    }
    return o;
  }
};

}  // namespace

std::unique_ptr<StepKind> make_exec_step() { return std::make_unique<ExecStep>(); }

}  // namespace vnet::lab
