#include "vrrp/keepalived_conf.hh"

#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "base/file.hh"
#include "base/parse.hh"
#include "vrrp/conf_lines.hh"
#include "vrrp/conf_routes.hh"

namespace vnet::vrrp {
namespace {

// Limits of one configuration, besides base/file.hh's (the header says why).
constexpr size_t kMaxTotalBytes = 4 * kMaxConfigBytes;  // all files together
constexpr size_t kMaxWords = 1'000'000;                 // all files together
constexpr size_t kMaxGlobEntries = 100'000;  // directory entries one include pattern may read
constexpr size_t kMaxMessages = 100;         // errors (and warnings) listed; the rest counted
constexpr int kMaxCount = 1'000'000;         // fall, rise (keepalived: INT_MAX)

struct Pos {
  uint32_t file = 0;  // index into Context::files
  int line = 0;
};

// A statement: KEYWORD ARGS… [ { BLOCK } ]. Its arguments are on its keyword's line.
struct Stmt {
  std::string keyword;
  std::vector<std::string> args;
  std::vector<Stmt> block;
  bool has_block = false;
  Pos pos;
};

class Messages {
 public:
  void add(std::string m) {
    if (list_.size() < kMaxMessages) {
      list_.push_back(std::move(m));
    } else {
      ++more_;
    }
  }
  bool empty() const { return list_.empty(); }
  std::vector<std::string> take(const char* what) {
    if (more_) list_.push_back(fmt::format("... and {} more {}", more_, what));
    return std::move(list_);
  }

 private:
  std::vector<std::string> list_;
  size_t more_ = 0;
};

// What the lexer, the statement tree and the model builder share.
struct Context {
  std::vector<std::string> files;  // every file read, the main one first
  Messages errors, warnings;
  std::string at(Pos p) const { return files[p.file] + ":" + std::to_string(p.line); }
  ConfWhere where(Pos p) const { return {files[p.file], p.line}; }
  void error(Pos p, const std::string& m) { errors.add(at(p) + ": " + m); }
  void warn(Pos p, const std::string& m) { warnings.add(at(p) + ": " + m); }
};

// ---- include patterns -------------------------------------------------------------------------

// glob(3) takes no context for its directory callbacks: the budget of one expansion lives here,
// per thread, set and read only by expand() below.
thread_local size_t t_glob_budget = 0;
thread_local bool t_glob_over = false;

struct Expansion {
  std::vector<std::string> paths;  // sorted; directories end in '/' (GLOB_MARK)
  bool over_budget = false;        // the walk read more than kMaxGlobEntries entries
};

bool has_wildcard(std::string_view p) { return p.find_first_of("*?[{") != std::string_view::npos; }

// Expands `pattern` as keepalived does (GLOB_MARK | GLOB_BRACE), reading at most kMaxGlobEntries
// directory entries so `include /*/*/*/*/*` ends quickly. A pattern without wildcards that names
// nothing expands to itself, so that reading it reports why.
Expansion expand(const std::string& pattern) {
  Expansion out;
  glob_t g{};
  g.gl_opendir = [](const char* path) -> void* { return ::opendir(path); };
  g.gl_readdir = [](void* dir) -> struct dirent* {
    if (t_glob_budget == 0) {
      t_glob_over = true;
      return nullptr;
    }
    --t_glob_budget;
    return ::readdir(static_cast<DIR*>(dir));
  };
  g.gl_closedir = [](void* dir) { ::closedir(static_cast<DIR*>(dir)); };
  g.gl_lstat = [](const char* path, struct stat* st) { return ::lstat(path, st); };
  g.gl_stat = [](const char* path, struct stat* st) { return ::stat(path, st); };
  t_glob_budget = kMaxGlobEntries;
  t_glob_over = false;
  int rc = ::glob(pattern.c_str(), GLOB_MARK | GLOB_BRACE | GLOB_ALTDIRFUNC, nullptr, &g);
  out.over_budget = t_glob_over;
  if (rc == 0) {
    // One past the limit is enough to say it was passed.
    size_t n = std::min<size_t>(g.gl_pathc, kMaxIncludedFiles + 1);
    out.paths.assign(g.gl_pathv, g.gl_pathv + n);
  } else if (!has_wildcard(pattern)) {
    out.paths.push_back(pattern);
  }
  ::globfree(&g);
  return out;
}

// ---- statements -------------------------------------------------------------------------------

// Statements from words: a statement ends at the end of its line; a block opens on the same line
// or on the next line by itself. No recursion: the open blocks are a stack at most kMaxNesting
// deep, and what lies deeper is skipped (brace counting only) after one error.
class TreeBuilder {
 public:
  explicit TreeBuilder(Context& cx) : cx_(cx) {}

