#pragma once
// Reader: typed, strict access to the YAML of a topology file, collecting diagnostics.
//
// Every accessor takes the YAML node and a short description of the value ("listen port",
// "vlan") and returns std::nullopt after recording a diagnostic at the node's file:line:col when
// the value is not what was expected. Numbers and durations go through base/parse.hh: "12abc",
// "reach" or "" never become 0. Kinds and steps parse with a Reader; the topology parser owns it.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/parse.hh"
#include "bridge/port_config.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader {
 public:
  Reader(std::string file, Topology& topo, LoadOptions options = {})
      : file_(std::move(file)), topo_(topo), options_(std::move(options)) {}
  const LoadOptions& options() const { return options_; }

  const std::string& file() const { return file_; }
  // The topology as parsed so far (nodes and links are known when scenarios are parsed).
  const Topology& topo() const { return topo_; }

  Where at(const YAML::Node& n) const;
  void error(const YAML::Node& n, std::string message);
  void error(const Where& w, std::string message);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  // Something valid that is likely not what the author wants (Topology::warnings).
  void warn(const Where& w, std::string message) { warnings_.push_back({w, std::move(message)}); }
  const std::vector<Diagnostic>& warnings() const { return warnings_; }

  // Unknown keys of a map are errors listing the table's keys; missing required keys too.
  // Returns false when `map` is not a map (after reporting it).
  bool check_keys(const YAML::Node& map, const KeyTable& table);

  std::optional<std::string> str(const YAML::Node& n, const std::string& what);
  std::optional<int64_t> integer(const YAML::Node& n, const std::string& what, int64_t lo,
                                 int64_t hi);
  std::optional<Duration> duration(const YAML::Node& n, const std::string& what, Duration lo,
                                   Duration hi, DurationUnit bare = DurationUnit::kNone);
  std::optional<bridge::VlanId> vid(const YAML::Node& n, const std::string& what);
  std::vector<bridge::VlanId> vid_list(const YAML::Node& n, const std::string& what);
  // 1..max letters, digits, '-' or '_', starting with a letter.
  std::optional<std::string> name(const YAML::Node& n, const std::string& what, size_t max);
  // A sequence (empty when the node is absent; an error when it is something else).
  std::vector<YAML::Node> list(const YAML::Node& n, const std::string& what);
  // A file named relative to the topology file, read as a regular file (size-limited).
  // `label` receives the path as it should appear in diagnostics.
  std::optional<std::string> read_file(const YAML::Node& n, const std::string& path,
                                       std::string* label = nullptr);

  static bool valid_name(const std::string& s, size_t max);
  static std::vector<std::string> words(const std::string& s);

 private:
  std::string file_;
  Topology& topo_;
  LoadOptions options_;
  std::vector<Diagnostic> diags_;
  std::vector<Diagnostic> warnings_;
};

}  // namespace vnet::lab
