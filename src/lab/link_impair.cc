#include "lab/link_impair.hh"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "lab/reader.hh"
#include "lab/switch_client.hh"

namespace vnet::lab {

using nlohmann::json;

namespace {

// The words of one impairment value, with the YAML node each word came from (for positions).
struct Words {
  std::vector<std::string> words;
  std::vector<std::pair<std::string, YAML::Node>> keys;  // map form: key → its node
};

json words_schema() {
  return schema::one_of(
      {schema::string("impair/set words: loss 10% delay 20ms 5ms …"),
       {{"type", "object"},
        {"description", "impair/set words as KEY: VALUE"},
        {"additionalProperties", {{"type", json::array({"string", "number"})}}}}});
}

// A string of words, or a map of KEY: VALUE (its `from` left to the caller when `from` is set).
std::optional<Words> words_of(const YAML::Node& v, const std::string& what, Reader& r,
                              std::optional<YAML::Node>* from) {
  Words out;
  if (v.IsScalar()) {
    out.words = Reader::words(v.Scalar());
    if (out.words.empty()) {
      r.error(v, fmt::format("{}: expected impairment words like 'loss 10% delay 20ms'", what));
      return std::nullopt;
    }
    return out;
  }
  if (!v.IsMap()) {
    r.error(v, fmt::format("{}: expected impairment words ('loss 10% delay 20ms') or a map of "
                           "them ({{loss: 10%, delay: 20ms}})",
                           what));
    return std::nullopt;
  }
  bool ok = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto key = r.str(it->first, what + " key");
    if (!key) {
      ok = false;
      continue;
    }
    if (*key == "from" && from) {
      *from = it->second;
      continue;
    }
    auto value = r.str(it->second, fmt::format("{} {}", what, *key));
    if (!value) {
      ok = false;
      continue;
    }
    out.words.push_back(*key);
    for (auto& w : Reader::words(*value)) out.words.push_back(w);
    out.keys.emplace_back(*key, it->first);
  }
  if (!ok) return std::nullopt;
  return out;
}

// parse_settings over `w` on top of `base`; a diagnostic at the key the error names (map form)
// or at `v`.
std::optional<impair::Settings> settings_of(const Words& w, const impair::Settings& base,
                                            const YAML::Node& v, const std::string& what,
                                            Reader& r) {
  std::vector<std::string_view> views(w.words.begin(), w.words.end());
  auto s = impair::parse_settings(views, base);
  if (s) return *s;
  const std::string& m = s.error().message;
  YAML::Node at = v;
  for (auto& [key, node] : w.keys) {
    if (m.rfind(key, 0) == 0 &&
        (m.size() == key.size() || m[key.size()] == ' ' || m[key.size()] == ':')) {
      at = node;
    }
  }
  r.error(at, fmt::format("{}: {}", what, m));
  return std::nullopt;
}

}  // namespace

KeySpec link_impair_key() {
  json from = {{"type", "object"},
               {"description", "per direction: END: WORDS for the frames END sends"},
               {"additionalProperties", words_schema()}};
  json map = words_schema()["oneOf"][1];
  map["properties"] = {{"from", from}};
  return {"impair", schema::one_of({words_schema()["oneOf"][0], map}),
          "impairment of both directions: the words of `impair/set` (\"loss 10% delay 20ms 5ms\") "
          "or a map of them ({loss: 10%, delay: 20ms 5ms}); `from: {END: WORDS}` adds words for "
          "the frames END (one of the link's nodes) sends (docs/impairment.md)"};
}

void parse_link_impair(const YAML::Node& yaml, Link& l, Reader& r) {
  YAML::Node v = yaml["impair"];
  if (!v) return;
  const std::string what = fmt::format("link {}–{} impair", l.a.node, l.b.node);
  std::optional<YAML::Node> from;
  auto common = words_of(v, what, r, &from);
  if (!common) return;
  impair::Settings base;
  if (!common->words.empty()) {
    auto s = settings_of(*common, {}, v, what, r);
    if (!s) return;
    base = *s;
  }
  std::optional<impair::Settings> ab, ba;
  if (!common->words.empty()) ab = ba = base;
  if (from) {
    if (!from->IsMap()) {
      r.error(*from, fmt::format("{} from: expected a map END: WORDS with END {} or {}", what,
                                 l.a.node, l.b.node));
      return;
    }
    std::set<std::string> seen;
    for (auto it = from->begin(); it != from->end(); ++it) {
      auto end = r.str(it->first, what + " from");
      if (!end) continue;
      if (*end != l.a.node && *end != l.b.node) {
        r.error(it->first, fmt::format("{} from {}: not an end of this link (expected {} or {})",
                                       what, *end, l.a.node, l.b.node));
        continue;
      }
      auto& dir = *end == l.a.node ? ab : ba;
      if (!seen.insert(*end).second) {
        r.error(it->first, fmt::format("{} from {}: named twice", what, *end));
        continue;
      }
      std::string w = fmt::format("{} from {}", what, *end);
      auto words = words_of(it->second, w, r, nullptr);
      if (!words) continue;
      auto s = settings_of(*words, base, it->second, w, r);
      if (s) dir = *s;
    }
  } else if (common->words.empty()) {
    r.error(v, fmt::format("{}: expected impairment words or a map of them", what));
    return;
  }
  // Words that add up to nothing ("clear") impair nothing.
  if (ab && *ab == impair::Settings{}) ab.reset();
  if (ba && *ba == impair::Settings{}) ba.reset();
  l.impair_ab = ab;
  l.impair_ba = ba;
}

ImpairPort impair_port(const Link& l, bool from_a) {
  if (l.switch_to_switch) return {l.a.node, l.port_a, from_a ? "out" : "in"};
  return {l.b.node, l.port_b, from_a ? "in" : "out"};
}

Result<size_t> apply_link_impair(const Link& l, SwitchClient& dp) {
  size_t n = 0;
  for (bool from_a : {true, false}) {
    const auto& s = from_a ? l.impair_ab : l.impair_ba;
    if (!s) continue;
    ImpairPort p = impair_port(l, from_a);
    // "clear" first: the port has exactly the declared settings.
    if (auto st =
            dp.set_impair(p.bridge, p.port, p.direction, "clear " + impair::format_settings(*s));
        !st) {
      return st.error();
    }
    ++n;
  }
  return n;
}

}  // namespace vnet::lab
