#include "vrrp/conf_lines.hh"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace vnet::vrrp {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }
bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void rtrim(std::string& s) {
  while (!s.empty() && blank(s.back())) s.pop_back();
}

std::string_view ltrim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  return s;
}

// A C integer as strtol(…, 0) reads it (decimal, 0x hexadecimal, 0 octal, optional sign), but
// the whole text.
std::optional<int64_t> c_integer(std::string_view text) {
  std::string t(text);
  if (t.empty() || blank(t.front())) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 0);
  if (errno != 0 || end != t.c_str() + t.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

enum class Sub { kNone, kReplaced };

}  // namespace

ConfLines::ConfLines(std::optional<std::string> config_id) : config_id_(std::move(config_id)) {
  // keepalived set_std_definitions(); _PWD and _RANDOM are not read (conf_lines.hh).
  if (config_id_) defs_["_INSTANCE"] = {*config_id_, false};
  defs_["_HASH"] = {"#", false};
  defs_["_BANG"] = {"!", false};
}

std::string ConfLines::decomment(std::string_view line, bool* continued) {
  line = ltrim(line);
  std::string out;
  out.reserve(line.size());
  bool quote = false, cont = false, comment = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\') {
      if (i + 1 == line.size()) {
        cont = true;
        break;
      }
      if (!comment) {
        if (!quote && (line[i + 1] == '#' || line[i + 1] == '!')) {
          out += line[i + 1];
        } else {
          out += c;
          out += line[i + 1];
        }
      }
      ++i;
      continue;
    }
    if (comment) continue;  // a final '\' still continues the line, as in keepalived
    if (c == '"') {
      quote = !quote;
    } else if (!quote && (c == '!' || c == '#')) {
      comment = true;
      continue;
    }
    out += c;
  }
  rtrim(out);
  if (cont) out += '\\';
  if (continued) *continued = cont;
  return out;
}

void ConfLines::feed(std::string_view line, const Emit& emit, const Fail& fail) {
  if (stopped_) return;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!continuing_.empty()) {
    Definition& def = defs_[continuing_];
    if (line.empty()) {  // an empty line ends a multi-line definition
      if (def.value.empty()) def.multiline = false;
      continuing_.clear();
      return;
    }
    bool cont = false;
    std::string part = decomment(line, &cont);
    if (part.empty()) return;  // a comment or blanks: skipped, the definition goes on
    if (cont) {
      part.pop_back();
      rtrim(part);
      part += '\n';
    }
    if (part.size() >= 2 || !cont) def.value += part;
    if (!cont) {
      if (def.value.empty()) def.multiline = false;
      continuing_.clear();
    }
    return;
  }
  std::string d = decomment(line);
  if (d.empty()) return;
  process(std::move(d), 0, emit, fail);
}

void ConfLines::out(std::string line, const Emit& emit, const Fail& fail) {
  if (stopped_) return;
  ++lines_;
  bytes_ += line.size() + 1;
  if (lines_ > kMaxExpandedLines) {
    fail(
        fmt::format("more than {} lines after conditional lines, substitution and ~SEQ: the "
                    "rest is not read",
                    kMaxExpandedLines));
    stopped_ = true;
    return;
  }
  if (bytes_ > kMaxExpandedBytes) {
    fail(fmt::format("more than {} MiB after substitution and ~SEQ: the rest is not read",
                     kMaxExpandedBytes >> 20));
    stopped_ = true;
    return;
  }
  emit(std::move(line));
}

