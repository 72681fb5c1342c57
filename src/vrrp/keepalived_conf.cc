#include "vrrp/keepalived_conf.hh"

#include <glob.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace vnet::vrrp {
namespace {

struct Token {
  std::string text;
  ConfWhere where;
  bool eol = false;  // last token of its line
};

struct Stmt {
  std::string keyword;
  std::vector<Token> args;
  std::vector<Stmt> block;
  bool has_block = false;
  ConfWhere where;
};

class Lexer {
 public:
  std::vector<Token> tokens;
  std::vector<std::string> files;
  std::vector<std::string> errors;

  void lex_text(const std::string& text, const std::string& file, int depth) {
    files.push_back(file);
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::vector<Token> words;
      size_t i = 0;
      while (i < line.size()) {
        char c = line[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
          ++i;
        } else if (c == '!' || c == '#') {
          break;
        } else if (c == '{' || c == '}') {
          words.push_back({std::string(1, c), {file, n}});
          ++i;
        } else if (c == '"') {
          size_t end = line.find('"', i + 1);
          if (end == std::string::npos) {
            errors.push_back(fmt::format("{}:{}: unterminated quoted string", file, n));
            end = line.size();
          }
          words.push_back({line.substr(i + 1, end - i - 1), {file, n}});
          i = end + 1;
        } else {
          size_t end = i;
          while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end])) &&
                 line[end] != '{' && line[end] != '}')
            ++end;
          words.push_back({line.substr(i, end - i), {file, n}});
          i = end;
        }
      }
      if (words.empty()) continue;
      if (words[0].text == "include" && words.size() >= 2) {
        include(words[1].text, file, n, depth);
        continue;
      }
      words.back().eol = true;
      for (auto& w : words) tokens.push_back(std::move(w));
    }
  }

  void include(const std::string& pattern, const std::string& from, int line, int depth) {
    if (depth > 8) {
      errors.push_back(fmt::format("{}:{}: include nesting deeper than 8 (a loop?)", from, line));
      return;
    }
    std::string pat = pattern;
    if (!pat.empty() && pat[0] != '/')
      pat = (std::filesystem::path(from).parent_path() / pat).string();
    glob_t g{};
    int rc = ::glob(pat.c_str(), GLOB_BRACE, nullptr, &g);
    if (rc != 0) {
      errors.push_back(fmt::format("{}:{}: include {}: no file matches", from, line, pattern));
      ::globfree(&g);
      return;
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::ifstream f(g.gl_pathv[i]);
      std::stringstream ss;
      ss << f.rdbuf();
      lex_text(ss.str(), g.gl_pathv[i], depth + 1);
    }
    ::globfree(&g);
  }
};

class Builder {
 public:
  std::vector<std::string> errors, warnings;

  // Statements from tokens: KEYWORD ARGS… [ { BLOCK } ], a statement ends at its line's end.
  std::vector<Stmt> parse(const std::vector<Token>& t, size_t& i, bool nested) {
    std::vector<Stmt> out;
    while (i < t.size()) {
      if (t[i].text == "}") {
        if (nested) {
          ++i;
          return out;
        }
        errors.push_back(fmt::format("{}: '}}' without a matching '{{'", t[i].where.str()));
        ++i;
        continue;
      }
      if (t[i].text == "{") {
        errors.push_back(fmt::format("{}: '{{' without a keyword before it", t[i].where.str()));
        ++i;
        continue;
      }
      Stmt s;
      s.keyword = t[i].text;
      s.where = t[i].where;
      bool eol = t[i].eol;
      ++i;
      while (!eol && i < t.size() && t[i].text != "{" && t[i].text != "}") {
        eol = t[i].eol;
        s.args.push_back(t[i++]);
      }
      // A block opens on the same line, or on the next line by itself.
      if (i < t.size() && t[i].text == "{") {
        ++i;
        s.has_block = true;
        s.block = parse(t, i, true);
      }
      out.push_back(std::move(s));
    }
    if (nested) errors.push_back("end of file inside a block: a '}' is missing");
    return out;
  }

  void warn_unknown(const Stmt& s, const std::string& where) {
    warnings.push_back(
        fmt::format("{}: unknown keyword '{}' in {} (ignored)", s.where.str(), s.keyword, where));
  }
  void error(const Stmt& s, const std::string& msg) {
    errors.push_back(s.where.str() + ": " + msg);
  }

  std::optional<std::string> arg(const Stmt& s, size_t i = 0) {
    if (s.args.size() <= i) {
      error(s, fmt::format("'{}' needs a value", s.keyword));
      return std::nullopt;
    }
    return s.args[i].text;
  }

