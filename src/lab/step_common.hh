#pragma once
// Pieces several step kinds share: checking that a node can run probes, `expect` values,
// probe targets, the link a step names and its cable.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "lab/keys.hh"
#include "lab/reader.hh"
#include "lab/step.hh"

namespace vnet::lab {

// The node exists and probes run inside it (hosts, routers). Records a diagnostic otherwise.
bool check_prober(const std::string& node, const YAML::Node& where, Reader& r);
// The same for exec steps: a node that runs commands (NodeKind::runs_commands).
bool check_commands(const std::string& node, const YAML::Node& where, Reader& r);
// A node with an address of that family, or an IP address of that family.
bool check_target(const std::string& target, bool v6, const YAML::Node& where, Reader& r);
// step["expect"] among `allowed` (default `dflt`); "ping expects reach or unreachable, got 'x'".
std::optional<std::string> expect_word(const YAML::Node& step, Reader& r,
                                       std::string_view step_name,
                                       const std::vector<std::string>& allowed,
                                       const std::string& dflt);
KeySpec expect_key(const std::vector<std::string>& allowed, const std::string& doc);
// A field of a console JSON answer as text: a string as it is, anything else as JSON, "?" when
// absent.
std::string json_text(const nlohmann::json& object, const char* key);
// "pc1 is powered off" when a scenario killed or stopped it.
std::optional<Outcome> refuse_if_off(const std::string& node, ScenarioContext& ctx);

// The link a step names by its two ends X and Y (each NODE, NODE:IFACE or SWITCH; either order):
// its index in Topology::links. Records "STEP: no link between X and Y" otherwise.
std::optional<size_t> find_link(const std::string& x, const std::string& y, std::string_view step,
                                const YAML::Node& where, Reader& r);
// Pulls (up = false) or plugs a link's cable: between switches both ports go down or up in the
// dataplane (`up` also ends silence); between a node and a switch the node's kind takes the node
// side's carrier away or gives it back. Both ends must be powered (refuse_if_off).
Status set_cable(const Link& l, bool up, ScenarioContext& ctx);
// "pc1:eth0–sw1:3" (node link) or "sw1:2–sw2:2" (switch link).
std::string link_name(const Link& l);

}  // namespace vnet::lab