void ConfLines::process(std::string line, int depth, const Emit& emit, const Fail& fail) {
  if (stopped_) return;
  if (depth > kMaxExpansionDepth) {
    fail(
        fmt::format("expansions (~SEQ, multi-line definitions) nested more than {} deep (does a "
                    "multi-line definition use itself?)",
                    kMaxExpansionDepth));
    return;
  }
  std::vector<std::string> rest;  // lines of multi-line values, after this one
  size_t replaced = 0;
  for (;;) {
    if (!line.empty() && line[0] == '@') {
      bool negate = line.size() > 1 && line[1] == '^';
      size_t from = negate ? 2 : 1;
      size_t space = line.find_first_of(" \t", from);
      if (space == std::string::npos) return;  // nothing after the id
      std::string_view id = std::string_view(line).substr(from, space - from);
      bool match = config_id_ && *config_id_ == id;
      if (match == negate) return;
      line = std::string(ltrim(std::string_view(line).substr(space)));
    }
    if (!line.empty() && line[0] == '$' && definition(line)) return;
    if (line.rfind("~SEQ", 0) == 0) {
      sequence(line, depth, emit, fail);
      return;
    }
    if (line.rfind("~LST", 0) == 0) {
      list(line, depth, emit, fail);
      return;
    }
    if (line.empty() || line[0] == '~' || line.find('$') == std::string::npos) break;
    std::vector<std::string> more;
    Sub s = Sub::kNone;
    {
      // substitute() in a scope of its own: `replaced` counts over every pass of this line.
      size_t before = replaced;
      std::string copy = line;
      size_t pos = 0;
      while ((pos = copy.find('$', pos)) != std::string::npos && pos + 1 < copy.size()) {
        bool braces = copy[pos + 1] == '{';
        size_t ns = pos + 1 + (braces ? 1 : 0);
        if (ns >= copy.size() || !name_start(copy[ns])) {
          ++pos;
          continue;
        }
        size_t ne = ns + 1;
        while (ne < copy.size() && name_char(copy[ne])) ++ne;
        size_t end = ne;
        if (braces) {
          if (ne >= copy.size() || copy[ne] != '}') {
            ++pos;
            continue;
          }
          end = ne + 1;
        } else if (ne < copy.size() && !blank(copy[ne]) && copy[ne] != ',' && copy[ne] != ')') {
          ++pos;
          continue;
        }
        const Definition* def = find(std::string_view(copy).substr(ns, ne - ns));
        if (!def || (def->multiline && end != copy.size())) {
          ++pos;
          continue;
        }
        if (++replaced > kMaxReplacements) {
          fail(
              fmt::format("more than {} substitutions in one line (does a definition use "
                          "itself?)",
                          kMaxReplacements));
          return;
        }
        std::string value = def->value;
        if (def->multiline) {
          size_t nl = value.find('\n');
          std::vector<std::string> tail;
          if (nl != std::string::npos) {
            std::string_view t = std::string_view(value).substr(nl + 1);
            for (;;) {
              size_t e = t.find('\n');
              tail.emplace_back(t.substr(0, e));
              if (e == std::string_view::npos) break;
              t.remove_prefix(e + 1);
            }
            value.resize(nl);
          }
          more.insert(more.begin(), tail.begin(), tail.end());
        }
        copy.replace(pos, end - pos, value);
        if (copy.size() > kMaxExpandedLine) {
          fail(
              fmt::format("line longer than {} bytes after substitution (does a definition use "
                          "itself?)",
                          kMaxExpandedLine));
          return;
        }
        if (ltrim(value).substr(0, 1) == "~") break;
      }
      s = replaced > before ? Sub::kReplaced : Sub::kNone;
      if (s == Sub::kReplaced) line = std::move(copy);
    }
    if (s == Sub::kNone) break;
    rest.insert(rest.begin(), more.begin(), more.end());
    line = decomment(line);
    if (line.empty()) break;
    // Read again from the top: the line may now start with '@', define, or hold names left.
  }
  if (!line.empty()) out(std::move(line), emit, fail);
  for (auto& r : rest) {
    if (stopped_) return;
    std::string d = decomment(r);
    if (!d.empty()) process(std::move(d), depth + 1, emit, fail);
  }
}

const ConfLines::Definition* ConfLines::find(std::string_view name) const {
  auto it = defs_.find(name);
  return it == defs_.end() ? nullptr : &it->second;
}