  void word(std::string text, bool brace, Pos pos, bool eol) {
    if (skipping_ > 0) {
      if (brace) skipping_ += text == "{" ? 1 : -1;
      return;
    }
    if (collecting_) {
      if (!brace) {
        container().back().args.push_back(std::move(text));
        if (eol) {
          collecting_ = false;
          can_open_ = true;
        }
        return;
      }
      collecting_ = false;
      can_open_ = true;
    }
    if (brace && text == "{") {
      if (!can_open_) {
        cx_.error(pos, "'{' without a keyword before it");
        return;
      }
      can_open_ = false;
      std::vector<Stmt>& c = container();
      c.back().has_block = true;
      if (open_.size() >= static_cast<size_t>(kMaxNesting)) {
        cx_.error(pos, fmt::format("blocks nested more than {} deep", kMaxNesting));
        skipping_ = 1;
        return;
      }
      Stmt s = std::move(c.back());
      c.pop_back();
      open_.push_back(std::move(s));
      return;
    }
    if (brace) {  // "}"
      can_open_ = false;
      if (open_.empty()) {
        cx_.error(pos, "'}' without a matching '{'");
        return;
      }
      Stmt s = std::move(open_.back());
      open_.pop_back();
      container().push_back(std::move(s));
      return;
    }
    container().push_back(Stmt{std::move(text), {}, {}, false, pos});
    collecting_ = !eol;
    can_open_ = eol;
  }

  // `complete`: the input was read to its end (not cut short by a limit).
  std::vector<Stmt> finish(bool complete) {
    if (complete && !open_.empty()) {
      cx_.error(open_.back().pos,
                fmt::format("'{}' block is not closed: a '}}' is missing", open_.back().keyword));
    }
    while (!open_.empty()) word("}", true, open_.back().pos, true);
    return std::move(top_);
  }

 private:
  std::vector<Stmt>& container() { return open_.empty() ? top_ : open_.back().block; }

  Context& cx_;
  std::vector<Stmt> top_;
  std::vector<Stmt> open_;   // statements whose block is open, outermost first
  bool collecting_ = false;  // container().back() still takes arguments
  bool can_open_ = false;    // container().back() may take a block
  int skipping_ = 0;         // depth inside a block past kMaxNesting
};

// ---- lexer ------------------------------------------------------------------------------------

class Lexer {
 public:
  Lexer(Context& cx, TreeBuilder& out, ConfLines& lines) : cx_(cx), out_(out), lines_(lines) {}

  // Lexes `text`, the file cx_.files[file], included `depth` levels below the main file. Each
  // line goes through keepalived's line language first (conf_lines.hh).
  void lex(std::string_view text, uint32_t file, int depth) {
    int n = 0;
    while (!text.empty() && !stopped_) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      Pos pos{file, ++n};
      lines_.feed(
          line, [&](std::string l) { logical(l, pos, depth); },
          [&](const std::string& m) { cx_.error(pos, m); });
      if (lines_.stopped()) stopped_ = true;
    }
  }

  void count(size_t bytes) { bytes_ += bytes; }
  bool stopped() const { return stopped_; }

 private:
  struct Word {
    std::string text;
    bool brace = false;  // '{' or '}' (a quoted "{" is a word)
  };

  // One line as conf_lines.hh makes it: words, or an include.
  void logical(std::string_view line, Pos pos, int depth) {
    if (stopped_) return;
    std::vector<Word> words;
    split(line, pos, words, kMaxWords - words_);
    if (words_ + words.size() > kMaxWords) {
      cx_.error(pos, fmt::format("more than {} words in all: the rest is not read", kMaxWords));
      stopped_ = true;
      return;
    }
    words_ += words.size();
    if (words.empty()) return;
    if (!words[0].brace && words[0].text == "include") {
      include(words, pos, depth);
      return;
    }
    for (size_t i = 0; i < words.size(); ++i) {
      out_.word(std::move(words[i].text), words[i].brace, pos, i + 1 == words.size());
    }
  }

