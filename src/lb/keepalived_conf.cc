#include "lb/keepalived_conf.hh"

#include <cmath>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "base/parse.hh"
#include "lb/scheduler.hh"

namespace vnet::lb {
namespace {

using vrrp::ConfReport;
using vrrp::ConfStmt;
using vrrp::ConfWhere;

constexpr unsigned kNotSet = ~0u;
constexpr Duration kUnset = Duration::min();
constexpr double kMaxSeconds = 4294.967295 * 1000;  // keepalived read_timer(): UINT_MAX µs range

Where where_of(const ConfWhere& w) { return {w.file, w.line}; }

// Timers written at one level (virtual server, real server, checker); kUnset/kNotSet = inherit.
struct Timers {
  Duration delay_loop = kUnset, timeout = kUnset, delay_before_retry = kUnset, warmup = kUnset;
  unsigned retry = kNotSet;
  std::optional<bool> alpha;
};

struct CheckerDraft {
  CheckerConfig config;
  Timers own;
  Duration misc_timeout = kUnset;
  std::optional<Endpoint> ip;      // connect_ip
  std::optional<uint16_t> port;    // connect_port
  std::optional<int> file_weight;  // FILE_CHECK's own weight, else the track_file's
  bool file_reverse = false;
  bool dns_name_set = false;
};

// A global track_file NAME { file PATH; weight W [reverse] } block (trackers/track_file.c).
struct TrackFile {
  std::string path;
  int weight = 1;
  bool reverse = false;
};

struct RealDraft {
  RealServerConfig config;
  Timers own;
  std::vector<CheckerDraft> checkers;
  std::optional<bool> inhibit;
};

class Reader {
 public:
  explicit Reader(LbConfig& out) : out_(out) {}

  void read(const ConfStmt& s, ConfReport& r) {
    r_ = &r;
    if (s.keyword == "track_file" || s.keyword == "vrrp_track_file") {
      track_file(s);
    } else if (s.keyword == "virtual_server_group") {
      group(s);
    } else {
      virtual_server(s);
    }
  }

  void finish(ConfReport& r) {
    r_ = &r;
    resolve_file_checks();
    for (auto& vs : out_.services) {
      if (vs.key.kind != ServiceKey::kGroup) continue;
      bool found = false;
      for (auto& g : out_.groups) found |= g.name == vs.key.group;
      if (!found) {
        r.error(cw(vs.where), fmt::format("virtual_server group {}: no virtual_server_group {} is "
                                          "defined",
                                          vs.key.group, vs.key.group));
      }
    }
  }

 private:
  static ConfWhere cw(const Where& w) { return {w.file, w.line}; }
  void error(const ConfStmt& s, const std::string& m) { r_->error(s.where, m); }
  void warn(const ConfStmt& s, const std::string& m) { r_->warn(s.where, m); }
  void unknown(const ConfStmt& s, const std::string& in) {
    warn(s, fmt::format("unknown keyword '{}' in {} (ignored)", s.keyword, in));
  }

  std::optional<std::string> one(const ConfStmt& s) {
    if (s.args.empty()) {
      error(s, fmt::format("'{}' needs a value", s.keyword));
      return std::nullopt;
    }
    return s.args[0];
  }

  // Seconds as keepalived reads timers ("1", "0.25"): a Duration in [lo, hi] seconds.
  std::optional<Duration> seconds(const ConfStmt& s, double lo, const std::string& message) {
    auto a = one(s);
    if (!a) return std::nullopt;
    auto v = parse_real(*a, lo, kMaxSeconds);
    if (!v) {
      error(s, fmt::format(fmt::runtime(message), *a));
      return std::nullopt;
    }
    return std::chrono::microseconds(std::llround(*v * 1e6));
  }

  std::optional<unsigned> whole(const ConfStmt& s, int64_t lo, int64_t hi,
                                const std::string& message) {
    auto a = one(s);
    if (!a) return std::nullopt;
    auto v = parse_int(*a, lo, hi);
    if (!v) {
      error(s, fmt::format(fmt::runtime(message), *a));
      return std::nullopt;
    }
    return unsigned(*v);
  }

  std::optional<uint16_t> port(const ConfStmt& s, const std::string& text) {
    auto v = parse_int(text, 0, 65535);
    if (!v) {
      error(s, fmt::format("port '{}': expected a number from 0 to 65535", text));
      return std::nullopt;
    }
    return uint16_t(*v);
  }

  // IP [PORT] from args[first...].
  std::optional<Endpoint> endpoint(const ConfStmt& s, size_t first, const std::string& what) {
    if (s.args.size() <= first) {
      error(s, fmt::format("{}: expected an IP address and a port", what));
      return std::nullopt;
    }
    auto e = Endpoint::parse(s.args[first]);
    if (!e) {
      error(s, fmt::format("Invalid {} IP address {} - expected an IPv4 or IPv6 address", what,
                           s.args[first]));
      return std::nullopt;
    }
    if (s.args.size() > first + 1) {
      auto p = port(s, s.args[first + 1]);
      if (!p) return std::nullopt;
      e->port = *p;
    }
    return *e;
  }