  std::optional<long> integer(const Stmt& s, long lo, long hi) {
    auto a = arg(s);
    if (!a) return std::nullopt;
    try {
      size_t used = 0;
      long v = std::stol(*a, &used);
      if (used == a->size() && v >= lo && v <= hi) return v;
    } catch (...) {
    }
    error(s, fmt::format("'{}' {}: expected a whole number from {} to {}", s.keyword, *a, lo, hi));
    return std::nullopt;
  }

  std::optional<Duration> seconds(const Stmt& s, double lo, double hi) {
    auto a = arg(s);
    if (!a) return std::nullopt;
    try {
      size_t used = 0;
      double v = std::stod(*a, &used);
      if (used == a->size() && v >= lo && v <= hi) {
        return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v));
      }
    } catch (...) {
    }
    error(s, fmt::format("'{}' {}: expected seconds from {} to {}", s.keyword, *a, lo, hi));
    return std::nullopt;
  }

  std::optional<packet::IpPrefix> address(const Stmt& s, const std::string& text) {
    std::string t = text;
    if (t.find('/') == std::string::npos) t += t.find(':') != std::string::npos ? "/128" : "/32";
    auto p = packet::IpPrefix::parse(t);
    if (!p) {
      error(s, p.error().message);
      return std::nullopt;
    }
    return *p;
  }

  std::vector<std::string> words(const Stmt& s) {  // all words of a block, one statement per line
    std::vector<std::string> out;
    for (auto& x : s.block) {
      out.push_back(x.keyword);
      for (auto& a : x.args) out.push_back(a.text);
    }
    return out;
  }

  void vips(const Stmt& s, std::vector<VipConfig>& out) {
    for (auto& line : s.block) {
      auto p = address(line, line.keyword);
      if (!p) continue;
      VipConfig v{*p, "", "", "", line.where};
      for (size_t i = 0; i + 1 < line.args.size(); i += 2) {
        const std::string& k = line.args[i].text;
        const std::string& val = line.args[i + 1].text;
        if (k == "dev")
          v.dev = val;
        else if (k == "label")
          v.label = val;
        else if (k == "brd" || k == "broadcast")
          v.brd = val;
        else if (k == "scope") {
        } else
          warnings.push_back(
              fmt::format("{}: unknown VIP option '{}' (ignored)", line.where.str(), k));
      }
      out.push_back(v);
    }
  }

  static std::string command(const Stmt& s) {
    std::string c;
    for (auto& a : s.args) c += (c.empty() ? "" : " ") + a.text;
    return c;
  }

  InstanceConfig instance(const Stmt& s, const GlobalDefs& g) {
    InstanceConfig in;
    in.where = s.where;
    if (s.args.empty())
      error(s, "vrrp_instance needs a name");
    else
      in.name = s.args[0].text;
    static const std::set<std::string> ignored = {"smtp_alert",
                                                  "debug",
                                                  "dont_track_primary",
                                                  "mcast_src_ip",
                                                  "advert_int_ms",
                                                  "strict_mode",
                                                  "garp_master_refresh",
                                                  "garp_master_refresh_repeat",
                                                  "lvs_sync_daemon_interface",
                                                  "virtual_routes",
                                                  "virtual_rules",
                                                  "skip_check_adv_addr",
                                                  "unicast_ttl",
                                                  "check_unicast_src"};
    for (auto& x : s.block) {
      const std::string& k = x.keyword;
      if (k == "state") {
        auto v = arg(x);
        if (v && *v != "MASTER" && *v != "BACKUP")
          error(x, fmt::format("state {}: expected MASTER or BACKUP", *v));
        else if (v)
          in.state = *v;
      } else if (k == "interface") {
        in.interface = arg(x).value_or("");
      } else if (k == "virtual_router_id") {
        in.vrid = static_cast<int>(integer(x, 1, 255).value_or(-1));  // -1: invalid, reported
      } else if (k == "priority") {
        in.priority = static_cast<int>(integer(x, 1, 255).value_or(100));
      } else if (k == "advert_int") {
        in.advert_int = seconds(x, 0.01, 255).value_or(std::chrono::seconds(1));
      } else if (k == "version") {
        in.version = static_cast<int>(integer(x, 2, 3).value_or(0));
      } else if (k == "virtual_ipaddress") {
        vips(x, in.vips);
      } else if (k == "virtual_ipaddress_excluded") {
        vips(x, in.vips_excluded);
      } else if (k == "authentication") {
        for (auto& a : x.block) {
          if (a.keyword == "auth_type") {
            auto t = arg(a);
            if (t == "PASS")
              in.auth_type = AuthType::kSimpleText;
            else if (t == "AH")
              in.auth_type = AuthType::kAh;
            else if (t)
              error(a, fmt::format("auth_type {}: expected PASS or AH", *t));
          } else if (a.keyword == "auth_pass") {
            in.auth_pass = arg(a).value_or("");
            if (in.auth_pass.size() > 8) {
              warnings.push_back(
                  fmt::format("{}: Truncating auth_pass to 8 characters", a.where.str()));
              in.auth_pass.resize(8);
            }
          } else {
            warn_unknown(a, "authentication");
          }
        }
      } else if (k == "nopreempt") {
        in.nopreempt = true;
      } else if (k == "preempt") {
        in.nopreempt = false;
      } else if (k == "preempt_delay") {
        in.preempt_delay = seconds(x, 0, 1000).value_or(Duration{0});
      } else if (k == "unicast_src_ip") {
        if (auto a = arg(x)) in.unicast_src = address(x, *a);
      } else if (k == "unicast_peer") {
        for (auto& p : x.block) {
          if (auto a = address(p, p.keyword)) in.unicast_peers.push_back(*a);
        }
      } else if (k == "track_interface") {
        for (auto& t : x.block) {
          TrackedInterface ti{t.keyword, 0};
          if (t.args.size() == 2 && t.args[0].text == "weight")
            ti.weight = std::atoi(t.args[1].text.c_str());
          in.track_interfaces.push_back(ti);
        }
      } else if (k == "track_script") {
        for (auto& t : x.block) {
          TrackedScript ts{t.keyword, std::nullopt};
          if (t.args.size() == 2 && t.args[0].text == "weight")
            ts.weight = std::atoi(t.args[1].text.c_str());
          in.track_scripts.push_back(ts);
        }
      } else if (k == "notify_master") {
        in.notify_master = command(x);
      } else if (k == "notify_backup") {
        in.notify_backup = command(x);
      } else if (k == "notify_fault") {
        in.notify_fault = command(x);
      } else if (k == "notify_stop") {
        in.notify_stop = command(x);
      } else if (k == "notify") {
        in.notify = command(x);
      } else if (k == "garp_master_delay") {
        in.garp_master_delay = seconds(x, 0, 1000);
      } else if (k == "garp_master_repeat") {
        in.garp_master_repeat = static_cast<int>(integer(x, 1, 255).value_or(5));
      } else if (k == "use_vmac") {
        in.use_vmac = true;
        if (!x.args.empty()) {
          in.vmac_name = x.args[0].text;
          if (in.vmac_name.size() > 15)
            error(x, fmt::format("use_vmac: interface name '{}' is longer than 15 characters",
                                 in.vmac_name));
        }
      } else if (k == "vmac_xmit_base") {
        in.vmac_xmit_base = true;
      } else if (k == "accept") {
        in.accept = true;
      } else if (k == "no_accept") {
        in.accept = false;
      } else if (ignored.count(k)) {
      } else {
        warn_unknown(x, "vrrp_instance " + in.name);
      }
    }
    if (in.interface.empty())
      error(s, fmt::format("vrrp_instance {}: 'interface' is missing", in.name));
    if (in.vrid == 0)
      error(s, fmt::format("vrrp_instance {}: 'virtual_router_id' is missing", in.name));
    if (in.vips.empty()) error(s, fmt::format("vrrp_instance {}: no virtual_ipaddress", in.name));
    if (!in.vips.empty()) {
      in.ipv6 = in.vips[0].prefix.v6;
      for (auto& v : in.vips) {
        if (v.prefix.v6 != in.ipv6) {
          errors.push_back(
              fmt::format("{}: {} mixes IPv4 and IPv6 virtual addresses: put the other family in "
                          "virtual_ipaddress_excluded or another instance",
                          v.where.str(), in.name));
        }
      }
    }
    int version = in.effective_version(g.vrrp_version);
    if (version == 2) {
      double s2 = std::chrono::duration<double>(in.advert_int).count();
      if (s2 != std::floor(s2) || s2 < 1) {
        error(s, fmt::format("vrrp_instance {}: VRRPv2 advert_int must be whole seconds, got {}",
                             in.name, s2));
      }
    } else {
      double s3 = std::chrono::duration<double>(in.advert_int).count();
      if (s3 > 40.95)
        error(s, fmt::format("vrrp_instance {}: VRRPv3 advert_int at most 40.95 s, got {}", in.name,
                             s3));
    }
    if (in.ipv6 && in.version == 2)
      error(s, fmt::format("vrrp_instance {}: VRRPv2 has no IPv6", in.name));
    if (in.nopreempt && in.state == "MASTER") {
      warnings.push_back(fmt::format(
          "{}: {}: nopreempt needs 'state BACKUP' (as in keepalived it is ignored otherwise)",
          s.where.str(), in.name));
      in.nopreempt = false;
    }
    if (in.auth_type != AuthType::kNone && version == 3) {
      warnings.push_back(
          fmt::format("{}: {}: authentication is VRRPv2 only (ignored)", s.where.str(), in.name));
      in.auth_type = AuthType::kNone;
    }
    return in;
  }

  ScriptConfig script(const Stmt& s) {
    ScriptConfig sc;
    sc.where = s.where;
    sc.name = s.args.empty() ? "" : s.args[0].text;
    if (sc.name.empty()) error(s, "vrrp_script needs a name");
    for (auto& x : s.block) {
      if (x.keyword == "script")
        sc.script = command(x);
      else if (x.keyword == "interval")
        sc.interval = seconds(x, 0.01, 86400).value_or(std::chrono::seconds(1));
      else if (x.keyword == "timeout")
        sc.timeout = seconds(x, 0.01, 86400).value_or(Duration{0});
      else if (x.keyword == "weight")
        sc.weight = static_cast<int>(integer(x, -253, 253).value_or(0));
      else if (x.keyword == "fall")
        sc.fall = static_cast<int>(integer(x, 1, 1000).value_or(1));
      else if (x.keyword == "rise")
        sc.rise = static_cast<int>(integer(x, 1, 1000).value_or(1));
      else if (x.keyword == "user" || x.keyword == "init_fail") {
      } else
        warn_unknown(x, "vrrp_script " + sc.name);
    }
    if (sc.script.empty()) error(s, fmt::format("vrrp_script {}: 'script' is missing", sc.name));
    return sc;
  }

  void build(const std::vector<Stmt>& top, KeepalivedConfig& c) {
    static const std::set<std::string> ignored_global = {"notification_email",
                                                         "notification_email_from",
                                                         "smtp_server",
                                                         "smtp_connect_timeout",
                                                         "vrrp_garp_interval",
                                                         "vrrp_gna_interval",
                                                         "vrrp_mcast_group4",
                                                         "vrrp_mcast_group6",
                                                         "max_auto_priority",
                                                         "vrrp_priority",
                                                         "vrrp_no_swap",
                                                         "vrrp_rt_priority",
                                                         "dynamic_interfaces",
                                                         "vrrp_startup_delay",
                                                         "vrrp_higher_prio_send_advert",
                                                         "vrrp_iptables",
                                                         "vrrp_nftables",
                                                         "checker_log_all_failures",
                                                         "lvs_flush",
                                                         "lvs_timeouts",
                                                         "lvs_sync_daemon",
                                                         "notify_fifo",
                                                         "vrrp_notify_fifo",
                                                         "vrrp_min_garp",
                                                         "vrrp_garp_master_refresh",
                                                         "vrrp_garp_master_refresh_repeat",
                                                         "net_namespace",
                                                         "instance",
                                                         "use_pid_dir"};
    // Global definitions first: instances depend on vrrp_version.
    for (auto& s : top) {
      if (s.keyword != "global_defs") continue;
      for (auto& x : s.block) {
        const std::string& k = x.keyword;
        if (k == "router_id")
          c.global.router_id = arg(x).value_or("");
        else if (k == "vrrp_version")
          c.global.vrrp_version = static_cast<int>(integer(x, 2, 3).value_or(2));
        else if (k == "vrrp_strict")
          c.global.vrrp_strict = true;
        else if (k == "enable_script_security")
          c.global.enable_script_security = true;
        else if (k == "script_user")
          c.global.script_user = command(x);
        else if (k == "vrrp_skip_check_adv_addr")
          c.global.skip_check_adv_addr = true;
        else if (k == "vrrp_garp_master_delay")
          c.global.garp_master_delay = seconds(x, 0, 1000).value_or(std::chrono::seconds(5));
        else if (k == "vrrp_garp_master_repeat")
          c.global.garp_master_repeat = static_cast<int>(integer(x, 1, 255).value_or(5));
        else if (!ignored_global.count(k))
          warn_unknown(x, "global_defs");
      }
    }
    for (auto& s : top) {
      if (s.keyword == "global_defs") continue;
      if (s.keyword == "vrrp_instance")
        c.instances.push_back(instance(s, c.global));
      else if (s.keyword == "vrrp_script" || s.keyword == "vrrp_track_process") {
        if (s.keyword == "vrrp_script")
          c.scripts.push_back(script(s));
        else
          warn_unknown(s, "the configuration");
      } else if (s.keyword == "vrrp_sync_group") {
        SyncGroupConfig g;
        g.where = s.where;
        g.name = s.args.empty() ? "" : s.args[0].text;
        for (auto& x : s.block) {
          if (x.keyword == "group")
            g.instances = words(x);
          else if (x.keyword == "notify_master")
            g.notify_master = command(x);
          else if (x.keyword == "notify_backup")
            g.notify_backup = command(x);
          else if (x.keyword == "notify_fault")
            g.notify_fault = command(x);
          else if (x.keyword == "notify")
            g.notify = command(x);
          else if (x.keyword != "smtp_alert" && x.keyword != "global_tracking")
            warn_unknown(x, "vrrp_sync_group " + g.name);
        }
        c.sync_groups.push_back(g);
      } else if (s.keyword == "virtual_server" || s.keyword == "virtual_server_group") {
        warnings.push_back(
            fmt::format("{}: {} is for the load balancer (vnet lb), not vnet vrrp: ignored",
                        s.where.str(), s.keyword));
      } else {
        warn_unknown(s, "the configuration");
      }
    }
    // Cross references.
    std::map<std::string, const InstanceConfig*> names;
    std::map<std::tuple<std::string, int, bool>, std::string> vrids;
    for (auto& in : c.instances) {
      if (!names.emplace(in.name, &in).second)
        errors.push_back(
            fmt::format("{}: vrrp_instance {} is defined twice", in.where.str(), in.name));
      auto [it, fresh] = vrids.emplace(std::tuple{in.interface, in.vrid, in.ipv6}, in.name);
      if (!fresh && in.vrid) {
        errors.push_back(fmt::format("{}: {} uses VRID {} on {} like {}", in.where.str(), in.name,
                                     in.vrid, in.interface, it->second));
      }
      for (auto& ts : in.track_scripts) {
        bool found = false;
        for (auto& sc : c.scripts) found |= sc.name == ts.name;
        if (!found)
          errors.push_back(fmt::format("{}: {} tracks script {}, which no vrrp_script defines",
                                       in.where.str(), in.name, ts.name));
      }
    }
    if (c.global.vrrp_strict) {
      // keepalived's strict mode (RFC conformance), with its messages.
      for (auto& in : c.instances) {
        if (!in.unicast_peers.empty())
          errors.push_back(fmt::format("{}: {}: strict mode does not support unicast peers",
                                       in.where.str(), in.name));
        if (in.auth_type != AuthType::kNone) {
          warnings.push_back(
              fmt::format("{}: {}: Strict mode does not support authentication. Ignoring.",
                          in.where.str(), in.name));
          in.auth_type = AuthType::kNone;
        }
        if (in.state == "MASTER" && in.priority != 255) {
          warnings.push_back(fmt::format("{}: {}: State MASTER must match being address owner",
                                         in.where.str(), in.name));
          in.state = "BACKUP";
        }
        if (in.accept == true) {
          warnings.push_back(fmt::format("{}: {}: accept is not allowed in strict mode: no_accept",
                                         in.where.str(), in.name));
        }
        in.accept = false;
      }
    }
    for (auto& g : c.sync_groups) {
      for (auto& n : g.instances) {
        if (!names.count(n))
          errors.push_back(fmt::format("{}: sync group {} names {}, which no vrrp_instance defines",
                                       g.where.str(), g.name, n));
      }
    }
  }
};

}  // namespace

Result<KeepalivedConfig> parse_keepalived_conf(const std::string& text, const std::string& file) {
  Lexer lex;
  lex.lex_text(text, file, 0);
  Builder b;
  size_t i = 0;
  auto top = b.parse(lex.tokens, i, false);
  KeepalivedConfig c;
  b.build(top, c);
  c.warnings = b.warnings;
  c.files = lex.files;
  std::vector<std::string> errors = lex.errors;
  errors.insert(errors.end(), b.errors.begin(), b.errors.end());
  if (!errors.empty()) {
    std::string msg;
    for (auto& e : errors) msg += e + "\n";
    msg.pop_back();
    return Error{EINVAL, msg};
  }
  return c;
}

Result<KeepalivedConfig> load_keepalived_conf(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ENOENT, "{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_keepalived_conf(ss.str(), path);
}

}  // namespace vnet::vrrp
