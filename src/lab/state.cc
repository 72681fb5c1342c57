#include "lab/state.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.hh"

namespace vnet::lab {
namespace fs = std::filesystem;
using nlohmann::json;

std::string state_root() {
  const char* env = std::getenv("VNET_STATE_DIR");
  return env && *env ? env : "/run/vnet/labs";
}
std::string state_dir(const std::string& lab) { return state_root() + "/" + lab; }

State::State(std::string name) : name_(std::move(name)), dir_(state_dir(name_)) {}

bool State::exists(const std::string& name) {
  std::error_code ec;
  return fs::exists(state_dir(name) + "/state.json", ec);
}

Result<State> State::create(const std::string& name, const std::string& file) {
  State s(name);
  std::error_code ec;
  fs::create_directories(state_root(), ec);
  if (::mkdir(s.dir_.c_str(), 0700) < 0) {
    if (errno == EEXIST)
      return make_error(EEXIST,
                        "lab {} is already up or was not taken down (state in {}); run "
                        "vnet lab down {} first",
                        name, s.dir_, name);
    return system_error("create " + s.dir_);
  }
  s.j_ = {{"name", name},          {"file", fs::absolute(file).string()},
          {"phase", "creating"},   {"netns", json::array()},
          {"pids", json::array()}, {"power", json::object()}};
  if (auto st = s.save(); !st) return st.error();
  return s;
}

Result<State> State::load(const std::string& name) {
  State s(name);
  auto text = read_regular_file(s.dir_ + "/state.json", 64u << 20);
  if (!text) {
    if (text.error().code == ENOENT)
      return make_error(ENOENT, "lab {} is not up (no {}/state.json)", name, s.dir_);
    return text.error();
  }
  s.j_ = json::parse(*text, nullptr, false);
  if (s.j_.is_discarded() || !s.j_.is_object())
    return make_error(EINVAL, "{}/state.json: not a lab state", s.dir_);
  if (auto journal = read_regular_file(s.dir_ + "/journal.jsonl", 64u << 20)) {
    std::istringstream in(*journal);
    for (std::string line; std::getline(in, line);) {
      json r = json::parse(line, nullptr, false);
      if (r.is_object()) s.apply(r);  // a torn last line is ignored
    }
  }
  return s;
}

void State::apply(const json& r) {
  if (r.contains("netns")) {
    auto& list = j_["netns"];
    if (std::find(list.begin(), list.end(), r["netns"]) == list.end()) list.push_back(r["netns"]);
  } else if (r.contains("pid")) {
    j_["pids"].push_back(r);
  } else if (r.contains("exit")) {
    for (auto& p : j_["pids"]) {
      if (p["pid"] == r["exit"] && !p.contains("status")) p["status"] = r["status"];
    }
  } else if (r.contains("power")) {
    j_["power"][r["power"].get<std::string>()] = r["on"];
  } else if (r.contains("fact")) {
    j_["facts"][r["fact"].get<std::string>()][r["node"].get<std::string>()] = r["value"];
  }
}

Status State::append(const json& record) {
  apply(record);
  if (!journal_.valid()) {
    journal_.reset(
        ::open((dir_ + "/journal.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!journal_.valid()) return system_error("open " + dir_ + "/journal.jsonl");
  }
  std::string line = record.dump() + "\n";
  if (::write(journal_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return system_error("append to " + dir_ + "/journal.jsonl");
  return {};
}

Status State::record_netns(const std::string& ns) { return append({{"netns", ns}}); }

Status State::record_pid(pid_t pid, long long start, const std::string& what,
                         const std::string& node) {
  return append({{"pid", pid}, {"start", start}, {"what", what}, {"node", node}});
}

Status State::record_exit(pid_t pid, int status) {
  return append({{"exit", pid}, {"status", status}});
}

Status State::record_power(const std::string& node, bool on) {
  return append({{"power", node}, {"on", on}});
}

Status State::record_fact(const std::string& key, const std::string& node, nlohmann::json value) {
  return append({{"fact", key}, {"node", node}, {"value", std::move(value)}});
}

Status State::save() {
  std::string tmp = dir_ + "/state.json.tmp";
  {
    std::ofstream out(tmp);
    out << j_.dump(2) << "\n";
    if (!out) return make_error(EIO, "write {}", tmp);
  }
  if (std::rename(tmp.c_str(), (dir_ + "/state.json").c_str()) < 0)
    return system_error("rename state.json");
  return {};
}

Status State::set_phase(const std::string& phase) {
  j_["phase"] = phase;
  if (auto s = save(); !s) return s;
  // Everything in the journal is in state.json now.
  journal_.reset();
  ::unlink((dir_ + "/journal.jsonl").c_str());
  return {};
}

Status State::remove() {
  journal_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) return make_error(EIO, "remove {}: {}", dir_, ec.message());
  return {};
}

}  // namespace vnet::lab