  // The keywords every level shares (check_api.c install_checker_common_keywords, and the
  // virtual/real server handlers of the same names). True if `x` was one of them.
  bool timer_keyword(const ConfStmt& x, Timers& t, const std::string& level) {
    const std::string& k = x.keyword;
    if (k == "delay_loop") {
      if (auto d = seconds(x, 0.000001, level + " delay_loop '{}' is invalid")) t.delay_loop = *d;
    } else if (k == "connect_timeout") {
      if (auto d = seconds(x, 0.000001, level + " connect_timeout {} invalid")) t.timeout = *d;
    } else if (k == "delay_before_retry") {
      if (auto d = seconds(x, 0, level + " delay_before_retry '{}' invalid"))
        t.delay_before_retry = *d;
    } else if (k == "warmup") {
      if (auto d = seconds(x, 0, level + " warmup '{}' invalid")) t.warmup = *d;
    } else if (k == "retry" || k == "nb_get_retry") {
      if (k == "nb_get_retry") warn(x, "nb_get_retry is deprecated - please use 'retry'");
      if (auto v = whole(x, 0, 4294967294, "retry value invalid - {}")) t.retry = *v;
    } else if (k == "alpha") {
      t.alpha = truth(x, "alpha");
    } else {
      return false;
    }
    return true;
  }

  // keepalived check_true_false(): no argument = true.
  bool truth(const ConfStmt& x, const std::string& what) {
    if (x.args.empty()) return true;
    static const std::set<std::string> yes = {"true", "on", "yes"}, no = {"false", "off", "no"};
    if (yes.count(x.args[0])) return true;
    if (no.count(x.args[0])) return false;
    error(x, fmt::format("Invalid {} parameter {}", what, x.args[0]));
    return false;
  }

  std::string command(const ConfStmt& x) {
    std::string c;
    for (auto& a : x.args) c += (c.empty() ? "" : " ") + a;
    return c;
  }

  void track_file(const ConfStmt& s) {
    if (s.keyword == "vrrp_track_file")
      warn(s, "\"vrrp_track_file\" is deprecated, please use \"track_file\"");
    if (s.args.empty()) {
      error(s, "track_file needs a name");
      return;
    }
    const std::string& name = s.args[0];
    TrackFile tf;
    bool has_weight = false;
    for (auto& x : s.block) {
      if (x.keyword == "file") {
        if (x.args.empty()) {
          error(x, "track file file name missing");
        } else if (!tf.path.empty()) {
          warn(x, fmt::format("File already set for track file {} - ignoring {}", name, x.args[0]));
        } else {
          tf.path = x.args[0];
        }
      } else if (x.keyword == "weight") {
        if (x.args.empty()) {
          error(x, fmt::format("No weight specified for track file {} - ignoring", name));
          continue;
        }
        if (has_weight) {
          warn(x,
               fmt::format("Weight already set for track file {} - ignoring {}", name, x.args[0]));
          continue;
        }
        auto v = parse_int(x.args[0], -254, 254);
        if (!v) {
          error(x, fmt::format("Weight ({}) for track_file {} must be between [-254..254] "
                               "inclusive. Ignoring...",
                               x.args[0], name));
          continue;
        }
        has_weight = true;
        tf.weight = int(*v);
        if (x.args.size() >= 2) {
          if (x.args[1] == "reverse")
            tf.reverse = true;
          else
            error(x, fmt::format("track_file {} unknown weight option {}", name, x.args[1]));
        }
      } else {
        // init_file (create the file at start) is not done here.
        unknown(x, "track_file " + name);
      }
    }
    if (tf.path.empty()) {
      warn(s, fmt::format("No file set for track_file {} - ignoring", name));
      return;
    }
    if (!track_files_.emplace(name, tf).second)
      warn(s, fmt::format("track_file {} is defined twice - ignoring the second", name));
  }

  // FILE_CHECK's track_file names the global blocks, wherever in the file they are.
  void resolve_file_checks() {
    for (auto& vs : out_.services) {
      for (auto& rs : vs.reals) {
        for (auto it = rs.checkers.begin(); it != rs.checkers.end();) {
          if (it->type != CheckerType::kFile) {
            ++it;
            continue;
          }
          auto tf = track_files_.find(it->file.track_file);
          if (tf == track_files_.end()) {
            r_->warn(cw(it->where), fmt::format("track_file {} not found - FILE_CHECK ignored",
                                                it->file.track_file));
            it = rs.checkers.erase(it);
            continue;
          }
          it->file.path = tf->second.path;
          if (!it->file.own_weight) {
            it->file.weight = tf->second.weight;
            it->file.reverse = tf->second.reverse;
          }
          it->file.real_weight = rs.weight;
          ++it;
        }
      }
    }
  }