  // The words of one line (comments are gone already); stops once it has more than `max`.
  void split(std::string_view line, Pos pos, std::vector<Word>& words, size_t max) {
    words.clear();
    auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    size_t i = 0;
    while (i < line.size() && words.size() <= max) {
      char c = line[i];
      if (space(c)) {
        ++i;
      } else if (c == '{' || c == '}') {
        words.push_back({std::string(1, c), true});
        ++i;
      } else if (c == '"') {
        size_t end = line.find('"', i + 1);
        if (end == std::string_view::npos) {
          cx_.error(pos, "unterminated quoted string");
          end = line.size();
        }
        words.push_back({std::string(line.substr(i + 1, end - i - 1)), false});
        i = end + 1;
      } else {
        size_t end = i;
        while (end < line.size() && !space(line[end]) && line[end] != '{' && line[end] != '}') {
          ++end;
        }
        words.push_back({std::string(line.substr(i, end - i)), false});
        i = end;
      }
    }
  }

  // keepalived lib/parser.c check_include(): `include PATTERN` on a line of its own.
  void include(const std::vector<Word>& w, Pos at, int depth) {
    if (w.size() != 2 || w[1].brace) {
      cx_.error(at, "include: expected one file name or pattern");
      return;
    }
    if (includes_off_) return;
    const std::string& pattern = w[1].text;
    auto stop = [&](const std::string& why) {
      cx_.error(at, fmt::format("include {}: {}", pattern, why));
      includes_off_ = true;  // the configuration is refused: read no more files
    };
    if (depth + 1 > kMaxIncludeDepth) {
      return stop(fmt::format("includes nested more than {} deep (does a file include itself?)",
                              kMaxIncludeDepth));
    }
    std::string pat = pattern;
    if (pat.empty() || pat[0] != '/') {
      pat = (std::filesystem::path(cx_.files[at.file]).parent_path() / pat).string();
    }
    Expansion e = expand(pat);
    if (e.over_budget) {
      return stop(fmt::format("the pattern reads more than {} directory entries", kMaxGlobEntries));
    }
    if (e.paths.size() > kMaxIncludedFiles) {
      return stop(fmt::format("matches more than {} files", kMaxIncludedFiles));
    }
    for (auto& path : e.paths) {
      if (path.back() == '/') {  // keepalived: "Configuration file '%s' is a directory - skipping"
        cx_.warn(at, fmt::format("include {}: {} is a directory (skipped)", pattern, path));
        continue;
      }
      if (++included_ > kMaxIncludedFiles) {
        return stop(fmt::format("more than {} files included in all (files including each other?)",
                                kMaxIncludedFiles));
      }
      auto text = read_regular_file(path);
      if (!text) {
        cx_.error(at, fmt::format("include {}: {}", pattern, text.error().message));
        continue;
      }
      bytes_ += text->size();
      if (bytes_ > kMaxTotalBytes) {
        return stop(
            fmt::format("the configuration is larger than {} MiB in all", kMaxTotalBytes >> 20));
      }
      cx_.files.push_back(path);
      lex(*text, static_cast<uint32_t>(cx_.files.size() - 1), depth + 1);
      if (stopped_ || includes_off_) return;
    }
  }

  Context& cx_;
  TreeBuilder& out_;
  ConfLines& lines_;
  size_t bytes_ = 0, words_ = 0, included_ = 0;
  bool includes_off_ = false;  // an include limit was hit
  bool stopped_ = false;       // the word limit was hit: nothing more is read
};

// ---- the model --------------------------------------------------------------------------------

// What base/parse.hh says was expected ("expected a whole number from 1 to 255"), without its
// quoting of the text, which our messages put after the keyword.
std::string expected(const Error& e) {
  size_t p = e.message.rfind(": expected ");
  return p == std::string::npos ? e.message : e.message.substr(p + 2);
}

// A block reader's view of the context's messages.
class ContextReport final : public ConfReport {
 public:
  explicit ContextReport(Context& cx) : cx_(cx) {}
  void error(const ConfWhere& w, const std::string& m) override {
    cx_.errors.add(w.str() + ": " + m);
  }
  void warn(const ConfWhere& w, const std::string& m) override {
    cx_.warnings.add(w.str() + ": " + m);
  }

