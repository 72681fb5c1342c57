#pragma once
// Daemon plumbing shared by `vnet switch` and `vnet vrrp`.

#include <string>

namespace vnet::cli {

// -d: fork, the parent exits, the child starts a session with stdin/stdout on /dev/null and
// stderr on /dev/null unless a log file follows.
void daemonize(bool keep_stderr_for_log);
// --log FILE: stderr (where vnet logs) appends to FILE.
void redirect_log(const std::string& logfile);
// Written atomically once the daemon is ready (waiters poll for it).
void write_pidfile(const std::string& path);

}  // namespace vnet::cli
