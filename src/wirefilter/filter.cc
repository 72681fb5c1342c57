#include "wirefilter/filter.hh"

#include <fmt/format.h>

#include "base/log.hh"
#include "base/parse.hh"

namespace vnet::wirefilter {

Filter::Filter(uint64_t seed, TimePoint now)
    : seed_(seed),
      states_(1),
      chain_(seed),
      engines_{impair::Engine(seed, "LR", to_settings(StateValues{}, kLR, true), now),
               impair::Engine(seed, "RL", to_settings(StateValues{}, kRL, true), now)} {}

void Filter::reapply(TimePoint now) {
  const StateValues& s = states_[chain_.current()];
  engines_[kLR].apply(to_settings(s, kLR, fifo_), now);
  engines_[kRL].apply(to_settings(s, kRL, fifo_), now);
}

Status Filter::assign(const Assignment& a, TimePoint now) {
  if (a.state >= states_.size()) {
    return make_error(EINVAL, "{}: Markov state {}: expected a state from 0 to {}",
                      param_name(a.param), a.state, states_.size() - 1);
  }
  states_[a.state].assign(a);
  if (a.state == chain_.current()) reapply(now);
  return {};
}

void Filter::set_fifo(bool fifo, TimePoint now) {
  fifo_ = fifo;
  reapply(now);
}

void Filter::tick(TimePoint now) {
  const size_t before = chain_.current();
  if (chain_.advance(now)) {
    log::debug("wirefilter: Markov state {} \"{}\" -> {} \"{}\"", before, chain_.name(before),
               chain_.current(), chain_.name(chain_.current()));
    reapply(now);
  }
}

std::optional<TimePoint> Filter::next_wakeup() const {
  std::optional<TimePoint> t = chain_.next_step();
  for (const auto& e : engines_) {
    if (auto d = e.next_deadline(); d && (!t || *d < *t)) t = d;
  }
  return t;
}

std::string Filter::showinfo(size_t n) const {
  const StateValues& s = states_[n];
  std::string out = "WireFilter: bidirectional\n";
  if (chain_.size() > 1) {
    out += fmt::format("Node {} \"{}\" (0,..,{}) Markov-time {:g}\n", n, chain_.name(n),
                       chain_.size() - 1,
                       std::chrono::duration<double, std::milli>(chain_.period()).count());
  }
  auto row = [&](std::string_view label, Param p) {
    out += fmt::format("{} L->R {}   R->L {}\n", label, format_value(s.get(p, kLR)),
                       format_value(s.get(p, kRL)));
  };
  row("Loss  ", Param::kLoss);
  row("Lburst", Param::kLostBurst);
  row("Delay ", Param::kDelay);
  row("Dup   ", Param::kDup);
  row("Bandw ", Param::kBandwidth);
  row("Speed ", Param::kSpeed);
  row("Noise ", Param::kNoise);
  out += fmt::format("MTU    L->R {:g}     R->L {:g}\n", s.get(Param::kMtu, kLR).value,
                     s.get(Param::kMtu, kRL).value);
  row("Cap.  ", Param::kChanBufSize);
  const auto& lr = engines_[kLR].counters();
  const auto& rl = engines_[kRL].counters();
  out += fmt::format("Current Delay Queue size:   L->R {}      R->L {}\n", lr.held_bytes,
                     rl.held_bytes);
  out += fmt::format("Fifoness {}\n", fifo_ ? "TRUE" : "FALSE");
  out += fmt::format("Waiting packets in delay queues {}\n", lr.held_packets + rl.held_packets);
  // vnet's additions: what the engines do with these values, and their counters.
  out += fmt::format("Seed {}\n", seed_);
  for (Dir d : {kLR, kRL}) {
    const auto& e = engines_[d];
    const auto& c = e.counters();
    out += fmt::format("Engine {}: {}\n", d == kLR ? "L->R" : "R->L",
                       impair::format_settings(e.settings()));
    std::string drops;
    for (size_t k = 1; k < static_cast<size_t>(impair::Cause::kCount); ++k) {
      if (c.dropped[k] != 0) {
        drops +=
            fmt::format(" {}={}", impair::cause_name(static_cast<impair::Cause>(k)), c.dropped[k]);
      }
    }
    out += fmt::format(
        "Counters {}: offered {} released {} duplicated {} corrupted {} "
        "dropped{}\n",
        d == kLR ? "L->R" : "R->L", c.offered, c.released, c.duplicated, c.corrupted,
        drops.empty() ? " 0" : drops);
  }
  return out;
}

nlohmann::json Filter::showinfo_json(size_t n) const {
  const StateValues& s = states_[n];
  nlohmann::json j;
  j["state"] = n;
  j["name"] = chain_.name(n);
  j["current"] = chain_.current();
  j["states"] = chain_.size();
  j["markov_time_ms"] = std::chrono::duration<double, std::milli>(chain_.period()).count();
  j["fifo"] = fifo_;
  j["seed"] = seed_;
  for (Dir d : {kLR, kRL}) {
    nlohmann::json dir;
    for (size_t p = 0; p < kParams; ++p) {
      const Value& v = s.get(static_cast<Param>(p), d);
      dir["values"][std::string(param_name(static_cast<Param>(p)))] = {
          {"value", v.value}, {"plus", v.plus}, {"normal", v.algo == Algo::kNormal}};
    }
    const auto& e = engines_[d];
    const auto& c = e.counters();
    dir["engine"] = impair::format_settings(e.settings());
    dir["offered"] = c.offered;
    dir["released"] = c.released;
    dir["duplicated"] = c.duplicated;
    dir["corrupted"] = c.corrupted;
    dir["held_packets"] = c.held_packets;
    dir["held_bytes"] = c.held_bytes;
    for (size_t k = 1; k < static_cast<size_t>(impair::Cause::kCount); ++k) {
      dir["dropped"][std::string(impair::cause_name(static_cast<impair::Cause>(k)))] = c.dropped[k];
    }
    j[d == kLR ? "LR" : "RL"] = dir;
  }
  return j;
}

std::string Filter::showedges(size_t n) const {
  std::string out;
  for (size_t j = 0; j < chain_.size(); ++j) {
    if (chain_.edge(n, j) != 0) {
      out += fmt::format("Edge {:<2}->{:<2} \"{}\"->\"{}\" weight {:g}\n", n, j, chain_.name(n),
                         chain_.name(j), chain_.edge(n, j));
    }
  }
  return out;
}

namespace {

std::string join(const std::vector<std::string>& a, std::string_view sep) {
  std::string out;
  for (const auto& w : a) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

// An optional state number argument (default: the current state).
Result<size_t> state_arg(std::string_view cmd, const std::vector<std::string>& a,
                         const impair::MarkovChain& chain) {
  if (a.empty()) return chain.current();
  auto n = parse_int(a[0], 0, static_cast<int64_t>(chain.size()) - 1);
  if (!n || a.size() > 1) {
    return make_error(EINVAL, "{} {}: expected a state from 0 to {}", cmd, join(a, " "),
                      chain.size() - 1);
  }
  return static_cast<size_t>(*n);
}

}  // namespace

void Filter::add_commands(console::Registry& r, std::function<TimePoint()> now,
                          std::function<void()> changed) {
  using Args = const std::vector<std::string>&;
  using console::Reply;
  using console::Session;
  auto done = [changed]() -> Result<Reply> {
    if (changed) changed();
    return Reply{};
  };
  r.add("showinfo", "[STATE]", "show status and parameter values",
        [this](Session&, Args a) -> Result<Reply> {
          auto n = state_arg("showinfo", a, chain_);
          if (!n) return n.error();
          return Reply{showinfo(*n), showinfo_json(*n)};
        });
  struct Cmd {
    std::string_view name;
    Param param;
    std::string_view help;
  };
  static constexpr Cmd kValueCommands[] = {
      {"loss", Param::kLoss, "set loss percentage"},
      {"lostburst", Param::kLostBurst, "mean length of lost packet bursts"},
      {"delay", Param::kDelay, "set delay ms"},
      {"dup", Param::kDup, "set dup packet percentage"},
      {"bandwidth", Param::kBandwidth, "set channel bandwidth bytes/sec"},
      {"band", Param::kBandwidth, "set channel bandwidth bytes/sec"},
      {"speed", Param::kSpeed, "set interface speed bytes/sec"},
      {"chanbufsize", Param::kChanBufSize, "set channel buffer size (bytes)"},
      {"capacity", Param::kChanBufSize, "set channel buffer size (bytes)"},
      {"noise", Param::kNoise, "set noise factor bits/Mbyte"},
      {"mtu", Param::kMtu, "set channel MTU (bytes)"},
  };
  for (const Cmd& c : kValueCommands) {
    r.add(std::string(c.name), "[LR|RL]VALUE[+DELTA][K|M|G][u|n][[STATE]]", std::string(c.help),
          [this, c, now, done](Session&, Args a) -> Result<Reply> {
            if (a.empty()) return make_error(EINVAL, "{}: expected a value", c.name);
            auto v = parse_value(c.param, join(a, ""));
            if (!v) return v.error();
            if (auto st = assign(*v, now()); !st) return st.error();
            return done();
          });
  }
  r.add("fifo", "0|1", "set channel fifoness (0: jitter may reorder)",
        [this, now, done](Session&, Args a) -> Result<Reply> {
          if (a.size() != 1 || (a[0] != "0" && a[0] != "1")) {
            return make_error(EINVAL, "fifo {}: expected 0 or 1", join(a, " "));
          }
          set_fifo(a[0] == "1", now());
          return done();
        });
  r.add("load", "FILE", "in rc files only (refused on the console)",
        [&r](Session& s, Args a) -> Result<Reply> {
          if (s.vars.count(kTrustedFiles) != 0) {  // an rc file from the command line
            if (a.size() != 1) return make_error(EINVAL, "load: expected one file");
            if (auto st = r.run_file(s, a[0]); !st) return st.error();
            return Reply{};
          }
          return make_error(EPERM,
                            "load {}: refused: the console does not read files it is told to; "
                            "give the file with --rcfile when starting vnet wirefilter",
                            join(a, " "));
        });
  r.add("markov-numnodes", "N", "markov mode: set number of states",
        [this, now, done](Session&, Args a) -> Result<Reply> {
          auto n = a.size() == 1 ? parse_int(a[0], 1, impair::MarkovChain::kMaxStates)
                                 : Result<int64_t>(make_error(EINVAL, ""));
          if (!n) {
            return make_error(EINVAL,
                              "markov-numnodes {}: expected a number of states from 1 to "
                              "{}",
                              join(a, " "), impair::MarkovChain::kMaxStates);
          }
          if (auto st = chain_.resize(static_cast<size_t>(*n)); !st) return st.error();
          states_.resize(static_cast<size_t>(*n));
          chain_.start(now());
          reapply(now());
          return done();
        });
  r.add("markov-setnode", "N", "markov mode: set current state",
        [this, now, done](Session&, Args a) -> Result<Reply> {
          auto n = a.size() == 1 ? parse_int(a[0], 0, static_cast<int64_t>(chain_.size()) - 1)
                                 : Result<int64_t>(make_error(EINVAL, ""));
          if (!n) {
            return make_error(EINVAL, "markov-setnode {}: expected a state from 0 to {}",
                              join(a, " "), chain_.size() - 1);
          }
          if (auto st = chain_.set_current(static_cast<size_t>(*n)); !st) return st.error();
          reapply(now());
          return done();
        });
  r.add("markov-name", "N,NAME", "markov mode: set state's name",
        [this](Session&, Args a) -> Result<Reply> {
          const std::string text = join(a, " ");
          const size_t comma = text.find(',');
          std::string num = text.substr(0, comma);
          while (!num.empty() && num.back() == ' ') num.pop_back();
          auto n = parse_int(num, 0, static_cast<int64_t>(chain_.size()) - 1);
          if (!n) {
            return make_error(EINVAL, "markov-name {}: expected N,NAME with a state from 0 to {}",
                              text, chain_.size() - 1);
          }
          std::string name = comma == std::string::npos ? "" : text.substr(comma + 1);
          while (!name.empty() && name.front() == ' ') name.erase(0, 1);
          if (auto st = chain_.set_name(static_cast<size_t>(*n), name); !st) return st.error();
          return Reply{};
        });
  r.add("markov-time", "MS", "markov mode: transition period",
        [this, now, done](Session&, Args a) -> Result<Reply> {
          auto ms =
              a.size() == 1 ? parse_real(a[0], 0, 3600e3) : Result<double>(make_error(EINVAL, ""));
          if (!ms || *ms <= 0) {
            return make_error(EINVAL,
                              "markov-time {}: expected a period in ms above 0, at most "
                              "3600000",
                              join(a, " "));
          }
          auto d = Duration(static_cast<int64_t>(*ms * 1e6));
          if (auto st = chain_.set_period(d); !st) return st.error();
          chain_.start(now());
          reapply(now());
          return done();
        });
  r.add("setedge", "N1,N2,W", "markov mode: set edge weight",
        [this, done](Session&, Args a) -> Result<Reply> {
          const std::string text = join(a, "");
          const size_t c1 = text.find(','), c2 = text.find(',', c1 + 1);
          auto bad = [&] {
            return make_error(EINVAL,
                              "setedge {}: expected N1,N2,WEIGHT with states from 0 to {} and a "
                              "weight from 0 to 100",
                              text, chain_.size() - 1);
          };
          if (c1 == std::string::npos || c2 == std::string::npos) return bad();
          const int64_t hi = static_cast<int64_t>(chain_.size()) - 1;
          auto x = parse_int(text.substr(0, c1), 0, hi);
          auto y = parse_int(text.substr(c1 + 1, c2 - c1 - 1), 0, hi);
          auto w = parse_real(text.substr(c2 + 1), 0, 100);
          if (!x || !y || !w) return bad();
          if (auto st = chain_.set_edge(static_cast<size_t>(*x), static_cast<size_t>(*y), *w);
              !st) {
            return st.error();
          }
          return done();
        });
  r.add("showedges", "[STATE]", "markov mode: show edge weights",
        [this](Session&, Args a) -> Result<Reply> {
          auto n = state_arg("showedges", a, chain_);
          if (!n) return n.error();
          nlohmann::json edges = nlohmann::json::array();
          for (size_t j = 0; j < chain_.size(); ++j) {
            if (chain_.edge(*n, j) != 0) {
              edges.push_back({{"from", *n}, {"to", j}, {"weight", chain_.edge(*n, j)}});
            }
          }
          return Reply{showedges(*n), edges};
        });
  r.add("showcurrent", "", "markov mode: show current state",
        [this](Session&, Args) -> Result<Reply> {
          return Reply{fmt::format("Current Markov Node {} \"{}\" (0,..,{})\n", chain_.current(),
                                   chain_.name(chain_.current()), chain_.size() - 1),
                       {{"current", chain_.current()},
                        {"name", chain_.name(chain_.current())},
                        {"states", chain_.size()}}};
        });
  r.add("markov-debug", "N", "not implemented (state changes are logged with -v)",
        [](Session&, Args) -> Result<Reply> {
          return make_error(ENOSYS,
                            "markov-debug: not implemented; run vnet -v wirefilter to "
                            "log state changes");
        });
}

}  // namespace vnet::wirefilter
