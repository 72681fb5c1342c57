#pragma once
// Pieces several step kinds share: checking that a node can run probes, `expect` values,
// probe targets.

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

}  // namespace vnet::lab
