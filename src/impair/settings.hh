#pragma once
// Settings of one link direction's impairment, and their text form.
//
// A Settings value is plain data; parse_settings() builds a new one from key/value words on top
// of a base value, checking every word, so a command with one bad word changes nothing: the
// caller swaps the whole value in (Engine::apply) only when parsing succeeded.
//
// Words (keys may come in any order; a later key overrides an earlier one). Probabilities are
// written as percentages with a '%' sign, from 0% to 100%. Durations take a unit (us, ms, s;
// base/parse.hh), from 0 to 1 h.
//   loss P%                          Bernoulli loss (tc-netem(8) `loss random`)
//   loss random P%                   the same
//   loss gemodel p [r [1-h [1-k]]]   Gilbert–Elliott (tc-netem(8)); defaults r = 100% − p,
//   gemodel p [r [1-h [1-k]]]          1-h = 100%, 1-k = 0%
//   loss state p13 [p31 [p32 [p23 [p14]]]]
//                                    netem's 4-state Markov model (Salsano et al., "Definition
//                                    and usage of correlated loss generator models", the GI model);
//                                    defaults p31 = 100% − p13, p32 = 0%, p23 = 100%, p14 = 0%
//   delay D [J [distribution NAME]]  D ± J; NAME uniform (default), normal, pareto, paretonormal
//   jitter J                         the jitter alone
//   distribution NAME
//   jitter-reorder on|off            may jitter reorder frames (default off: a frame never
//                                    overtakes an earlier one)
//   rate R | rate off                R with a unit: bit, kbit, mbit, gbit, tbit (×1000, bits/s) or
//                                    bps, kbps, mbps, gbps (bytes/s), as tc(8); 1 bit/s–1 Tbit/s
//   limit N                          held frames, 1–1000000 (default 1000, like netem)
//   limit Nb|Nkb|Nmb | limit bytes off
//                                    held bytes (k = 1024, as tc(8) sizes), 1 B–1 GiB; 0 = none
//   duplicate P%                     a second copy of the frame
//   corrupt P%                       one bit flipped at a random position (tc-netem(8))
//   noise N                          bit errors per MiB of frame (VDE wirefilter -n), 0–8388608
//   reorder P% [gap N]               tc-netem(8): after N − 1 delayed frames, each frame skips the
//                                    delay with probability P (gap 1–1000000, default 1)
//   mtu N | mtu off                  frames longer than N bytes are dropped, 1–1000000
//   drop-every N | drop-every off    every Nth frame is dropped, 2–1000000000
//   carrier up|down
//   flap DOWN UP [COUNT]             from the time the settings are applied: carrier down for
//                                    DOWN, up for UP, COUNT times (0 or absent = forever)
//   clear                            everything back to the defaults
//
// Errors name the key and the valid range: "loss 120%: expected a percentage from 0% to 100%",
// "distribution cauchy: expected uniform, normal, pareto or paretonormal".

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.hh"
#include "base/result.hh"

namespace vnet::impair {

enum class LossModel : uint8_t { kNone, kBernoulli, kGilbertElliott, kFourState };
std::string_view loss_model_name(LossModel m);  // "none", "random", "gemodel", "state"

enum class Distribution : uint8_t { kUniform, kNormal, kPareto, kParetoNormal };
std::string_view distribution_name(Distribution d);

// Gilbert–Elliott (Gilbert 1960, Elliott 1963; tc-netem(8) `loss gemodel`), probabilities 0–1.
struct GilbertElliott {
  double p = 0;          // good → bad, per frame
  double r = 1;          // bad → good, per frame
  double bad_loss = 1;   // 1-h: loss probability in the bad state
  double good_loss = 0;  // 1-k: loss probability in the good state
  friend bool operator==(const GilbertElliott&, const GilbertElliott&) = default;
};

// netem's 4-state Markov model (tc-netem(8) `loss state`): states 1 transmitted in a gap,
// 2 transmitted in a burst, 3 lost in a burst, 4 lost in a gap (an isolated loss).
struct FourState {
  double p13 = 0;
  double p31 = 1;
  double p32 = 0;
  double p23 = 1;
  double p14 = 0;
  friend bool operator==(const FourState&, const FourState&) = default;
};

struct Flap {
  Duration down{0};  // zero: no flapping
  Duration up{0};
  uint32_t count = 0;  // cycles; 0 = forever
  friend bool operator==(const Flap&, const Flap&) = default;
};

struct Settings {
  static constexpr uint32_t kDefaultLimitPackets = 1000;  // netem's default limit
  static constexpr uint32_t kMaxLimitPackets = 1000000;
  static constexpr Duration kMaxDelay = std::chrono::hours(1);

  LossModel loss_model = LossModel::kNone;
  double loss = 0;  // Bernoulli, 0–1
  GilbertElliott gemodel;
  FourState four_state;

  Duration delay{0};
  Duration jitter{0};
  Distribution distribution = Distribution::kUniform;
  bool jitter_reorder = false;

  uint64_t rate_bps = 0;  // bits per second; 0 = no rate limit
  uint32_t limit_packets = kDefaultLimitPackets;
  uint64_t limit_bytes = 0;  // 0 = no byte limit

  double duplicate = 0;      // 0–1
  double corrupt = 0;        // 0–1
  double noise_per_mib = 0;  // expected bit errors per MiB of frame
  double reorder = 0;        // 0–1
  uint32_t reorder_gap = 1;  // ≥ 1
  uint32_t mtu = 0;          // bytes; 0 = none
  uint32_t drop_every = 0;   // 0 = none
  bool carrier_down = false;
  Flap flap;

  friend bool operator==(const Settings&, const Settings&) = default;
};

// Parses `words` on top of `base`. Nothing is returned unless every word is valid.
Result<Settings> parse_settings(std::span<const std::string_view> words, const Settings& base = {});
// Splits `text` at blanks and parses it.
Result<Settings> parse_settings(std::string_view text, const Settings& base = {});

// The words that parse back to `s` (from the defaults); "" for the defaults.
std::string format_settings(const Settings& s);

}  // namespace vnet::impair
