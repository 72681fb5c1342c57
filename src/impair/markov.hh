#pragma once
// MarkovChain: a chain of named link states that moves at a fixed period — VDE wirefilter's
// "Markov mode" (vde-2 src/wirefilter.c: markov_step, markov_compute, copyadjmap), decided
// reproducibly.
//
// What it models. The link is in one of N states (0..N−1); each state has its own impairment
// settings, which the caller keeps by state index and applies to its engines (engine.hh) when
// the state changes. Every `period` the chain takes one step: from state i it moves to j with
// probability w(i,j)/100, where w(i,j) are edge weights in percent set by set_edge, and the
// self weight w(i,i) is always 100 − Σ_{j≠i} w(i,j) (wirefilter's markov_compute); set_edge
// refuses a weight that would make the others pass 100. One step draws one uniform u·100 and
// walks the targets in wirefilter's order i, i+1, …, i−1 (mod N), stopping at the first whose
// weight covers what is left (wirefilter's ROT order), so a chain set up for wirefilter makes
// the same kind of moves.
//
// Time. start(now) makes the first step at `now` (wirefilter's markov_start), then steps at
// now + period, now + 2·period, …; advance(now) takes every step due at or before `now`. With
// fewer than 2 states the chain never steps. resize() keeps the weights among the states that
// remain (wirefilter's copyadjmap) and the current state if it still exists (else state 0).
//
// Randomness. The chain draws from its own Stream (stream.hh), kind "markov", direction
// "chain", of the link seed: exactly one draw per step, and no other decision draws from it, so
// using the chain never moves a loss or delay decision of the engines, and an engine that never
// sees a chain draws exactly as before.
//
// Threading: none; a MarkovChain belongs to one thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "impair/stream.hh"

namespace vnet::impair {

class MarkovChain {
 public:
  static constexpr size_t kMaxStates = 1024;
  static constexpr Duration kDefaultPeriod = std::chrono::milliseconds(100);  // wirefilter's

  // One state, named "" until set_name. Seeded from `link_seed` (stream kind "markov").
  explicit MarkovChain(uint64_t link_seed);

  size_t size() const { return names_.size(); }
  // 1..kMaxStates states; see above for what is kept. Error: "markov-numnodes 0: expected ...".
  Status resize(size_t n);
  // w(from, to) in percent, 0–100; to == from is accepted and ignored (the self weight is
  // always what the others leave). Errors name the edge and the range.
  Status set_edge(size_t from, size_t to, double percent);
  double edge(size_t from, size_t to) const { return w_[from * size() + to]; }
  Status set_name(size_t state, std::string name);
  const std::string& name(size_t state) const { return names_[state]; }
  Status set_current(size_t state);
  size_t current() const { return current_; }
  // Period > 0, at most 1 h.
  Status set_period(Duration period);
  Duration period() const { return period_; }

  // Steps once now and schedules the next step a period later (when size() ≥ 2).
  void start(TimePoint now);
  // Takes every step due at or before `now`; true when the state changed.
  bool advance(TimePoint now);
  // When the next step is due; nullopt when the chain does not step (fewer than 2 states).
  std::optional<TimePoint> next_step() const;
  uint64_t steps() const { return steps_; }

  // The stationary distribution π (π = πP), by power iteration; for tests and reports.
  std::vector<double> stationary() const;

 private:
  void step();
  void recompute_self(size_t i);
  std::vector<std::string> names_;
  std::vector<double> w_;  // size × size, percent, row = from
  size_t current_ = 0;
  Duration period_ = kDefaultPeriod;
  std::optional<TimePoint> next_;
  uint64_t steps_ = 0;
  Stream stream_;
};

}  // namespace vnet::impair