bool ConfLines::definition(const std::string& line) {
  if (line.size() < 2 || !name_start(line[1])) return false;
  size_t p = 2;
  while (p < line.size() && name_char(line[p])) ++p;
  if (p >= line.size() || line[p] != '=') return false;
  std::string name = line.substr(1, p - 1);
  std::string value(ltrim(std::string_view(line).substr(p + 1)));
  Definition def;
  if (!value.empty() && value.back() == '\\') {
    value.pop_back();
    rtrim(value);
    if (!value.empty()) value += '\n';
    def.multiline = true;
    continuing_ = name;
  }
  def.value = std::move(value);
  defs_[name] = std::move(def);
  return true;
}

bool ConfLines::sequence(const std::string& line, int depth, const Emit& emit, const Fail& fail) {
  auto bad = [&](const std::string& why) {
    fail(fmt::format("invalid ~SEQ '{}': {}", line, why));
    return false;
  };
  size_t p = 4;
  bool hex = p < line.size() && line[p] == 'x';
  if (hex) ++p;
  while (p < line.size() && blank(line[p])) ++p;
  if (p >= line.size() || line[p] != '(') {
    return bad("expected ~SEQ(VAR, [START, [STEP,]] END) TEXT");
  }
  ++p;
  while (p < line.size() && blank(line[p])) ++p;
  size_t vs = p;
  while (p < line.size() && name_char(line[p])) ++p;
  std::string var = line.substr(vs, p - vs);
  if (var.empty() || !name_start(var[0])) return bad("expected a variable name after '('");
  while (p < line.size() && blank(line[p])) ++p;
  if (p >= line.size() || line[p] != ',') return bad("expected ',' after the variable");
  size_t close = line.find(')', p);
  if (close == std::string::npos) return bad("no ')'");
  // The numbers may be names (single-line ones).
  std::string params = line.substr(p + 1, close - p - 1) + ")";
  {
    size_t pos = 0, count = 0;
    while ((pos = params.find('$', pos)) != std::string::npos) {
      bool braces = pos + 1 < params.size() && params[pos + 1] == '{';
      size_t ns = pos + 1 + (braces ? 1 : 0), ne = ns;
      while (ne < params.size() && name_char(params[ne])) ++ne;
      size_t end = braces ? ne + 1 : ne;
      const Definition* def = ne > ns && name_start(params[ns]) &&
                                      (!braces || (ne < params.size() && params[ne] == '}'))
                                  ? find(std::string_view(params).substr(ns, ne - ns))
                                  : nullptr;
      if (!def) {
        ++pos;
        continue;
      }
      if (def->multiline) return bad("a number is a multi-line definition");
      if (++count > kMaxReplacements || params.size() > kMaxExpandedLine) {
        return bad("its numbers do not end expanding (does a definition use itself?)");
      }
      params.replace(pos, end - pos, def->value);
    }
  }
  params.pop_back();
  std::vector<int64_t> n;
  for (size_t from = 0;;) {
    size_t comma = params.find(',', from);
    std::string_view item = std::string_view(params).substr(from, comma - from);
    item = ltrim(item);
    while (!item.empty() && blank(item.back())) item.remove_suffix(1);
    auto v = c_integer(item);
    if (!v) return bad(fmt::format("'{}': expected a whole number", item));
    n.push_back(*v);
    if (comma == std::string::npos) break;
    if (n.size() == 3) return bad("expected at most START, STEP and END");
    from = comma + 1;
  }
  int64_t start, step, end;
  if (n.size() == 1) {
    end = n[0];
    step = end < 1 ? -1 : 1;
    start = end < 0 ? -1 : 1;
  } else if (n.size() == 2) {
    start = n[0];
    end = n[1];
    step = start <= end ? 1 : -1;
  } else {
    start = n[0];
    step = n[1];
    end = n[2];
    if (step == 0 || (start < end && step < 0) || (start > end && step > 0)) {
      return bad(fmt::format("STEP {} never goes from {} to {}", step, start, end));
    }
  }
  if (hex && (start < 0 || end < 0)) return bad("~SEQx takes non-negative numbers only");
  // Repetitions, without overflow: |end - start| / |step| + 1.
  uint64_t span = start <= end ? static_cast<uint64_t>(end) - static_cast<uint64_t>(start)
                               : static_cast<uint64_t>(start) - static_cast<uint64_t>(end);
  uint64_t stride = step < 0 ? 0 - static_cast<uint64_t>(step) : static_cast<uint64_t>(step);
  if (span / stride >= kMaxExpandedLines) {
    return bad(fmt::format("more than {} repetitions", kMaxExpandedLines));
  }
  uint64_t count = span / stride + 1;
  std::string text(ltrim(std::string_view(line).substr(close + 1)));
  int64_t v = start;
  for (uint64_t i = 0; i < count && !stopped_; ++i, v += (i < count ? step : 0)) {
    defs_[var] = {hex ? fmt::format("{:x}", static_cast<uint64_t>(v)) : std::to_string(v), false};
    if (!text.empty()) process(text, depth + 1, emit, fail);
  }
  return true;
}

