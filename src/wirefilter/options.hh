#pragma once
// The command line of `vnet wirefilter`: VDE wirefilter's flags, unchanged (vde-2
// src/wirefilter.c main, getopt string "hNl:n:d:M:D:m:b:s:c:v:L:f:" and its long options).
//
//   -v, --vde-plug SW1:SW2     the two switches (directories of their ctl sockets); or SW1 SW2
//                              as two operands, as wirefilter accepts
//   -l, --loss V               -L, --lostburst V     -d, --delay V       -D, --dup V
//   -b, --band V               -s, --speed V         -c, --chanbufsize/--capacity V
//   -n, --noise V              -m, --mtu V           (value grammar: value.hh)
//   -N, --nofifo               jitter may reorder frames
//   -M, --mgmt PATH            console socket;  --mgmtmode OCTAL (default 0700)
//   -f, --rcfile FILE          console commands to run before starting
//   --seed N                   (vnet) the seed of the random streams (default: from the time)
// `-x V`, `-xV`, `--long V` and `--long=V` are all accepted, as getopt_long does. A flag may be
// repeated (`-d LR10 -d RL20`); values apply in order. wirefilter's --daemon, --pidfile, --blink
// and --blinkid are refused with a message (not implemented), as are stdin/stdout pipes (`-`).
//
// Every value is checked before anything starts: an error names the flag, the text and the
// valid range ("-l 120: loss 120: expected a percentage from 0 to 100"), and nothing runs.

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hh"
#include "wirefilter/value.hh"

namespace vnet::wirefilter {

struct Options {
  std::array<std::string, 2> plugs;
  std::vector<Assignment> values;  // in command-line order
  bool nofifo = false;
  std::string mgmt;
  int mgmt_mode = 0700;
  std::string rcfile;
  std::optional<uint64_t> seed;
  bool help = false;
};

Result<Options> parse_options(const std::vector<std::string>& args);

// The usage text (wirefilter's, with vnet's additions).
std::string usage();

}  // namespace vnet::wirefilter