  void group(const ConfStmt& s) {
    VirtualServerGroup g;
    g.where = where_of(s.where);
    if (s.args.empty()) {
      error(s, "virtual_server_group needs a name");
      return;
    }
    g.name = s.args[0];
    for (auto& m : s.block) {
      GroupMember gm;
      if (m.keyword == "fwmark") {
        auto v = m.args.empty() ? std::nullopt : std::optional<std::string>(m.args[0]);
        auto n = v ? parse_int(*v, 0, 4294967295) : Result<int64_t>(Error{EINVAL, ""});
        if (!n) {
          error(m, fmt::format("({}): fwmark '{}' must be in [0, 4294967295]", g.name,
                               v.value_or("")));
          continue;
        }
        gm.fwmark = uint32_t(*n);
        g.members.push_back(gm);
        continue;
      }
      // IP[-LAST] PORT: the keyword is the address.
      std::string addr = m.keyword;
      size_t dash = addr.rfind('-');
      std::string last;
      if (dash != std::string::npos) {
        last = addr.substr(dash + 1);
        addr = addr.substr(0, dash);
      }
      auto e = Endpoint::parse(addr);
      if (!e) {
        error(m, fmt::format("Invalid virtual server group IP address {} - expected IP[-LAST] PORT",
                             m.keyword));
        continue;
      }
      gm.first = *e;
      if (!m.args.empty()) {
        auto p = port(m, m.args[0]);
        if (!p) continue;
        gm.first.port = *p;
      }
      if (!last.empty()) {
        uint32_t start = e->v6 ? (uint32_t(e->v6addr.bytes[14]) << 8 | e->v6addr.bytes[15])
                               : (e->v4.value & 0xff);
        auto end = parse_int(last, 0, e->v6 ? 0xffff : 0xff);
        if (!end) {
          error(m, fmt::format("Invalid range end {} - skipping", m.keyword));
          continue;
        }
        if (uint32_t(*end) <= start) {
          error(m, fmt::format("Address range end is not greater than address range start - {} - "
                               "skipping",
                               m.keyword));
          continue;
        }
        gm.range_end = uint32_t(*end);
      }
      g.members.push_back(gm);
    }
    if (g.members.empty()) {
      warn(s, fmt::format("virtual server group {} has no entries - removing", g.name));
      return;
    }
    out_.groups.push_back(std::move(g));
  }

  std::optional<CheckerType> checker_type(const std::string& k) {
    static const std::pair<const char*, CheckerType> kTypes[] = {
        {"TCP_CHECK", CheckerType::kTcp},   {"HTTP_GET", CheckerType::kHttp},
        {"SSL_GET", CheckerType::kSsl},     {"SMTP_CHECK", CheckerType::kSmtp},
        {"MISC_CHECK", CheckerType::kMisc}, {"DNS_CHECK", CheckerType::kDns},
        {"UDP_CHECK", CheckerType::kUdp},   {"PING_CHECK", CheckerType::kPing},
        {"FILE_CHECK", CheckerType::kFile}, {"BFD_CHECK", CheckerType::kBfd}};
    for (auto& [name, t] : kTypes) {
      if (k == name) return t;
    }
    return std::nullopt;
  }

  void url(const ConfStmt& u, CheckerConfig& c) {
    UrlCheck url;
    for (auto& x : u.block) {
      const std::string& k = x.keyword;
      if (k == "path") {
        url.path = one(x).value_or("");
      } else if (k == "digest") {
        std::string d = one(x).value_or("");
        if (d.size() != 32) {
          error(x, fmt::format("digest '{}' character length should be 32 rather than {}", d,
                               d.size()));
          continue;
        }
        bool hex = true;
        for (char& ch : d) {
          hex &= std::isxdigit(static_cast<unsigned char>(ch)) != 0;
          ch = char(std::tolower(static_cast<unsigned char>(ch)));
        }
        if (!hex) {
          error(x, fmt::format("Unable to interpret hex digit in '{}'", x.args[0]));
          continue;
        }
        url.digest = d;
      } else if (k == "status_code") {
        for (auto& a : x.args) {
          size_t dash = a.find('-');
          auto lo = parse_int(a.substr(0, dash), 100, 599);
          auto hi = dash == std::string::npos ? lo : parse_int(a.substr(dash + 1), 100, 599);
          if (!lo || !hi || *lo > *hi) {
            error(x, fmt::format("Invalid HTTP_GET status code '{}' (expected 100-599 or a range "
                                 "such as 200-299)",
                                 a));
            continue;
          }
          for (int64_t v = *lo; v <= *hi; ++v) url.status_codes.push_back(int(v));
        }
      } else if (k == "virtualhost") {
        url.virtualhost = one(x).value_or("");
      } else if (k == "regex" || k == "regex_no_match" || k == "regex_options" ||
                 k == "regex_stack" || k == "regex_min_offset" || k == "regex_max_offset" ||
                 k == "regex_use_jit") {
        c.other.push_back({k, command(x)});
      } else {
        unknown(x, "url");
      }
    }
    if (url.path.empty()) {
      warn(u, "HTTP/SSL_GET checker url has no path - ignoring");
      return;
    }
    c.urls.push_back(std::move(url));
  }

