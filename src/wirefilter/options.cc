#include "wirefilter/options.hh"

#include <fmt/format.h>

#include "base/parse.hh"

namespace vnet::wirefilter {

namespace {

struct Flag {
  char short_name;  // 0: long only
  std::string_view long_name;
  bool takes_value;
};

constexpr Flag kFlags[] = {
    {'h', "help", false},     {'f', "rcfile", true}, {'l', "loss", true},
    {'L', "lostburst", true}, {'d', "delay", true},  {'D', "dup", true},
    {'b', "band", true},      {'s', "speed", true},  {'c', "chanbufsize", true},
    {'c', "capacity", true},  {'n', "noise", true},  {'m', "mtu", true},
    {'N', "nofifo", false},   {'M', "mgmt", true},   {0, "mgmtmode", true},
    {'v', "vde-plug", true},  {0, "daemon", false},  {0, "pidfile", true},
    {0, "blink", true},       {0, "blinkid", true},  {0, "seed", true},
    {0, "bandwidth", true},
};

std::optional<Param> param_of(char c) {
  switch (c) {
    case 'l':
      return Param::kLoss;
    case 'L':
      return Param::kLostBurst;
    case 'd':
      return Param::kDelay;
    case 'D':
      return Param::kDup;
    case 'b':
      return Param::kBandwidth;
    case 's':
      return Param::kSpeed;
    case 'c':
      return Param::kChanBufSize;
    case 'n':
      return Param::kNoise;
    case 'm':
      return Param::kMtu;
    default:
      return std::nullopt;
  }
}

Status apply_flag(const Flag& f, const std::string& shown, const std::string& value, Options& o) {
  auto err = [&](const Error& e) {
    return make_error(e.code, "{} {}: {}", shown, value, e.message);
  };
  if (f.long_name == "bandwidth") return apply_flag(kFlags[6], shown, value, o);
  if (auto p = param_of(f.short_name)) {
    auto a = parse_value(*p, value);
    if (!a) return err(a.error());
    if (a->state != 0) {
      return make_error(EINVAL,
                        "{} {}: Markov state {}: expected state 0 on the command line (add "
                        "states with markov-numnodes in the rc file)",
                        shown, value, a->state);
    }
    o.values.push_back(*a);
    return {};
  }
  switch (f.short_name) {
    case 'h':
      o.help = true;
      return {};
    case 'f':
      o.rcfile = value;
      return {};
    case 'N':
      o.nofifo = true;
      return {};
    case 'M':
      o.mgmt = value;
      return {};
    case 'v': {
      const size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
        return make_error(EINVAL, "{} {}: expected SWITCH1:SWITCH2 (two switch directories)", shown,
                          value);
      }
      o.plugs = {value.substr(0, colon), value.substr(colon + 1)};
      return {};
    }
    default:
      break;
  }
  if (f.long_name == "mgmtmode") {
    int mode = 0;
    bool ok = !value.empty() && value.size() <= 4;
    for (char c : value) {
      ok = ok && c >= '0' && c <= '7';
      mode = mode * 8 + (c - '0');
    }
    if (!ok)
      return make_error(EINVAL, "{} {}: expected an octal mode from 0 to 7777", shown, value);
    o.mgmt_mode = mode;
    return {};
  }
  if (f.long_name == "seed") {
    auto s = parse_int(value, 0, INT64_MAX);
    if (!s) return err(s.error());
    o.seed = static_cast<uint64_t>(*s);
    return {};
  }
  return make_error(ENOTSUP,
                    "{}: not implemented by vnet wirefilter (run it in the foreground "
                    "under a supervisor instead)",
                    shown);
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args) {
  Options o;
  std::vector<std::string> operands;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const Flag* flag = nullptr;
    std::string shown, value;
    bool have_value = false;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        have_value = true;
      }
      for (const auto& f : kFlags) {
        if (f.long_name == name) flag = &f;
      }
      shown = "--" + name;
      if (!flag) return make_error(EINVAL, "{}: unknown option (see --help)", shown);
      if (!flag->takes_value && have_value) {
        return make_error(EINVAL, "{}: takes no value", shown);
      }
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "--") {
      // Short flags: -N, -l20, -l 20; flags without a value may be bundled (-Nl 20).
      for (size_t k = 1; k < arg.size(); ++k) {
        flag = nullptr;
        for (const auto& f : kFlags) {
          if (f.short_name == arg[k]) {
            flag = &f;
            break;
          }
        }
        shown = fmt::format("-{}", arg[k]);
        if (!flag) return make_error(EINVAL, "{}: unknown option (see --help)", shown);
        if (!flag->takes_value) {
          if (auto st = apply_flag(*flag, shown, "", o); !st) return st.error();
          continue;
        }
        if (k + 1 < arg.size()) {
          value = arg.substr(k + 1);
          have_value = true;
        }
        break;
      }
      if (!flag->takes_value) continue;
    } else {
      if (arg == "-") {
        return make_error(ENOTSUP, "-: stdin/stdout pipes are not supported; give two switches");
      }
      operands.push_back(arg);
      continue;
    }
    if (flag->takes_value && !have_value) {
      if (i + 1 >= args.size()) return make_error(EINVAL, "{}: expected a value after it", shown);
      value = args[++i];
    }
    if (auto st = apply_flag(*flag, shown, value, o); !st) return st.error();
  }
  if (!operands.empty()) {
    if (operands.size() > 2 || !o.plugs[0].empty()) {
      return make_error(EINVAL, "'{}': unexpected operand (the switches were given already)",
                        operands.back());
    }
    if (operands.size() != 2) {
      return make_error(EINVAL, "{}: expected two switches (SWITCH1 SWITCH2, or -v SW1:SW2)",
                        operands[0]);
    }
    o.plugs = {operands[0], operands[1]};
  }
  if (!o.help && o.plugs[0].empty()) {
    return make_error(EINVAL, "expected the two switches: -v SWITCH1:SWITCH2");
  }
  return o;
}

std::string usage() {
  return "Usage: vnet wirefilter -v SWITCH1:SWITCH2 [OPTIONS]\n"
         "\t--help|-h\n"
         "\t--rcfile|-f Configuration file\n"
         "\t--loss|-l loss_percentage\n"
         "\t--lostburst|-L lost_packet_burst_len\n"
         "\t--delay|-d delay_ms\n"
         "\t--dup|-D dup_percentage\n"
         "\t--band|-b bandwidth(bytes/s)\n"
         "\t--speed|-s interface_speed(bytes/s)\n"
         "\t--chanbufsize|-c channel_bufsize(bytes)\n"
         "\t--noise|-n noise_bits/megabyte\n"
         "\t--mtu|-m mtu_size\n"
         "\t--nofifo|-N\n"
         "\t--mgmt|-M management_socket\n"
         "\t--mgmtmode management_permission(octal)\n"
         "\t--vde-plug plug1:plug2 | -v plug1:plug2\n"
         "\t--seed N (random streams' seed)\n"
         "Values: [LR|RL]VALUE[+DELTA][K|M|G][u|n], e.g. -d 20+5n -l LR10\n";
}

}  // namespace vnet::wirefilter
