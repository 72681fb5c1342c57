#include "vrrp/scripts.hh"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

namespace vnet::vrrp {
namespace {

std::string first_word(const std::string& command) {
  std::istringstream in(command);
  std::string w;
  in >> w;
  return w;
}

// The file `word` names: as written when it has a slash, else the first match in PATH.
std::optional<std::string> resolve(const std::string& word) {
  if (word.find('/') != std::string::npos) return word;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    std::string f = (d.empty() ? "." : d) + "/" + word;
    if (access(f.c_str(), X_OK) == 0) return f;
  }
  return std::nullopt;
}

}  // namespace

Result<ScriptRunner> ScriptRunner::make(const GlobalDefs& g) {
  ScriptRunner r;
  r.security_ = g.enable_script_security;
  std::istringstream in(g.script_user);
  std::string user, group_name;
  in >> user >> group_name;
  bool explicit_user = !user.empty();
  if (!explicit_user) user = "keepalived_script";
  passwd* pw = getpwnam(user.c_str());
  if (!pw) {
    if (explicit_user) return make_error(ENOENT, "script_user {}: no such user", user);
    // keepalived falls back to root (with a warning) when its default user does not exist.
    r.uid_ = geteuid();
    r.gid_ = getegid();
    passwd* self = getpwuid(r.uid_);
    r.user_ = self ? self->pw_name : std::to_string(r.uid_);
    r.default_missing_ = true;
    return r;
  }
  r.uid_ = pw->pw_uid;
  r.gid_ = pw->pw_gid;
  r.user_ = user;
  if (!group_name.empty()) {
    group* gr = getgrnam(group_name.c_str());
    if (!gr) return make_error(ENOENT, "script_user {} {}: no such group", user, group_name);
    r.gid_ = gr->gr_gid;
  }
  r.switch_user_ = geteuid() == 0 && (r.uid_ != 0 || r.gid_ != 0);
  return r;
}

std::optional<std::string> ScriptRunner::insecure(const std::string& command) const {
  if (!security_) return std::nullopt;
  std::string word = first_word(command);
  auto file = resolve(word);
  if (!file) return fmt::format("'{}' is not an executable file", word);
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(*file, ec);
  bool leaf = true;
  // The file and every directory above it: owned by root (or the script user), not writable by
  // group (other than root's) or others; a world-writable directory is fine with the sticky
  // bit, since then only the owner can replace the file in it.
  for (; !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) return fmt::format("cannot stat {}", p.string());
    if (st.st_uid != 0 && st.st_uid != uid_)
      return fmt::format("{} is owned by uid {}", p.string(), st.st_uid);
    if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
      return fmt::format("{} is writable by group {}", p.string(), st.st_gid);
    if ((st.st_mode & S_IWOTH) && (leaf || !(st.st_mode & S_ISVTX)))
      return fmt::format("{} is writable by everyone", p.string());
    leaf = false;
    if (p == p.root_path()) break;
  }
  return std::nullopt;
}

ChildSpec ScriptRunner::spec(const std::string& command, Duration timeout) const {
  ChildSpec s;
  s.argv = {"/bin/sh", "-c", command};
  if (switch_user_) {
    s.uid = uid_;
    s.gid = gid_;
  }
  s.timeout = timeout;
  return s;
}

std::string_view notify_state(State s) { return s == State::kInitialize ? "STOP" : state_name(s); }

std::vector<std::string> notify_commands(const InstanceConfig& c, const SyncGroupConfig* group,
                                         bool group_moves, State to, int priority) {
  std::vector<std::string> out;
  const std::string& specific = to == State::kMaster   ? c.notify_master
                                : to == State::kBackup ? c.notify_backup
                                : to == State::kFault  ? c.notify_fault
                                                       : c.notify_stop;
  if (!specific.empty()) out.push_back(specific);
  if (!c.notify.empty())
    out.push_back(
        fmt::format("{} INSTANCE {} {} {}", c.notify, c.name, notify_state(to), priority));
  if (group && group_moves && to != State::kInitialize) {
    const std::string& g = to == State::kMaster   ? group->notify_master
                           : to == State::kBackup ? group->notify_backup
                                                  : group->notify_fault;
    if (!g.empty()) out.push_back(g);
    // keepalived passes priority 0 for a group.
    if (!group->notify.empty())
      out.push_back(fmt::format("{} GROUP {} {} 0", group->notify, group->name, notify_state(to)));
  }
  return out;
}

}  // namespace vnet::vrrp
