#pragma once
// The topology file's JSON Schema and the key reference of docs/topology.md, generated from the
// key tables of the core, every node kind and every step kind (lab/keys.hh). `vnet lab schema`
// prints them; a unit test keeps docs/topology.schema.json and the generated part of
// docs/topology.md equal to this output.

#include <string>

#include <nlohmann/json.hpp>

namespace vnet::lab {

nlohmann::json topology_schema();
// Markdown: one section per table (the lab, each node kind and its nested maps, link, scenario)
// and a table of steps.
std::string topology_reference_markdown();

}  // namespace vnet::lab
