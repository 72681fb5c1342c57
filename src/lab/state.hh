#pragma once
// The lab's state directory: what `up` created, so `down` removes exactly that — even after a
// crash of `up`, of the dataplane or of a scenario run — and never anything else.
//
// Files in $VNET_STATE_DIR/NAME (default /run/vnet/labs/NAME):
//   state.json     name, source file, phase (creating | up), and the compacted records
//   journal.jsonl  records appended since the last compaction, one JSON object per line:
//                  {"netns": NS} a namespace this lab created (appended right after creating it,
//                  so a namespace that existed before is never recorded);
//                  {"pid": P, "start": T, "what": W, "node": N} a process, before it runs;
//                  {"exit": P, "status": S} how a process ended, when the lab saw it end;
//                  {"power": NODE, "on": BOOL} a node powered off (kill/stop) or booted;
//                  {"fact": KEY, "node": N, "value": V} what a kind records for status and
//                  `down` (a switch's client sockets, an external interface as it was found),
//                  kept as facts[KEY][N] = V.
// Appends are single write(2) calls (O_APPEND); load() replays the journal over state.json and
// ignores a torn last line. Compaction (set_phase) rewrites state.json atomically.

#include <sys/types.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::lab {

std::string state_root();
std::string state_dir(const std::string& lab);

class State {
 public:
  // A new state for lab `name`; refused (EEXIST) while a state of that name exists.
  static Result<State> create(const std::string& name, const std::string& file);
  static Result<State> load(const std::string& name);
  static bool exists(const std::string& name);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& j() const { return j_; }

  Status record_netns(const std::string& ns);
  Status record_pid(pid_t pid, long long start, const std::string& what, const std::string& node);
  Status record_exit(pid_t pid, int status);
  Status record_power(const std::string& node, bool on);
  Status record_fact(const std::string& key, const std::string& node, nlohmann::json value);
  Status set_phase(const std::string& phase);  // and compact
  // Removes the state directory (after `down`).
  Status remove();

  State(State&&) = default;
  State& operator=(State&&) = default;

 private:
  explicit State(std::string name);
  Status append(const nlohmann::json& record);
  Status save();
  void apply(const nlohmann::json& record);

  std::string name_, dir_;
  nlohmann::json j_;
  UniqueFd journal_;
};

}  // namespace vnet::lab