  // UDP_CHECK's hex strings (check_udp.c payload_handler(), require_reply_handler()).
  std::optional<HexPattern> hex(const ConfStmt& x, bool wildcards, const std::string& what) {
    auto h = parse_hex(command(x), wildcards);
    if (!h) {
      error(x, fmt::format("Invalid hex string for UDP_CHECK {} ({})", what, h.error().message));
      return std::nullopt;
    }
    return *h;
  }

  // The keywords of SMTP_CHECK, DNS_CHECK, UDP_CHECK and FILE_CHECK; true if `x` was one.
  bool own_keyword(const ConfStmt& x, CheckerDraft& d) {
    const std::string& k = x.keyword;
    CheckerConfig& c = d.config;
    switch (c.type) {
      case CheckerType::kSmtp:
        if (k != "helo_name") return false;
        if (x.args.empty())
          error(x, "SMTP_CHECK helo name missing");
        else
          c.smtp.helo_name = x.args[0];
        return true;
      case CheckerType::kDns:
        if (k == "type") {
          auto t = x.args.empty() ? std::nullopt : dns_type_from_name(x.args[0]);
          if (!t)
            warn(x, fmt::format("Unknown DNS check type {} - ignoring",
                                x.args.empty() ? "" : x.args[0]));
          else
            c.dns.type = *t;
        } else if (k == "name") {
          if (x.args.empty()) {
            error(x, "DNS_CHECK name missing");
          } else if (d.dns_name_set) {
            warn(x, "DNS_CHECK name already specified - ignoring");
          } else if (auto why = dns_name_problem(x.args[0])) {
            if (*why == "empty label")
              warn(x, fmt::format("DNS_CHECK name '{}' has empty label - ignoring", x.args[0]));
            else
              error(x, fmt::format("DNS_CHECK name '{}': {}", x.args[0], *why));
          } else {
            c.dns.name = x.args[0];
            d.dns_name_set = true;
          }
        } else {
          return false;
        }
        return true;
      case CheckerType::kUdp:
        if (k == "payload") {
          if (x.args.empty())
            error(x, "UDP_CHECK payload requires a payload");
          else if (auto h = hex(x, false, "payload"))
            c.udp.payload = h->data;
        } else if (k == "require_reply") {
          c.udp.require_reply = true;
          if (!x.args.empty()) {
            if (auto h = hex(x, true, "reply")) c.udp.reply = *h;
          }
        } else if (k == "min_reply_length" || k == "max_reply_length") {
          bool min = k == "min_reply_length";
          auto v = whole(x, 0, 65535,
                         fmt::format("UDP_CHECK {} length {{}} not valid - must be between 0 & "
                                     "65535",
                                     min ? "min" : "max"));
          if (v) (min ? c.udp.min_reply : c.udp.max_reply) = *v;
        } else {
          return false;
        }
        return true;
      case CheckerType::kFile:
        if (k == "track_file") {
          if (auto a = one(x)) c.file.track_file = *a;
        } else if (k == "weight") {
          if (x.args.empty()) {
            error(x, "track file weight missing");
            return true;
          }
          auto v = parse_int(x.args[0], -kMaxWeight, kMaxWeight);
          if (!v) {
            error(x, fmt::format("weight for track file must be in [{}..{}] inclusive. "
                                 "Ignoring...",
                                 -kMaxWeight, kMaxWeight));
            return true;
          }
          bool reverse = false;
          if (x.args.size() >= 2) {
            if (x.args[1] == "reverse") {
              reverse = true;
            } else if (x.args[1] != "noreverse") {
              error(x, fmt::format("unknown track file weight option {} - ignoring", x.args[1]));
              return true;
            }
          }
          d.file_weight = int(*v);
          d.file_reverse = reverse;
        } else {
          return false;
        }
        return true;
      default:
        return false;
    }
  }

  // SMTP_CHECK's deprecated host { connect_ip connect_port bindto connect_timeout } blocks: each
  // is one more checker (check_smtp.c smtp_check_end_handler()).
  std::optional<CheckerDraft> smtp_host(const ConfStmt& h, const CheckerDraft& parent) {
    CheckerDraft d = parent;
    d.ip.reset();
    d.port.reset();
    d.config.bindto.reset();
    d.config.where = where_of(h.where);
    for (auto& x : h.block) {
      const std::string& k = x.keyword;
      if (k == "connect_ip") {
        if (auto e = endpoint(x, 0, "connect_ip")) d.ip = *e;
      } else if (k == "connect_port") {
        if (auto a = one(x)) d.port = port(x, *a);
      } else if (k == "bindto") {
        if (auto e = endpoint(x, 0, "bindto")) d.config.bindto = *e;
      } else if (k == "connect_timeout") {
        if (auto t = seconds(x, 0.000001, "SMTP_CHECK host connect_timeout {} invalid"))
          d.own.timeout = *t;
      } else {
        unknown(x, "SMTP_CHECK host");
      }
    }
    return d;
  }

