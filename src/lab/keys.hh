#pragma once
// Key tables: the one description of every key a topology file may use. The same table drives
// validation (an unknown key is an error that lists the expected ones), the JSON Schema
// (docs/topology.schema.json, `vnet lab schema`) and the reference tables of docs/topology.md
// (`vnet lab schema --markdown`); a unit test keeps the committed docs equal to what the tables
// generate. Node kinds and step kinds each bring their table (lab/node_kind.hh, lab/step.hh).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vnet::lab {

struct KeySpec {
  std::string name;
  nlohmann::json schema;  // JSON Schema (draft 2020-12) of the value
  std::string doc;        // one line for docs/topology.md
  bool required = false;
};

struct KeyTable {
  std::string what;  // "switch", "host", "link", "step ping" — used in messages and docs
  std::vector<KeySpec> keys;

  const KeySpec* find(std::string_view name) const;
  // "name, vlans, stp"
  std::string names() const;
  // {"type": "object", "additionalProperties": false, "required": [...], "properties": {...}}
  nlohmann::json schema() const;
  // A markdown table: | key | value | meaning |
  std::string markdown() const;
};

class StepKind;

// The tables of the file's core (node kinds and steps bring their own).
KeyTable root_keys();  // the lab: name, one section per node kind, links, scenarios
const KeyTable& link_keys();
const KeyTable& scenario_keys();
KeyTable step_keys(const StepKind& kind);  // the step's key plus its options

// "list of interface", "integer 1–65535", "vnet | keepalived": a schema in a few words.
std::string value_text(const nlohmann::json& schema);
// Escapes '|' for a markdown table cell.
std::string markdown_cell(std::string text);

// Schema fragments shared by tables. References point into the generated document's $defs.
namespace schema {
nlohmann::json string(std::string description = "");
nlohmann::json integer(long min, long max);
nlohmann::json boolean();
nlohmann::json ref(std::string_view def);  // {"$ref": "#/$defs/<def>"}
nlohmann::json list(nlohmann::json items);
nlohmann::json one_or_list(nlohmann::json item);
nlohmann::json one_of(std::vector<nlohmann::json> alternatives);
nlohmann::json enumeration(std::vector<std::string> values);
nlohmann::json pattern(std::string regex, std::string description = "");
// Definitions every table may reference: vid, vids, nodeName, prefix, prefixes, duration,
// mac, ipAddress.
nlohmann::json common_defs();
}  // namespace schema

}  // namespace vnet::lab