bool ConfLines::list(const std::string& line, int depth, const Emit& emit, const Fail& fail) {
  auto bad = [&](const std::string& why) {
    fail(fmt::format("invalid ~LST '{}': {}", line, why));
    return false;
  };
  const size_t n = line.size();
  size_t p = 4;
  auto skip = [&] {
    while (p < n && blank(line[p])) ++p;
  };
  auto word = [&] {
    size_t from = p;
    while (p < n && !blank(line[p]) && line[p] != ',' && line[p] != '}' && line[p] != ')') ++p;
    return line.substr(from, p - from);
  };
  // One item or a {braced, list}, as keepalived add_lst() reads them.
  auto group = [&](std::vector<std::string>& out) {
    skip();
    if (p < n && line[p] == '{') {
      ++p;
      for (;;) {
        skip();
        out.push_back(word());
        skip();
        if (p < n && line[p] == ',') {
          ++p;
        } else if (p < n && line[p] == '}') {
          ++p;
          return true;
        } else {
          return false;
        }
      }
    }
    out.push_back(word());
    return true;
  };
  skip();
  if (p >= n || line[p] != '(') {
    return bad("expected ~LST(VAR, VALUE, …) TEXT or ~LST({VAR, …}, {VALUE, …}, …) TEXT");
  }
  ++p;
  std::vector<std::string> vars;
  if (!group(vars)) return bad("expected '}' after the variables");
  for (auto& v : vars) {
    if (v.empty() || !name_start(v[0])) return bad(fmt::format("'{}' is not a variable name", v));
    for (char c : v) {
      if (!name_char(c)) return bad(fmt::format("'{}' is not a variable name", v));
    }
  }
  skip();
  if (p >= n || line[p] != ',') return bad("expected ',' and values after the variables");
  ++p;
  std::vector<std::vector<std::string>> sets;
  for (;;) {
    std::vector<std::string> values;
    if (!group(values)) return bad("expected '}' after values");
    if (values.size() > vars.size()) return bad("~LST specification has too many values");
    values.resize(vars.size());  // missing ones are blank
    sets.push_back(std::move(values));
    skip();
    if (p < n && line[p] == ',') {
      ++p;
    } else if (p < n && line[p] == ')') {
      ++p;
      break;
    } else {
      return bad("expected ',' or ')' after values");
    }
  }
  std::string text(ltrim(std::string_view(line).substr(p)));
  for (auto& set : sets) {
    if (stopped_) break;
    for (size_t i = 0; i < vars.size(); ++i) defs_[vars[i]] = {set[i], false};
    if (!text.empty()) process(text, depth + 1, emit, fail);
  }
  return true;
}

}  // namespace vnet::vrrp
