#pragma once
// Filter: the state of `vnet wirefilter` without I/O — VDE wirefilter's parameters per Markov
// state and direction (value.hh), the Markov chain (impair/markov.hh), the two impairment
// engines (LR: frames from the first switch to the second; RL: back), and wirefilter's console
// commands (vde-2 src/wirefilter.c commandlist) on a console::Registry.
//
// Whenever a value of the current state, the fifo flag or the current state changes, both
// engines get the current state's Settings (Engine::apply keeps the frames they hold). A value
// of another state is only stored.
//
// Console commands (wirefilter's names and argument forms; values as value.hh):
//   showinfo [STATE]      the values of a state (default: the current one) and the queues
//   loss V | lostburst V | delay V | dup V | bandwidth V | band V | speed V | chanbufsize V |
//   capacity V | noise V | mtu V
//   fifo 0|1              0: jitter may reorder (wirefilter -N)
//   markov-numnodes N     markov-setnode N    markov-name N,NAME    markov-time MS
//   setedge N1,N2,W       showedges [STATE]   showcurrent
//   load FILE             in an rc file given with --rcfile (a session with kTrustedFiles
//                         set), runs FILE like wirefilter; from a console client refused: a
//                         client must not make the daemon read a path it names
//   help, logout, shutdown (console.hh)
// showinfo, showedges and showcurrent also answer in JSON (a trailing --json).
// Errors are EINVAL with what was expected ("1022 markov-setnode 5: expected a state from 0 to
// 1"); wirefilter's markov-debug (asynchronous state-change lines) answers ENOSYS.
//
// Threading: none; one thread owns the Filter.

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "console/console.hh"
#include "impair/engine.hh"
#include "impair/markov.hh"
#include "wirefilter/value.hh"

namespace vnet::wirefilter {

// The Session variable that marks a session running the operator's rc file (--rcfile), where
// `load` may read the files it names.
inline constexpr const char* kTrustedFiles = "wirefilter-trusted-files";

class Filter {
 public:
  Filter(uint64_t seed, TimePoint now);

  // Sets a value; the state must exist. Nothing changes on an error.
  Status assign(const Assignment& a, TimePoint now);
  void set_fifo(bool fifo, TimePoint now);
  bool fifo() const { return fifo_; }

  impair::Engine& engine(Dir d) { return engines_[d]; }
  const impair::Engine& engine(Dir d) const { return engines_[d]; }
  const impair::MarkovChain& chain() const { return chain_; }
  const StateValues& state(size_t i) const { return states_[i]; }
  uint64_t seed() const { return seed_; }

  // Takes the Markov steps due at `now` (re-applying settings when the state changed).
  void tick(TimePoint now);
  // The earliest time anything is due: a held frame or a Markov step.
  std::optional<TimePoint> next_wakeup() const;

  // Registers the console commands. `now` reads the clock; `changed` is called after any
  // command that may move a deadline (the I/O side re-arms its timer).
  void add_commands(console::Registry& r, std::function<TimePoint()> now,
                    std::function<void()> changed);

  std::string showinfo(size_t state) const;
  // The same for tools (showinfo --json): the state's values, each direction's engine settings
  // and counters, the chain.
  nlohmann::json showinfo_json(size_t state) const;
  std::string showedges(size_t state) const;

 private:
  void reapply(TimePoint now);
  uint64_t seed_;
  std::vector<StateValues> states_;
  bool fifo_ = true;
  impair::MarkovChain chain_;
  std::array<impair::Engine, 2> engines_;
};

}  // namespace vnet::wirefilter