  std::vector<CheckerDraft> checker(const ConfStmt& s, CheckerType type) {
    CheckerDraft d;
    std::vector<const ConfStmt*> hosts;
    d.config.type = type;
    d.config.where = where_of(s.where);
    std::string name(checker_keyword(type));
    for (auto& x : s.block) {
      const std::string& k = x.keyword;
      // keepalived 2.2.7 knows nb_get_retry in HTTP_GET/SSL_GET only; old how-tos use it in
      // TCP_CHECK too: it is taken everywhere, with keepalived's deprecation warning.
      if (timer_keyword(x, d.own, name)) continue;
      if (own_keyword(x, d)) continue;
      if (type == CheckerType::kSmtp && k == "host") {
        hosts.push_back(&x);
      } else if (k == "connect_ip") {
        if (auto e = endpoint(x, 0, "connect_ip")) d.ip = *e;
      } else if (k == "connect_port") {
        if (auto a = one(x)) d.port = port(x, *a);
      } else if (k == "bindto") {
        if (auto e = endpoint(x, 0, "bindto")) d.config.bindto = *e;
      } else if (k == "bind_port" || k == "bind_if" || k == "fwmark" || k == "log_all_failures") {
        d.config.other.push_back({k, command(x)});
      } else if ((type == CheckerType::kHttp || type == CheckerType::kSsl) && k == "url") {
        url(x, d.config);
      } else if ((type == CheckerType::kHttp || type == CheckerType::kSsl) && k == "virtualhost") {
        if (x.args.empty()) error(x, "HTTP_GET virtualhost name missing");
        d.config.virtualhost = one(x).value_or("");
      } else if ((type == CheckerType::kHttp || type == CheckerType::kSsl) &&
                 (k == "http_protocol" || k == "enable_sni" || k == "fast_recovery")) {
        d.config.other.push_back({k, command(x)});
      } else if (type == CheckerType::kMisc && k == "misc_path") {
        d.config.misc_path = command(x);
      } else if (type == CheckerType::kMisc && k == "misc_timeout") {
        if (auto v = whole(x, 0, 4294, "Invalid misc_timeout value '{}'"))
          d.misc_timeout = std::chrono::seconds(*v);
      } else if (type == CheckerType::kMisc && k == "misc_dynamic") {
        d.config.misc_dynamic = true;
      } else if (type == CheckerType::kMisc && k == "user") {
        d.config.other.push_back({k, command(x)});
      } else if (type == CheckerType::kBfd) {
        d.config.other.push_back({k, command(x)});
      } else {
        unknown(x, name);
      }
    }
    if ((type == CheckerType::kHttp || type == CheckerType::kSsl) && d.config.urls.empty()) {
      warn(s, "HTTP/SSL_GET checker has no urls specified - ignoring");
      return {};
    }
    if (type == CheckerType::kMisc && d.config.misc_path.empty()) {
      warn(s, "No script path has been specified for MISC_CHECKER - skipping");
      return {};
    }
    if (type == CheckerType::kFile) {
      if (d.config.file.track_file.empty()) {
        warn(s, "FILE_CHECK has no track_file specified - ignoring");
        return {};
      }
      if (d.file_weight) {
        d.config.file.weight = *d.file_weight;
        d.config.file.reverse = d.file_reverse;
        d.config.file.own_weight = true;
      }
    }
    if (type == CheckerType::kUdp && d.config.udp.min_reply > d.config.udp.max_reply) {
      warn(s, fmt::format("UDP_CHECK min_reply length {} > max_reply_length {} - will always fail",
                          d.config.udp.min_reply, d.config.udp.max_reply));
    }
    std::vector<CheckerDraft> out;
    if (hosts.empty()) {
      out.push_back(std::move(d));
      return out;
    }
    warn(s, "The SMTP_CHECK host block is deprecated. Please define additional checkers.");
    // The checker's own connection counts only when something of it was written.
    if (d.ip || d.port || d.config.bindto || d.own.timeout != kUnset) out.push_back(d);
    for (auto* h : hosts) {
      if (auto hd = smtp_host(*h, d)) out.push_back(std::move(*hd));
    }
    return out;
  }

