#include "lab/reader.hh"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "base/file.hh"

namespace vnet::lab {

Where Reader::at(const YAML::Node& n) const {
  auto m = n.Mark();
  if (m.is_null()) return Where{file_, 0, 0};
  return Where{file_, m.line + 1, m.column + 1};
}

void Reader::error(const YAML::Node& n, std::string message) {
  diags_.push_back({at(n), std::move(message)});
}

void Reader::error(const Where& w, std::string message) {
  diags_.push_back({w, std::move(message)});
}

bool Reader::check_keys(const YAML::Node& map, const KeyTable& table) {
  if (!map.IsMap()) {
    error(map, fmt::format("a {} is a map with the keys {}", table.what, table.names()));
    return false;
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(it->first, fmt::format("a key in {} must be a word", table.what));
      continue;
    }
    std::string k = it->first.Scalar();
    if (!table.find(k)) {
      error(it->first, fmt::format("unknown key '{}' in {} (expected one of: {})", k, table.what,
                                   table.names()));
    }
  }
  for (auto& k : table.keys) {
    if (k.required && !map[k.name]) error(map, fmt::format("{} without '{}'", table.what, k.name));
  }
  return true;
}

std::optional<std::string> Reader::str(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    error(n, fmt::format("{}: expected a single value, not a {}", what,
                         n.IsSequence() ? "list"
                         : n.IsMap()    ? "map"
                                        : "null"));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<int64_t> Reader::integer(const YAML::Node& n, const std::string& what, int64_t lo,
                                       int64_t hi) {
  auto s = str(n, what);
  if (!s) return std::nullopt;
  auto v = parse_int(*s, lo, hi);
  if (!v) {
    error(n, fmt::format("{} {}", what, v.error().message));
    return std::nullopt;
  }
  return *v;
}

std::optional<Duration> Reader::duration(const YAML::Node& n, const std::string& what, Duration lo,
                                         Duration hi, DurationUnit bare) {
  auto s = str(n, what);
  if (!s) return std::nullopt;
  auto v = parse_duration(*s, lo, hi, bare);
  if (!v) {
    error(n, fmt::format("{} {}", what, v.error().message));
    return std::nullopt;
  }
  return *v;
}

std::optional<bridge::VlanId> Reader::vid(const YAML::Node& n, const std::string& what) {
  auto s = str(n, what);
  if (!s) return std::nullopt;
  auto v = parse_int(*s, 1, 4094);
  if (!v) {
    // Keep the wording users (and tests) know for numbers out of range.
    auto any = parse_int(*s, INT64_MIN, INT64_MAX);
    if (any)
      error(n, fmt::format("{}: VLAN {} out of range, expected 1..4094", what, *any));
    else
      error(n, fmt::format("{}: '{}' is not a VLAN: expected a VID from 1 to 4094", what, *s));
    return std::nullopt;
  }
  return static_cast<bridge::VlanId>(*v);
}

std::vector<bridge::VlanId> Reader::vid_list(const YAML::Node& n, const std::string& what) {
  std::vector<bridge::VlanId> out;
  if (!n.IsSequence()) {
    error(n, fmt::format("{}: expected a list of VLANs like [10, 20]", what));
    return out;
  }
  for (auto x : n) {
    if (auto v = vid(x, what)) out.push_back(*v);
  }
  return out;
}

bool Reader::valid_name(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::optional<std::string> Reader::name(const YAML::Node& n, const std::string& what, size_t max) {
  auto s = str(n, what);
  if (!s) return std::nullopt;
  if (!valid_name(*s, max)) {
    error(n, fmt::format("{} '{}': expected 1..{} letters, digits, '-' or '_', starting with a "
                         "letter",
                         what, *s, max));
    return std::nullopt;
  }
  return s;
}

std::vector<YAML::Node> Reader::list(const YAML::Node& n, const std::string& what) {
  std::vector<YAML::Node> out;
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) {
    error(n, fmt::format("{}: expected a list", what));
    return out;
  }
  for (auto x : n) out.push_back(x);
  return out;
}

std::optional<std::string> Reader::read_file(const YAML::Node& n, const std::string& path,
                                             std::string* label) {
  std::filesystem::path p = path;
  if (p.is_relative()) p = std::filesystem::path(file_).parent_path() / p;
  auto text = read_regular_file(p.string());
  if (!text) {
    error(n, text.error().message);
    return std::nullopt;
  }
  if (label) *label = p.string();
  return std::move(*text);
}

std::vector<std::string> Reader::words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

}  // namespace vnet::lab
