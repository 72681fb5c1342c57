#include "cli/process.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace vnet::cli {

void daemonize(bool keep_stderr_for_log) {
  pid_t pid = fork();
  if (pid < 0) std::exit(1);
  if (pid > 0) _exit(0);
  setsid();
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  if (!keep_stderr_for_log) dup2(null, 2);
}

void redirect_log(const std::string& logfile) {
  if (logfile.empty()) return;
  int fd = open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dup2(fd, 2);
    close(fd);
  }
}

void write_pidfile(const std::string& path) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << getpid() << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace vnet::cli