  std::optional<RealDraft> real_server(const ConfStmt& s) {
    RealDraft rd;
    rd.config.where = where_of(s.where);
    auto e = endpoint(s, 0, "real server");
    if (!e) return std::nullopt;
    rd.config.addr = *e;
    rd.config.weight = -1;  // inherit the virtual server's weight
    for (auto& x : s.block) {
      const std::string& k = x.keyword;
      if (timer_keyword(x, rd.own, "real server")) continue;
      if (k == "weight") {
        auto v = whole(x, 0, kMaxWeight, "Real server weight {} is outside range 0-65535");
        if (v) rd.config.weight = int(*v);
      } else if (k == "inhibit_on_failure") {
        rd.inhibit = truth(x, "inhibit_on_failure");
      } else if (k == "notify_up") {
        rd.config.notify_up = command(x);
      } else if (k == "notify_down") {
        rd.config.notify_down = command(x);
      } else if (auto t = checker_type(k)) {
        for (auto& c : checker(x, *t)) rd.checkers.push_back(std::move(c));
      } else if (k == "uthreshold" || k == "lthreshold" || k == "lvs_method" || k == "lb_kind" ||
                 k == "smtp_alert" || k == "virtualhost" || k == "snmp_name" || k == "track_file" ||
                 k == "track_script") {
        // Recognised; not modelled yet (thresholds, per-real forwarding, alerts, SNMP).
        if ((k == "lvs_method" || k == "lb_kind") && !x.args.empty() && x.args[0] != "NAT" &&
            x.args[0] != "DR" && x.args[0] != "TUN") {
          error(x, fmt::format("PARSER : unknown [{}] routing method for real server.", x.args[0]));
        }
      } else {
        unknown(x, "real_server " + e->to_string());
      }
    }
    return rd;
  }

  static Duration pick(Duration a, Duration b) { return a != kUnset ? a : b; }