 private:
  Context& cx_;
};

// The statement as a block reader sees it. Depth is bounded by kMaxNesting.
ConfStmt to_conf(const Context& cx, const Stmt& s) {
  ConfStmt c{s.keyword, s.args, {}, s.has_block, cx.where(s.pos)};
  for (auto& x : s.block) c.block.push_back(to_conf(cx, x));
  return c;
}

class Builder {
 public:
  Builder(Context& cx, const BlockReader* extra) : cx_(cx), extra_(extra) {}

  void warn_unknown(const Stmt& s, const std::string& where) {
    cx_.warn(s.pos, fmt::format("unknown keyword '{}' in {} (ignored)", s.keyword, where));
  }
  void error(const Stmt& s, const std::string& msg) { cx_.error(s.pos, msg); }
  void warn(const Stmt& s, const std::string& msg) { cx_.warn(s.pos, msg); }

  std::optional<std::string> arg(const Stmt& s, size_t i = 0) {
    if (s.args.size() <= i) {
      error(s, fmt::format("'{}' needs a value", s.keyword));
      return std::nullopt;
    }
    return s.args[i];
  }

  // The one value of a numeric keyword: "priority 100 200" is an error, not 100.
  std::optional<std::string> single(const Stmt& s) {
    auto a = arg(s);
    if (a && s.args.size() > 1) {
      error(s, fmt::format("'{}' {}: expected one value, not {}", s.keyword, *a, s.args.size()));
      return std::nullopt;
    }
    return a;
  }

  // `text`, the value of `name` in statement s, as a whole number in [lo, hi].
  std::optional<int> number(const Stmt& s, std::string_view name, const std::string& text, int lo,
                            int hi) {
    auto v = parse_int_as<int>(text, lo, hi);
    if (!v) {
      error(s, fmt::format("'{}' {}: {}", name, text, expected(v.error())));
      return std::nullopt;
    }
    return *v;
  }

  std::optional<int> integer(const Stmt& s, int lo, int hi) {
    auto a = single(s);
    if (!a) return std::nullopt;
    return number(s, s.keyword, *a, lo, hi);
  }

