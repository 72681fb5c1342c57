#include "lab/vm_console.hh"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>

#include "base/fd.hh"
#include "lab/qga.hh"
#include "lab/qmp.hh"

namespace vnet::lab {
namespace {

using SteadyClock = std::chrono::steady_clock;

Result<UniqueFd> connect_console(const std::string& path) {
  auto fd = connect_unix(path);
  if (!fd) return make_error(fd.error().code, "serial console: {}", fd.error().message);
  return fd;
}

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string crlf_to_lf(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\r') out += c;
  }
  return out;
}

}  // namespace

Status console_shows(const std::string& path, size_t from, const std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(EAGAIN, "the serial console has printed nothing yet ({})", path);
  in.seekg(static_cast<std::streamoff>(from));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.find(text) != std::string::npos) return {};
  s = crlf_to_lf(std::move(s));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  auto nl = s.rfind('\n');
  std::string last = nl == std::string::npos ? s : s.substr(nl + 1);
  if (last.size() > 120) last = last.substr(last.size() - 120);
  return make_error(EAGAIN, "the serial console ({}) has not shown '{}'; its last line: '{}'", path,
                    text, last);
}

namespace {

// Reads from the console until `done(text so far)` or `quiet` passes without a byte, at most
// until `deadline`. Returns what it read (CR removed).
std::string read_until(int fd, const std::function<bool(const std::string&)>& done,
                       std::chrono::milliseconds quiet, SteadyClock::time_point deadline) {
  std::string buf;
  while (!done(buf)) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min(left, quiet).count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf += crlf_to_lf(std::string(chunk, static_cast<size_t>(n)));
  }
  return buf;
}

// Whether the console's text ends with `word`, after blanks and terminal control sequences (a
// shell's line editor asks for the cursor position, ESC [ 6 n, right after its prompt).
bool ends_with_word(std::string s, std::string_view word) {
  static const std::regex csi("\x1b\\[[0-9;?]*[@-~]");
  s = std::regex_replace(s, csi, "");
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s.size() >= word.size() && s.compare(s.size() - word.size(), word.size(), word) == 0;
}

// A console that shows a login prompt gets the credentials from SOCKET.login ("USER\nPASS\n",
// written at boot from the VM's login/password keys); a shell prompt is left as it is.
Status console_login(int fd, const std::string& socket, SteadyClock::time_point deadline) {
  using std::chrono::milliseconds;
  auto prompt = [](const std::string& b) {
    return ends_with_word(b, "login:") || ends_with_word(b, "#") || ends_with_word(b, "$");
  };
  if (!send_all(fd, "\n")) return system_error("serial console send");
  std::string seen = read_until(fd, prompt, milliseconds(300), deadline);
  if (!ends_with_word(seen, "login:")) return {};
  std::ifstream in(socket + ".login");
  std::string user, password;
  if (!std::getline(in, user) || user.empty())
    return make_error(EACCES,
                      "the serial console {} asks for a login: give the vm `login` and `password`",
                      socket);
  std::getline(in, password);
  if (!send_all(fd, user + "\n")) return system_error("serial console send");
  seen = read_until(
      fd, [](const std::string& b) { return ends_with_word(b, "assword:"); }, milliseconds(2000),
      deadline);
  if (ends_with_word(seen, "assword:") && !send_all(fd, password + "\n"))
    return system_error("serial console send");
  seen = read_until(
      fd,
      [&](const std::string& b) { return prompt(b) || b.find("incorrect") != std::string::npos; },
      milliseconds(5000), deadline);
  if (seen.find("incorrect") != std::string::npos || ends_with_word(seen, "login:"))
    return make_error(EACCES, "serial console {}: login as {} failed: '{}'", socket, user,
                      seen.substr(seen.find_first_not_of('\n') == std::string::npos
                                      ? 0
                                      : seen.find_first_not_of('\n')));
  if (!prompt(seen))
    return make_error(ETIMEDOUT, "serial console {}: no shell prompt after logging in as {}",
                      socket, user);
  return {};
}

}  // namespace