  void virtual_server(const ConfStmt& s) {
    VirtualServerConfig vs;
    vs.where = where_of(s.where);
    Timers vt;
    bool has_protocol = false, has_sched = false, has_method = false;
    std::optional<bool> vs_inhibit;
    int vs_weight = 1;
    if (s.args.size() >= 2 && s.args[0] == "fwmark") {
      auto n = parse_int(s.args[1], 0, 4294967295);
      if (!n) {
        error(s, fmt::format("virtual server fwmark '{}' must be in [0, 4294967295] - ignoring",
                             s.args[1]));
        return;
      }
      vs.key.kind = ServiceKey::kFwmark;
      vs.key.fwmark = uint32_t(*n);
    } else if (s.args.size() >= 2 && s.args[0] == "group") {
      vs.key.kind = ServiceKey::kGroup;
      vs.key.group = s.args[1];
    } else if (s.args.size() == 2) {
      auto e = endpoint(s, 0, "virtual server");
      if (!e) return;
      vs.key.addr = *e;
    } else {
      error(s, "virtual_server: expected 'IP PORT', 'fwmark N' or 'group NAME'");
      return;
    }
    std::vector<RealDraft> reals;
    std::vector<std::string> flags;
    for (auto& x : s.block) {
      const std::string& k = x.keyword;
      if (timer_keyword(x, vt, "virtual server")) continue;
      if (k == "lb_algo" || k == "lvs_sched") {
        auto a = one(x);
        if (a && !is_ipvs_scheduler(*a)) {
          error(x, fmt::format("Invalid lvs_scheduler '{}' - expected one of rr wrr lc wlc lblc "
                               "lblcr dh sh sed nq fo ovf mh twos",
                               *a));
        } else if (a) {
          vs.scheduler = *a;
          has_sched = true;
        }
      } else if (k == "lb_kind" || k == "lvs_method") {
        auto a = one(x);
        if (a == "NAT") {
          vs.forwarding = Forwarding::kNat;
        } else if (a == "DR") {
          vs.forwarding = Forwarding::kDr;
        } else if (a == "TUN") {
          vs.forwarding = Forwarding::kTun;
        } else if (a) {
          error(x, fmt::format("PARSER : unknown [{}] routing method for virtual server.", *a));
          continue;
        }
        has_method = a.has_value();
      } else if (k == "protocol") {
        auto a = one(x).value_or("");
        std::string u;
        for (char c : a) u += char(std::toupper(static_cast<unsigned char>(c)));
        if (u == "TCP") {
          vs.key.protocol = Protocol::kTcp;
        } else if (u == "UDP") {
          vs.key.protocol = Protocol::kUdp;
        } else if (u == "SCTP") {
          vs.key.protocol = Protocol::kSctp;
        } else {
          error(x, fmt::format("Unknown protocol {} - expected TCP, UDP or SCTP", a));
          continue;
        }
        has_protocol = true;
      } else if (k == "persistence_timeout") {
        if (x.args.empty()) {
          vs.persistence_timeout = std::chrono::seconds(360);  // IPVS_SVC_PERSISTENT_TIMEOUT
        } else if (auto v = whole(x, 1, 2678400, "persistence_timeout invalid: '{}'")) {
          vs.persistence_timeout = std::chrono::seconds(*v);
        }
      } else if (k == "persistence_granularity") {
        vs.persistence_granularity = one(x).value_or("");
      } else if (k == "quorum") {
        if (auto v = whole(x, 1, 4294967295, "Quorum {} must be in [1, 4294967295]"))
          vs.quorum = *v;
      } else if (k == "hysteresis") {
        if (auto v = whole(x, 0, 4294967295, "Hysteresis {} must be in [0, 4294967295]"))
          vs.hysteresis = *v;
      } else if (k == "quorum_up") {
        vs.quorum_up = command(x);
      } else if (k == "quorum_down") {
        vs.quorum_down = command(x);
      } else if (k == "sorry_server") {
        if (auto e = endpoint(x, 0, "sorry server")) vs.sorry_server = *e;
      } else if (k == "sorry_server_inhibit") {
        if (!vs.sorry_server) {
          warn(x, "Ignoring sorry_server inhibit used before or without sorry_server");
        } else {
          vs.sorry_server_inhibit = truth(x, "sorry_server_inhibit");
        }
      } else if (k == "inhibit_on_failure") {
        vs_inhibit = truth(x, "inhibit_on_failure");
      } else if (k == "omega") {
        vs.omega = true;
      } else if (k == "ha_suspend") {
        vs.ha_suspend = true;
      } else if (k == "virtualhost") {
        if (x.args.empty()) error(x, "virtual server virtualhost missing");
        vs.virtualhost = one(x).value_or("");
      } else if (k == "weight") {
        if (auto v = whole(x, 1, kMaxWeight, "Virtual server weight {} is outside range 1-65535"))
          vs_weight = int(*v);
      } else if (k == "real_server") {
        if (auto r = real_server(x)) reals.push_back(std::move(*r));
      } else if (k == "ops" || k == "hashed" || k == "flag-1" || k == "flag-2" || k == "flag-3" ||
                 k == "sh-port" || k == "sh-fallback" || k == "mh-port" || k == "mh-fallback") {
        flags.push_back(k);
      } else if (k == "ip_family" || k == "smtp_alert" || k == "snmp_name" ||
                 k == "persistence_engine" || k == "sorry_server_lvs_method") {
        // Recognised; not modelled yet.
      } else {
        unknown(x, "virtual_server " + keepalived_vs_name(vs.key));
      }
    }
    vs.alpha = vt.alpha.value_or(false);
    for (auto& f : flags) {
      bool sh = f.rfind("sh-", 0) == 0, mh = f.rfind("mh-", 0) == 0;
      if ((sh && vs.scheduler != "sh") || (mh && vs.scheduler != "mh")) {
        warn(s, fmt::format("{} only applies to {} scheduler - ignoring", f, sh ? "sh" : "mh"));
      }
    }
    std::string name = keepalived_vs_name(vs.key);
    // check_data.c validate_check_config(), with its messages.
    if (reals.empty()) {
      warn(s, fmt::format("Virtual server {} has no real servers - ignoring", name));
      return;
    }
    if (vs.key.kind == ServiceKey::kAddress && !has_protocol) {
      vs.key.protocol = Protocol::kUdp;
      name = keepalived_vs_name(vs.key);
      warn(s, fmt::format("Virtual server {}: no protocol set - defaulting to UDP", name));
    }
    if (vs.key.kind == ServiceKey::kFwmark && has_protocol) {
      warn(s, fmt::format("Warning: Virtual server {}: protocol specified for fwmark - protocol "
                          "will be ignored",
                          name));
    }
    if (vs.key.kind == ServiceKey::kAddress && vs.key.addr.port == 0 && !vs.persistence_timeout) {
      warn(s, fmt::format("Virtual server {}: zero port only valid for persistent services - "
                          "setting",
                          name));
      vs.persistence_timeout = std::chrono::seconds(360);
    }
    if (!has_sched) {
      warn(s, fmt::format("Virtual server {}: no scheduler set, setting default 'wlc'", name));
    }
    if (!has_method) {
      warn(s,
           fmt::format("Virtual server {}: no forwarding method set, setting default NAT", name));
    }
    Duration vs_delay = pick(vt.delay_loop, std::chrono::seconds(60));  // KEEPALIVED_DEFAULT_DELAY
    Duration vs_timeout = pick(vt.timeout, std::chrono::seconds(5));
    std::set<Endpoint> seen;
    long weight_sum = 0;
    for (auto& rd : reals) {
      RealServerConfig rs = rd.config;
      if (!seen.insert(rs.addr).second) {
        r_->warn(cw(rs.where), fmt::format("VS {}: real server {} is duplicated - removing second "
                                           "rs",
                                           name, rs.addr.to_string()));
        continue;
      }
      if (rs.weight < 0) rs.weight = vs_weight;
      rs.inhibit = rd.inhibit.value_or(vs_inhibit.value_or(false));
      rs.alpha = rd.own.alpha.value_or(vs.alpha);
      Duration rs_delay = pick(rd.own.delay_loop, vs_delay);
      Duration rs_timeout = pick(rd.own.timeout, vs_timeout);
      unsigned rs_retry = rd.own.retry != kNotSet ? rd.own.retry : vt.retry;
      Duration rs_dbr = pick(rd.own.delay_before_retry, vt.delay_before_retry);
      Duration rs_warmup = pick(rd.own.warmup, vt.warmup);
      for (auto& cd : rd.checkers) {  // check_data.c: checker, else real server, else default
        CheckerConfig c = cd.config;
        CheckerType t = c.type;
        unsigned default_retry = t == CheckerType::kMisc ? 0 : t == CheckerType::kDns ? 3 : 1;
        Duration delay = pick(cd.own.delay_loop, rs_delay);
        Duration default_dbr = (t == CheckerType::kHttp || t == CheckerType::kSsl)
                                   ? Duration(std::chrono::seconds(3))
                               : t == CheckerType::kDns ? delay
                                                        : Duration(std::chrono::seconds(1));
        c.timing.delay_loop = delay;
        c.timing.timeout = pick(cd.own.timeout, rs_timeout);
        if (t == CheckerType::kMisc) {
          c.timing.timeout = cd.misc_timeout != kUnset && cd.misc_timeout.count() > 0
                                 ? cd.misc_timeout
                                 : vs_delay;  // check_misc.c: timeout, else the VS's delay_loop
        }
        c.timing.retry = cd.own.retry != kNotSet ? cd.own.retry
                         : rs_retry != kNotSet   ? rs_retry
                                                 : default_retry;
        c.timing.delay_before_retry = pick(cd.own.delay_before_retry, pick(rs_dbr, default_dbr));
        c.timing.warmup = pick(cd.own.warmup, pick(rs_warmup, delay));
        c.timing.alpha = cd.own.alpha.value_or(rs.alpha);
        c.timing.misc = t == CheckerType::kMisc;
        c.timing.timeout_passes = t == CheckerType::kUdp && !c.udp.require_reply;
        c.timing.retry_only_up =
            t == CheckerType::kDns || t == CheckerType::kUdp || t == CheckerType::kPing;
        if (t == CheckerType::kFile) {
          // keepalived follows the file with inotify, has no timers for FILE_CHECK and reads the
          // file before it fills the table; here the file is read every second, and the real
          // server stays out (alpha) until the first reading, one bootstrap delay after start.
          c.timing = CheckerTiming{};
          c.timing.delay_loop = c.timing.timeout = c.timing.delay_before_retry = kFileCheckPeriod;
          c.timing.retry = 0;
          c.timing.alpha = true;
        }
        c.connect = cd.ip.value_or(rs.addr);
        c.connect->port = cd.port.value_or(rs.addr.port);
        rs.checkers.push_back(std::move(c));
      }
      weight_sum += rs.weight;
      vs.reals.push_back(std::move(rs));
    }
    if (vs.quorum > weight_sum) {
      warn(s, fmt::format("Warning - quorum {} for {} exceeds total weight of real servers {}, "
                          "reducing quorum to {}",
                          vs.quorum, name, weight_sum, weight_sum));
      vs.quorum = unsigned(weight_sum);
    }
    if (vs.hysteresis >= vs.quorum && vs.quorum > 0) {
      warn(s, fmt::format("Virtual server {}: hysteresis {} >= quorum {}; setting hysteresis to {}",
                          name, vs.hysteresis, vs.quorum, vs.quorum - 1));
      vs.hysteresis = vs.quorum - 1;
    }
    vs.sched_flags = std::move(flags);
    for (auto& other : out_.services) {
      if (other.key == vs.key) {
        error(s, fmt::format("virtual_server {} is defined twice (first at {})", name,
                             other.where.str()));
        return;
      }
    }
    out_.services.push_back(std::move(vs));
  }