  // keepalived writes durations as seconds, with a fraction where it takes one ("0.25"), no unit
  // (lib/parser.c read_decimal_unsigned_strvec); its timers count microseconds.
  std::optional<Duration> seconds(const Stmt& s, double lo, double hi) {
    auto a = single(s);
    if (!a) return std::nullopt;
    auto v = parse_real(*a, lo, hi);
    if (!v) {
      error(s, fmt::format("'{}' {}: expected seconds from {} to {}", s.keyword, *a, lo, hi));
      return std::nullopt;
    }
    return std::chrono::microseconds(std::llround(*v * 1e6));
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

  // An interface name as the kernel takes it: IFNAMSIZ - 1 characters, no '/', ':' or white
  // space (Linux net/core/dev.c dev_valid_name()).
  bool ifname(const Stmt& s, std::string_view what, const std::string& name) {
    if (name.empty() || name.size() > 15 || name.find_first_of("/: \t") != std::string::npos) {
      error(s, fmt::format("'{}' {}: expected an interface name of 1 to 15 characters without "
                           "'/', ':' or spaces",
                           what, name));
      return false;
    }
    return true;
  }

  std::vector<std::string> words(const Stmt& s) {  // all words of a block, one statement per line
    std::vector<std::string> out;
    for (auto& x : s.block) {
      out.push_back(x.keyword);
      for (auto& a : x.args) out.push_back(a);
    }
    return out;
  }

  // keepalived vrrp/vrrp_ipaddress.c parse_ipaddress(): ADDR[/LEN] then options, each a word or
  // a word and its value.
  void vips(const Stmt& s, std::vector<VipConfig>& out) {
    static const std::set<std::string> flags = {
        "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac"};
    static const std::set<std::string> valued = {"peer", "preferred_lft", "track_group"};
    for (auto& line : s.block) {
      auto p = address(line, line.keyword);
      if (!p) continue;
      VipConfig v{*p, "", "", "", cx_.where(line.pos)};
      bool ok = true;
      for (size_t i = 0; i < line.args.size(); ++i) {
        const std::string& k = line.args[i];
        bool is_valued = k == "dev" || k == "label" || k == "brd" || k == "broadcast" ||
                         k == "scope" || valued.count(k);
        if (!is_valued) {
          if (flags.count(k)) {
            warn(line, fmt::format("VIP option '{}' is not supported (ignored)", k));
          } else {
            warn(line, fmt::format("unknown VIP option '{}' (ignored)", k));
          }
          continue;
        }
        if (i + 1 == line.args.size()) {
          error(line, fmt::format("VIP {}: '{}' needs a value", line.keyword, k));
          ok = false;
          break;
        }
        const std::string& val = line.args[++i];
        if (k == "dev") {
          ok &= ifname(line, "dev", val);
          v.dev = val;
        } else if (k == "label") {
          if (val.size() > 15) {
            error(line, fmt::format("'label' {}: expected at most 15 characters", val));
            ok = false;
          }
          v.label = val;
        } else if (k == "brd" || k == "broadcast") {
          if (p->v6) {
            error(line,
                  fmt::format("VIP {}: an IPv6 address has no broadcast address", line.keyword));
            ok = false;
          } else if (val != "+" && val != "-" && !packet::IpPrefix::parse(val + "/32")) {
            error(line, fmt::format("'{}' {}: expected an IPv4 address, + or -", k, val));
            ok = false;
          }
          v.brd = val;
        } else if (k != "scope") {
          warn(line, fmt::format("VIP option '{} {}' is not supported (ignored)", k, val));
        }
      }
      if (ok) out.push_back(v);
    }
  }

  // keepalived vrrp/vrrp_track.c alloc_track_if() / alloc_track_script(): NAME [weight N
  // [reverse|noreverse]]; a weight of +/-254 becomes +/-253 with a warning.
  std::optional<int> track_weight(const Stmt& t) {
    if (t.args.empty()) return std::nullopt;
    if (t.args[0] != "weight") {
      error(t, fmt::format("{} {}: expected NAME [weight N]", t.keyword, t.args[0]));
      return std::nullopt;
    }
    if (t.args.size() == 1) {
      error(t, fmt::format("{} weight: 'weight' needs a value", t.keyword));
      return std::nullopt;
    }
    auto w = number(t, "weight", t.args[1], -254, 254);
    if (!w) return std::nullopt;
    if (*w == 254 || *w == -254) {
      warn(t, fmt::format("weight for {} cannot be +/-254. Setting to +/-253", t.keyword));
      *w = *w > 0 ? 253 : -253;
    }
    weight_options(t, 2);
    return w;
  }

  // What may follow a weight: "reverse" (not supported: refused rather than inverted silently)
  // or "noreverse" (the default).
  void weight_options(const Stmt& s, size_t from) {
    for (size_t i = from; i < s.args.size(); ++i) {
      if (i == from && s.args[i] == "noreverse") continue;
      if (i == from && s.args[i] == "reverse") {
        error(s, fmt::format("{}: 'reverse' weights are not supported", s.keyword));
      } else {
        error(s, fmt::format("{}: unexpected '{}' after the weight", s.keyword, s.args[i]));
      }
      return;
    }
  }

  // vrrp_script's own weight: N [reverse|noreverse], -253..253 (vrrp/vrrp_parser.c).
  int script_weight(const Stmt& s) {
    auto a = arg(s);
    if (!a) return 0;
    auto w = number(s, s.keyword, *a, -253, 253);
    weight_options(s, 1);
    return w.value_or(0);
  }

  static std::string command(const Stmt& s) {
    std::string c;
    for (auto& a : s.args) c += (c.empty() ? "" : " ") + a;
    return c;
  }

  InstanceConfig instance(const Stmt& s, const GlobalDefs& g) {
    InstanceConfig in;
    in.where = cx_.where(s.pos);
    if (s.args.empty())
      error(s, "vrrp_instance needs a name");
    else
      in.name = s.args[0];
    static const std::set<std::string> ignored = {"smtp_alert",
                                                  "debug",
                                                  "dont_track_primary",
                                                  "advert_int_ms",
                                                  "strict_mode",
                                                  "garp_master_refresh",
                                                  "garp_master_refresh_repeat",
                                                  "lvs_sync_daemon_interface",
                                                  "skip_check_adv_addr",
                                                  "unicast_ttl",
                                                  "check_unicast_src"};
    bool has_interface = false;
    for (auto& x : s.block) {
      const std::string& k = x.keyword;
      if (k == "state") {
        auto v = single(x);
        if (v && *v != "MASTER" && *v != "BACKUP")
          error(x, fmt::format("'state' {}: expected MASTER or BACKUP", *v));
        else if (v)
          in.state = *v;
      } else if (k == "interface") {
        has_interface = true;  // an invalid one is reported as such, not as missing too
        if (auto v = single(x); v && ifname(x, k, *v)) in.interface = *v;
      } else if (k == "virtual_router_id") {
        in.vrid = integer(x, 1, 255).value_or(-1);  // -1: invalid, reported
      } else if (k == "priority") {
        in.priority = integer(x, 1, 255).value_or(100);
      } else if (k == "advert_int") {
        in.advert_int = seconds(x, 0.01, 255).value_or(std::chrono::seconds(1));
      } else if (k == "version") {
        in.version = integer(x, 2, 3).value_or(0);
      } else if (k == "virtual_ipaddress") {
        vips(x, in.vips);
      } else if (k == "virtual_ipaddress_excluded") {
        vips(x, in.vips_excluded);
      } else if (k == "authentication") {
        for (auto& a : x.block) {
          if (a.keyword == "auth_type") {
            auto t = single(a);
            if (t == "PASS")
              in.auth_type = AuthType::kSimpleText;
            else if (t == "AH") {
              in.auth_type = AuthType::kAh;
              in.auth_where = cx_.where(a.pos);
            } else if (t)
              error(a, fmt::format("'auth_type' {}: expected PASS or AH", *t));
          } else if (a.keyword == "auth_pass") {
            in.auth_pass = arg(a).value_or("");
            if (in.auth_pass.size() > 8) {
              warn(a, "Truncating auth_pass to 8 characters");
              in.auth_pass.resize(8);
            }
          } else {
            warn_unknown(a, "authentication");
          }
        }
      } else if (k == "virtual_routes") {
        routes(x, in.routes);
      } else if (k == "virtual_rules") {
        rules(x, in.rules);
      } else if (k == "nopreempt") {
        in.nopreempt = true;
      } else if (k == "preempt") {
        in.nopreempt = false;
      } else if (k == "preempt_delay") {
        in.preempt_delay = seconds(x, 0, 1000).value_or(Duration{0});
      } else if (k == "unicast_src_ip" || k == "mcast_src_ip") {
        // keepalived vrrp_parser.c: both set the source of adverts (vrrp_srcip_handler).
        if (auto a = single(x)) in.unicast_src = address(x, *a);
      } else if (k == "unicast_peer") {
        for (auto& p : x.block) {
          if (auto a = address(p, p.keyword)) in.unicast_peers.push_back(*a);
        }
      } else if (k == "track_interface") {
        for (auto& t : x.block) {
          if (!ifname(t, "track_interface", t.keyword)) continue;
          in.track_interfaces.push_back({t.keyword, track_weight(t).value_or(0)});
        }
      } else if (k == "track_script") {
        for (auto& t : x.block) in.track_scripts.push_back({t.keyword, track_weight(t)});
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
        in.garp_master_repeat = integer(x, 1, 255).value_or(5);
      } else if (k == "use_vmac") {
        in.use_vmac = true;
        if (!x.args.empty()) {
          in.vmac_name = x.args[0];
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
    if (!has_interface) error(s, fmt::format("vrrp_instance {}: 'interface' is missing", in.name));
    if (in.vrid == 0)
      error(s, fmt::format("vrrp_instance {}: 'virtual_router_id' is missing", in.name));
    if (in.vips.empty()) error(s, fmt::format("vrrp_instance {}: no virtual_ipaddress", in.name));
    if (!in.vips.empty()) {
      in.ipv6 = in.vips[0].prefix.v6;
      for (auto& v : in.vips) {
        if (v.prefix.v6 != in.ipv6) {
          cx_.errors.add(
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
    if (in.unicast_src && !in.vips.empty() && in.unicast_src->v6 != in.ipv6) {
      error(s, fmt::format("vrrp_instance {}: the source address {} and the virtual addresses "
                           "must be of the same family",
                           in.name, in.unicast_src->address_string()));
    }
    if (in.ipv6 && in.version == 2)
      error(s, fmt::format("vrrp_instance {}: VRRPv2 has no IPv6", in.name));
    if (in.nopreempt && in.state == "MASTER") {
      warn(s, fmt::format(
                  "{}: nopreempt needs 'state BACKUP' (as in keepalived it is ignored otherwise)",
                  in.name));
      in.nopreempt = false;
    }
    if (in.auth_type != AuthType::kNone && version == 3) {
      warn(s, fmt::format("{}: authentication is VRRPv2 only (ignored)", in.name));
      in.auth_type = AuthType::kNone;
    }
    return in;
  }

  // One route or rule per line of the block (conf_routes.hh).
  void routes(const Stmt& s, std::vector<RouteConfig>& out) {
    for (auto& line : s.block) {
      std::vector<std::string> w{line.keyword};
      w.insert(w.end(), line.args.begin(), line.args.end());
      RouteSink sink{[&](const std::string& m) { error(line, m); },
                     [&](const std::string& m) { warn(line, m); }};
      if (auto r = parse_route(w, cx_.where(line.pos), sink)) out.push_back(*r);
    }
  }
  void rules(const Stmt& s, std::vector<RuleConfig>& out) {
    for (auto& line : s.block) {
      std::vector<std::string> w{line.keyword};
      w.insert(w.end(), line.args.begin(), line.args.end());
      RouteSink sink{[&](const std::string& m) { error(line, m); },
                     [&](const std::string& m) { warn(line, m); }};
      if (auto r = parse_rule(w, cx_.where(line.pos), sink, priorities_)) out.push_back(*r);
    }
  }

  ScriptConfig script(const Stmt& s) {
    ScriptConfig sc;
    sc.where = cx_.where(s.pos);
    sc.name = s.args.empty() ? "" : s.args[0];
    if (sc.name.empty()) error(s, "vrrp_script needs a name");
    for (auto& x : s.block) {
      if (x.keyword == "script")
        sc.script = command(x);
      else if (x.keyword == "interval")
        sc.interval = seconds(x, 0.01, 86400).value_or(std::chrono::seconds(1));
      else if (x.keyword == "timeout")
        sc.timeout = seconds(x, 0.01, 86400).value_or(Duration{0});
      else if (x.keyword == "weight")
        sc.weight = script_weight(x);
      else if (x.keyword == "fall")
        sc.fall = integer(x, 1, kMaxCount).value_or(1);
      else if (x.keyword == "rise")
        sc.rise = integer(x, 1, kMaxCount).value_or(1);
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
          c.global.vrrp_version = integer(x, 2, 3).value_or(2);
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
          c.global.garp_master_repeat = integer(x, 1, 255).value_or(5);
        else if (!ignored_global.count(k))
          warn_unknown(x, "global_defs");
      }
    }
    ContextReport report(cx_);
    for (auto& s : top) {
      if (s.keyword == "global_defs") continue;
      if (extra_ && extra_->read &&
          std::find(extra_->keywords.begin(), extra_->keywords.end(), s.keyword) !=
              extra_->keywords.end()) {
        extra_->read(to_conf(cx_, s), report);
      } else if (s.keyword == "vrrp_instance")
        c.instances.push_back(instance(s, c.global));
      else if (s.keyword == "static_ipaddress") {
        size_t from = c.static_addresses.size();
        vips(s, c.static_addresses);
        for (size_t i = from; i < c.static_addresses.size(); ++i) {
          auto& a = c.static_addresses[i];
          if (a.dev.empty())
            cx_.errors.add(fmt::format("{}: static_ipaddress {}: 'dev' is missing", a.where.str(),
                                       a.prefix.to_string()));
        }
      } else if (s.keyword == "static_routes")
        routes(s, c.static_routes);
      else if (s.keyword == "static_rules")
        rules(s, c.static_rules);
      else if (s.keyword == "vrrp_script" || s.keyword == "vrrp_track_process") {
        if (s.keyword == "vrrp_script")
          c.scripts.push_back(script(s));
        else
          warn_unknown(s, "the configuration");
      } else if (s.keyword == "vrrp_sync_group") {
        SyncGroupConfig g;
        g.where = cx_.where(s.pos);
        g.name = s.args.empty() ? "" : s.args[0];
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
        warn(s, fmt::format("{} is for the load balancer (vnet lb), not vnet vrrp: ignored",
                            s.keyword));
      } else {
        warn_unknown(s, "the configuration");
      }
    }
    if (extra_ && extra_->finish) extra_->finish(report);
    // Cross references.
    std::map<std::string, const InstanceConfig*> names;
    std::map<std::tuple<std::string, int, bool>, std::string> vrids;
    for (auto& in : c.instances) {
      if (!names.emplace(in.name, &in).second)
        cx_.errors.add(
            fmt::format("{}: vrrp_instance {} is defined twice", in.where.str(), in.name));
      auto [it, fresh] = vrids.emplace(std::tuple{in.interface, in.vrid, in.ipv6}, in.name);
      if (!fresh && in.vrid) {
        cx_.errors.add(fmt::format("{}: {} uses VRID {} on {} like {}", in.where.str(), in.name,
                                   in.vrid, in.interface, it->second));
      }
      for (auto& ts : in.track_scripts) {
        bool found = false;
        for (auto& sc : c.scripts) found |= sc.name == ts.name;
        if (!found)
          cx_.errors.add(fmt::format("{}: {} tracks script {}, which no vrrp_script defines",
                                     in.where.str(), in.name, ts.name));
      }
    }
    if (c.global.vrrp_strict) {
      // keepalived's strict mode (RFC conformance), with its messages.
      for (auto& in : c.instances) {
        if (!in.unicast_peers.empty())
          cx_.errors.add(fmt::format("{}: {}: strict mode does not support unicast peers",
                                     in.where.str(), in.name));
        if (in.auth_type != AuthType::kNone) {
          cx_.warnings.add(
              fmt::format("{}: {}: Strict mode does not support authentication. Ignoring.",
                          in.where.str(), in.name));
          in.auth_type = AuthType::kNone;
        }
        if (in.state == "MASTER" && in.priority != 255) {
          cx_.warnings.add(fmt::format("{}: {}: State MASTER must match being address owner",
                                       in.where.str(), in.name));
          in.state = "BACKUP";
        }
        if (in.accept == true) {
          cx_.warnings.add(fmt::format("{}: {}: accept is not allowed in strict mode: no_accept",
                                       in.where.str(), in.name));
        }
        in.accept = false;
      }
    }
    // What still asks for AH after v3 and strict mode dropped authentication is refused, not
    // sent as PASS or none.
    for (auto& in : c.instances) {
      if (in.auth_type != AuthType::kAh) continue;
      cx_.errors.add(fmt::format(
          "{}: {}: 'auth_type AH' (IPsec AH, RFC 2402 HMAC-MD5-96 over the IP header) is not "
          "supported by vnet: use PASS or no authentication (RFC 3768 §5.3.6 removed both; "
          "RFC 5798 has none)",
          in.auth_where.str(), in.name));
    }
    for (auto& g : c.sync_groups) {
      for (auto& n : g.instances) {
        if (!names.count(n))
          cx_.errors.add(fmt::format("{}: sync group {} names {}, which no vrrp_instance defines",
                                     g.where.str(), g.name, n));
      }
    }
  }

 private:
  Context& cx_;
  const BlockReader* extra_;
  RulePriorities priorities_;
};

}  // namespace

Result<KeepalivedConfig> parse_keepalived_conf(const std::string& text, const std::string& file,
                                               const BlockReader* extra,
                                               const ReadOptions& options) {
  Context cx;
  cx.files.push_back(file);
  TreeBuilder tree(cx);
  ConfLines lines(options.config_id);
  Lexer lex(cx, tree, lines);
  lex.count(text.size());
  lex.lex(text, 0, 0);
  std::vector<Stmt> top = tree.finish(!lex.stopped());
  KeepalivedConfig c;
  Builder(cx, extra).build(top, c);
  if (!cx.errors.empty()) {
    std::string msg;
    for (auto& e : cx.errors.take("errors")) msg += e + "\n";
    msg.pop_back();
    return Error{EINVAL, msg};
  }
  c.warnings = cx.warnings.take("warnings");
  c.files = std::move(cx.files);
  return c;
}

Result<KeepalivedConfig> load_keepalived_conf(const std::string& path, const BlockReader* extra,
                                              const ReadOptions& options) {
  auto text = read_regular_file(path);
  if (!text) return text.error();
  return parse_keepalived_conf(*text, path, extra, options);
}

}  // namespace vnet::vrrp
