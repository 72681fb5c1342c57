#pragma once
// VDE wirefilter's parameter values and their mapping onto impair::Settings.
//
// wirefilter (vde-2 src/wirefilter.c, read_wirevalue) keeps, per Markov state and per direction
// (LR: from the first plug to the second, RL: back), nine values, each "value ± plus" with a
// distribution. Their text form, on the command line (-l, -d, ...) and in console commands
// (loss, delay, ...), is
//     [LR|RL] VALUE [+DELTA] [K|M|G] [u|n] [ '[' STATE ']' ]
// no prefix = both directions; K, M, G multiply VALUE and DELTA by 2^10, 2^20, 2^30 (as
// wirefilter, for every parameter); u = uniform in VALUE ± DELTA (default), n = normal with
// σ = DELTA/3 (wirefilter's SIGMA: "more than 98% inside the bell"); [STATE] picks the Markov
// state (default 0 on the command line). VALUE and DELTA are non-negative decimals.
//
// Units and mapping onto one direction's Settings (settings.hh):
//   loss        percent 0–100            loss VALUE% (Bernoulli). With a DELTA, wirefilter draws
//                                        the probability per frame; a Bernoulli trial with a
//                                        random probability is a Bernoulli trial with its mean,
//                                        so the mean of the clamped draw is used — the same law.
//   lostburst   mean burst length, frames (0 = off); with loss L: Gilbert–Elliott, good → bad
//               α = L / (B·(1 − L)), bad → good β = 1/B, all frames lost in the bad state
//               (wirefilter's handle_packet); loss ≥ 100 loses everything.
//   delay       ms                       delay VALUE, jitter DELTA (uniform) or DELTA/3 (normal,
//                                        as σ); fifo (default) keeps the order, -N / fifo 0 lets
//                                        jitter reorder.
//   dup         percent 0–100            duplicate (the mean, as for loss).
//   bandwidth   bytes/s (0 = off)        rate VALUE·8 bit/s: frames queue behind each other.
//   speed       bytes/s (0 = off)        the same rate (the lower of the two when both are set).
//   chanbufsize bytes (0 = off)          limit VALUE bytes held.
//   noise       bit errors per MiB       noise VALUE.
//   mtu         bytes (0 = off)          mtu VALUE.
// A DELTA is accepted for loss, delay and dup only (the others would need a rate, a buffer or
// an MTU drawn per frame, which the engine does not model): a DELTA elsewhere is refused.
//
// Errors name the parameter, the text and what was expected: "delay 10x: expected
// [LR|RL]VALUE[+DELTA][K|M|G][u|n][[STATE]], e.g. 20, LR20+5, 20+5n", "loss 120: expected a
// percentage from 0 to 100".

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hh"
#include "impair/settings.hh"

namespace vnet::wirefilter {

enum Dir : uint8_t { kLR = 0, kRL = 1 };

enum class Param : uint8_t {
  kLoss,
  kLostBurst,
  kDelay,
  kDup,
  kBandwidth,
  kSpeed,
  kChanBufSize,
  kNoise,
  kMtu,
  kCount
};
constexpr size_t kParams = static_cast<size_t>(Param::kCount);
std::string_view param_name(Param p);  // the console command: "loss", "lostburst", ...

enum class Algo : uint8_t { kUniform, kNormal };

struct Value {
  double value = 0;
  double plus = 0;
  Algo algo = Algo::kUniform;
  friend bool operator==(const Value&, const Value&) = default;
};

// One parsed value text.
struct Assignment {
  Param param = Param::kLoss;
  bool lr = true, rl = true;  // which directions it sets
  Value value;
  size_t state = 0;  // Markov state
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

// Parses `text` (see above) for parameter `p`. Checks the range of the parameter; the state
// index is checked by the caller, who knows how many states there are.
Result<Assignment> parse_value(Param p, std::string_view text);

// The nine values of one Markov state, per direction.
struct StateValues {
  std::array<std::array<Value, 2>, kParams> v{};
  const Value& get(Param p, Dir d) const { return v[static_cast<size_t>(p)][d]; }
  Value& get(Param p, Dir d) { return v[static_cast<size_t>(p)][d]; }
  void assign(const Assignment& a) {
    if (a.lr) get(a.param, kLR) = a.value;
    if (a.rl) get(a.param, kRL) = a.value;
  }
};

// One direction's Settings for a state's values (see the table above). `fifo`: no overtaking.
impair::Settings to_settings(const StateValues& s, Dir d, bool fifo);

// "20+5n" style text of a value, as wirefilter's showinfo prints it ("%g+%g%c" with U or N).
std::string format_value(const Value& v);

// E[clamp(X, lo, hi)] for X uniform in value ± plus or normal (σ = plus/3). Exposed for tests.
double mean_clamped(const Value& v, double lo, double hi);

}  // namespace vnet::wirefilter