  LbConfig& out_;
  ConfReport* r_ = nullptr;
  std::map<std::string, TrackFile> track_files_;
};

Result<KeepalivedFullConfig> parse_with(const std::string& path, const std::string* text,
                                        const vrrp::ReadOptions& options) {
  KeepalivedFullConfig full;
  auto reader = std::make_shared<Reader>(full.lb);
  vrrp::BlockReader br;
  br.keywords = {"virtual_server", "virtual_server_group", "track_file", "vrrp_track_file"};
  br.read = [reader](const ConfStmt& s, ConfReport& r) { reader->read(s, r); };
  br.finish = [reader](ConfReport& r) { reader->finish(r); };
  auto v = text ? vrrp::parse_keepalived_conf(*text, path, &br, options)
                : vrrp::load_keepalived_conf(path, &br, options);
  if (!v) return v.error();
  full.vrrp = std::move(*v);
  return full;
}

}  // namespace

std::string keepalived_vs_name(const ServiceKey& key) {
  static const char* kProto[] = {"tcp", "udp", "sctp"};
  switch (key.kind) {
    case ServiceKey::kFwmark:
      return fmt::format("FWM {}", key.fwmark);
    case ServiceKey::kGroup:
      return fmt::format("[{}]", key.group);
    default:
      return fmt::format("[{}]:{}:{}", key.addr.address_string(), kProto[int(key.protocol)],
                         key.addr.port);
  }
}

Result<KeepalivedFullConfig> parse_keepalived_conf_full(const std::string& text,
                                                        const std::string& file,
                                                        const vrrp::ReadOptions& options) {
  return parse_with(file, &text, options);
}

Result<KeepalivedFullConfig> load_keepalived_conf_full(const std::string& path,
                                                       const vrrp::ReadOptions& options) {
  return parse_with(path, nullptr, options);
}

}  // namespace vnet::lb
