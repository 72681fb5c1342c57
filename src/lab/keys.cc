#include "lab/keys.hh"

#include <fmt/format.h>

namespace vnet::lab {

using nlohmann::json;

const KeySpec* KeyTable::find(std::string_view name) const {
  for (auto& k : keys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string KeyTable::names() const {
  std::string out;
  for (auto& k : keys) out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

json KeyTable::schema() const {
  json props = json::object();
  json required = json::array();
  for (auto& k : keys) {
    props[k.name] = k.schema;
    if (!k.doc.empty() && !props[k.name].contains("description") && !props[k.name].contains("$ref"))
      props[k.name]["description"] = k.doc;
    if (k.required) required.push_back(k.name);
  }
  json s = {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
  if (!required.empty()) s["required"] = required;
  return s;
}

std::string markdown_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// A short human form of a schema for the docs' "value" column.
std::string value_text(const json& s) {
  if (s.contains("$ref")) {
    std::string r = s["$ref"];
    return r.substr(r.rfind('/') + 1);
  }
  if (s.contains("enum")) {
    std::string out;
    for (auto& v : s["enum"]) out += (out.empty() ? "" : " | ") + v.get<std::string>();
    return out;
  }
  if (s.contains("oneOf")) {
    std::string out;
    for (auto& v : s["oneOf"]) out += (out.empty() ? "" : " or ") + value_text(v);
    return out;
  }
  std::string type = s.value("type", "");
  if (type == "array") return "list of " + value_text(s.value("items", json::object()));
  if (type == "integer" && s.contains("minimum")) {
    std::string out =
        fmt::format("integer {}–{}", s["minimum"].get<long>(), s["maximum"].get<long>());
    if (s.contains("multipleOf"))
      out += fmt::format(", multiple of {}", s["multipleOf"].get<long>());
    return out;
  }
  if (type == "object") return "map";
  return type.empty() ? "any" : type;
}

std::string KeyTable::markdown() const {
  std::string out = "| key | value | meaning |\n|---|---|---|\n";
  for (auto& k : keys) {
    out += fmt::format("| `{}`{} | {} | {} |\n", k.name, k.required ? " (required)" : "",
                       markdown_cell(value_text(k.schema)), markdown_cell(k.doc));
  }
  return out;
}

namespace schema {

json string(std::string description) {
  json s = {{"type", "string"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
json integer(long min, long max) {
  return {{"type", "integer"}, {"minimum", min}, {"maximum", max}};
}
json boolean() { return {{"type", "boolean"}}; }
json ref(std::string_view def) { return {{"$ref", fmt::format("#/$defs/{}", def)}}; }
json list(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
json one_or_list(json item) { return {{"oneOf", json::array({item, list(item)})}}; }
json one_of(std::vector<json> alternatives) { return {{"oneOf", json(alternatives)}}; }
json enumeration(std::vector<std::string> values) { return {{"enum", json(values)}}; }
json pattern(std::string regex, std::string description) {
  json s = {{"type", "string"}, {"pattern", std::move(regex)}};
  if (!description.empty()) s["description"] = description;
  return s;
}

json common_defs() {
  return {
      {"vid", {{"type", "integer"}, {"minimum", 1}, {"maximum", 4094}}},
      {"vids", list(ref("vid"))},
      {"nodeName",
       {{"type", "string"},
        {"pattern", "^[A-Za-z][A-Za-z0-9_-]{0,23}$"},
        {"not", {{"const", "vnet"}}}}},
      {"interfaceName",
       {{"type", "string"},
        {"pattern", "^(?=.{1,15}$)[A-Za-z][A-Za-z0-9_-]*(\\.[0-9]{1,4})?$"},
        {"not", {{"enum", {"lo", "all", "default"}}}}}},
      {"prefix", string("ADDRESS/PREFIXLEN")},
      {"prefixes", one_or_list(ref("prefix"))},
      {"ipAddress", string("an IPv4 or IPv6 address")},
      {"mac", pattern("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$", "unicast MAC address")},
      {"duration", pattern("^[0-9]+(\\.[0-9]+)?(us|ms|s|m)$", "a duration: 500ms, 1.5s, 2m")},
  };
}

}  // namespace schema
}  // namespace vnet::lab