Result<CapturedRun> console_exec(const std::string& socket, const std::string& command,
                                 Duration timeout, size_t limit) {
  static std::atomic<unsigned> counter{0};
  auto fd = connect_console(socket);
  if (!fd) return fd.error();
  if (auto s = console_login(fd->get(), socket, SteadyClock::now() + timeout); !s) return s.error();
  std::string id = fmt::format("__VNET_{}_{}", ::getpid(), counter++);
  std::string begin = id + "_B", end = id + "_E ";
  if (!send_all(fd->get(),
                fmt::format("echo {}_\"\"B; ( {}\n); echo {}_\"\"E $?\n", id, command, id)))
    return system_error("serial console send");
  auto deadline = SteadyClock::now() + timeout;
  std::string buf;
  CapturedRun run;
  static const std::regex status_re("^([0-9]+)\r?\n");
  while (true) {
    // The output lies between the line that is just the B marker and the E marker.
    auto b = buf.find(begin + "\r\n");
    if (b == std::string::npos) b = buf.find(begin + "\n");
    if (b != std::string::npos) {
      size_t body = buf.find('\n', b) + 1;
      auto e = buf.find(end, body);
      std::smatch m;
      std::string tail = e == std::string::npos ? "" : buf.substr(e + end.size());
      if (e != std::string::npos && std::regex_search(tail, m, status_re)) {
        std::string out = crlf_to_lf(buf.substr(body, e - body));
        if (out.size() > limit) {
          run.out_dropped = out.size() - limit;
          out.resize(limit);
        }
        run.out = std::move(out);
        run.status = std::stoi(m[1].str());
        return run;
      }
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      (void)send_all(fd->get(), "\x03");
      run.timed_out = true;
      run.status = 128 + SIGKILL;
      run.out = crlf_to_lf(buf);
      return run;
    }
    pollfd p{fd->get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return system_error("serial console poll");
    if (r == 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error(EPIPE, "serial console {} closed while running '{}'", socket, command);
    buf.append(chunk, static_cast<size_t>(n));
    if (buf.size() > limit + 65536) {
      // Keep the start (the B marker and the output's head) and the end (the E marker).
      run.out_dropped += buf.size() - (limit + 65536);
      buf.erase(limit + 32768, buf.size() - (limit + 65536));
    }
  }
}

namespace {

// Whether the guest has the agent's port open: QEMU's `qga` chardev reports frontend-open while
// a process in the guest (qemu-ga) holds the virtio-serial port.
bool agent_port_open(const std::string& qmp) {
  auto r = qmp_command(qmp, "query-chardev", std::chrono::milliseconds(1000));
  if (!r || !r->is_array()) return false;
  for (const auto& c : *r) {
    if (c.value("label", std::string()) == "qga") return c.value("frontend-open", false);
  }
  return false;
}

}  // namespace

Result<CapturedRun> vm_exec(const std::string& files, const std::string& command, Duration timeout,
                            size_t limit) {
  if (agent_port_open(files + ".qmp")) {
    auto agent = GuestAgent::connect(files + ".qga", kAgentSync);
    if (agent) {
      auto r = agent->exec(command, timeout, limit);
      if (r) r->via = "guest agent";
      return r;
    }
  }
  auto r = console_exec(files + ".console", command, timeout, limit);
  if (r) r->via = "serial console";
  return r;
}

Status console_attach(const std::string& socket) {
  auto fd = connect_console(socket);
  if (!fd) return fd.error();
  termios saved{};
  bool tty = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios raw = saved;
    ::cfmakeraw(&raw);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  std::string hello = "[connected to " + socket + "; Ctrl-] detaches]\r\n";
  (void)!::write(STDOUT_FILENO, hello.data(), hello.size());
  Status result;
  while (true) {
    pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {fd->get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      result = system_error("poll");
      break;
    }
    char buf[4096];
    if (p[1].revents) {
      ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
      if (n <= 0) {
        result = make_error(EPIPE, "the console closed (the VM powered off?)");
        break;
      }
      (void)!::write(STDOUT_FILENO, buf, static_cast<size_t>(n));
    }
    if (p[0].revents) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) break;
      auto* esc = static_cast<char*>(std::memchr(buf, 0x1d, static_cast<size_t>(n)));
      size_t len = esc ? static_cast<size_t>(esc - buf) : static_cast<size_t>(n);
      if (len > 0 && !send_all(fd->get(), std::string_view(buf, len))) {
        result = make_error(EPIPE, "the console closed");
        break;
      }
      if (esc) break;
    }
  }
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  (void)!::write(STDOUT_FILENO, "\r\n[detached]\r\n", 14);
  return result;
}

}  // namespace vnet::lab
