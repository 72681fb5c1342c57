// vnet capture TARGET PORT[,PORT…] [options] [BPF filter…] — records a running switch's ports as
// pcapng (docs/capture.md).
//
// TARGET is a switch's console socket, or the name of a running lab (its dataplane's console;
// ports then read SWITCH:PORT). The switch never opens a file: `capture/start` turns this
// console connection into the pcapng stream, and this command writes it, block by block as it
// arrives, to -w FILE or to standard output (-w -). It ends on SIGINT/SIGTERM, after -c COUNT
// packets or --duration: it shuts down its sending side, the switch finishes the capture (one
// Interface Statistics Block per port, with what it could not keep) and closes; those blocks
// are written too, then a summary goes to standard error.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "base/fd.hh"
#include "base/parse.hh"
#include "capture/pcapng.hh"
#include "cli/commands.hh"
#include "console/console.hh"
#ifdef VNET_HAVE_LAB
#include "lab/orchestrator.hh"
#include "lab/state.hh"
#include "lab/topology.hh"
#endif

namespace vnet::cli {
namespace {

int g_stop_pipe = -1;
void on_signal(int) {
  char c = 1;
  [[maybe_unused]] auto n = ::write(g_stop_pipe, &c, 1);
}

[[noreturn]] void die(int code, const std::string& message) {
  std::cerr << "vnet capture: " << message << "\n";
  std::exit(code);
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

uint32_t le32(const std::string& s, size_t at) {
  auto b = reinterpret_cast<const uint8_t*>(s.data() + at);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

struct Opts {
  std::string target, ports, out = "-", point = "post", direction = "both";
  std::vector<std::string> filter;
  long long count = 0;
  std::string duration;
  uint32_t snaplen = 0;
  bool pre = false, post = false;
};

#ifdef VNET_HAVE_LAB
// A lab's ports: SWITCH:PORT as it is (the switch's bridge has its name); NODE:IF becomes the
// switch port the lab's topology file (as recorded by `up`) plugs that interface into.
std::string lab_ports(const std::string& lab, const std::string& ports) {
  auto st = lab::State::load(lab);
  if (!st) die(2, lab + ": " + st.error().message);
  std::string file = st->j().value("file", "");
  auto topo = lab::load_topology(file);
  if (!topo) die(2, lab + ": " + file + ": " + topo.error().message);
  std::string out;
  size_t from = 0;
  while (from <= ports.size()) {
    size_t comma = ports.find(',', from);
    if (comma == std::string::npos) comma = ports.size();
    std::string one = ports.substr(from, comma - from);
    size_t colon = one.find(':');
    if (colon != std::string::npos) {
      std::string node = one.substr(0, colon), iface = one.substr(colon + 1);
      for (const lab::Link& l : topo->links) {
        if (!l.switch_to_switch && l.a.node == node && l.a.interface == iface) {
          one = l.b.node + ":" + std::to_string(l.port_b);
          break;
        }
      }
    }
    out += (out.empty() ? "" : ",") + one;
    from = comma + 1;
  }
  return out;
}
#endif

// The console socket, and the ports as the switch names them.
std::pair<std::string, std::string> resolve(const std::string& target, const std::string& ports) {
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return {target, ports};
#ifdef VNET_HAVE_LAB
  if (lab::lab_is_up(target)) return {lab::lab_console(target), lab_ports(target, ports)};
  die(2, target + ": neither a console socket nor a running lab");
#else
  die(2, target + ": not a console socket");
#endif
}

int run(const Opts& o) {
  auto [sock, ports] = resolve(o.target, o.ports);
  std::optional<Duration> duration;
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration, std::chrono::milliseconds(1), std::chrono::hours(24 * 365));
    if (!d) die(2, "--duration: " + d.error().message);
    duration = *d;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (sock.size() >= sizeof sa.sun_path) die(2, "socket path too long: " + sock);
  std::strcpy(sa.sun_path, sock.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    die(2, "connect to " + sock + ": " + std::strerror(errno));
  }
  std::string cmd = "capture/start " + ports + " " + (o.pre ? "pre" : "post") + " " + o.direction;
  if (o.snaplen) cmd += " snaplen " + std::to_string(o.snaplen);
  if (!o.filter.empty()) {
    cmd += " filter";
    for (auto& w : o.filter) cmd += " " + w;
  }
  cmd += "\n";
  if (!write_all(fd.get(), cmd.data(), cmd.size())) die(2, "console send failed");

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) die(2, "pipe failed");
  g_stop_pipe = pipefd[1];
  struct sigaction act {};
  act.sa_handler = on_signal;
  ::sigaction(SIGINT, &act, nullptr);
  ::sigaction(SIGTERM, &act, nullptr);

  // The banner ends with the prompt; then the answer: "1000 Success\n" and the stream, or an
  // error line and the prompt again.
  std::string buf;
  bool started = false, ended = false;
  int out = 1;
  UniqueFd file;
  long long packets = 0;
  uint64_t ifdrop = 0;
  bool statistics = false;
  auto deadline =
      duration ? std::optional(std::chrono::steady_clock::now() + *duration) : std::nullopt;
  auto request_end = [&] {
    if (!ended) ::shutdown(fd.get(), SHUT_WR);
    ended = true;
  };
  while (true) {
    int timeout = -1;
    if (deadline && !ended) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      timeout = static_cast<int>(std::max<long long>(0, left.count()));
    }
    pollfd p[2] = {{fd.get(), POLLIN, 0}, {pipefd[0], POLLIN, 0}};
    int r = ::poll(p, 2, timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 && started) request_end();
    if (p[1].revents & POLLIN) {
      char c[16];
      [[maybe_unused]] auto n = ::read(pipefd[0], c, sizeof c);
      if (!started) die(1, "interrupted before the capture started");
      request_end();
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char tmp[65536];
    ssize_t n = ::recv(fd.get(), tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
    if (!started) {
      // After the banner's prompt: the answer's status line.
      const std::string prompt = console::kPrompt;
      size_t at = buf.find(prompt);
      if (at == std::string::npos) continue;
      size_t eol = buf.find('\n', at + prompt.size());
      if (eol == std::string::npos) continue;
      std::string status = buf.substr(at + prompt.size(), eol - at - prompt.size());
      if (status != "1000 Success") {
        die(1, status.size() > 5 && status[0] == '1' ? status.substr(5) : status);
      }
      buf.erase(0, eol + 1);
      started = true;
      if (o.out != "-") {
        file = UniqueFd(::open(o.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (file.get() < 0) die(2, o.out + ": " + std::strerror(errno));
        out = file.get();
      }
    }
    // Whole blocks only; past -c COUNT packets, packet blocks are left out.
    size_t pos = 0, keep_from = 0;
    std::string w;
    while (buf.size() - pos >= 12) {
      uint32_t type = le32(buf, pos), len = le32(buf, pos + 4);
      if (len < 12 || len % 4) die(1, "malformed pcapng from the switch");
      if (buf.size() - pos < len) break;
      bool take = true;
      if (type == capture::kEnhancedPacketBlock) {
        take = o.count == 0 || packets < o.count;
        if (take) ++packets;
      } else if (type == capture::kInterfaceStatisticsBlock) {
        auto b = capture::parse_blocks(
            std::span(reinterpret_cast<const uint8_t*>(buf.data() + pos), len));
        if (b && !b->empty() && (*b)[0].ifdrop) ifdrop += *(*b)[0].ifdrop;
        statistics = true;
      }
      if (take) w.append(buf, pos, len);
      pos += len;
      keep_from = pos;
    }
    buf.erase(0, keep_from);
    if (!w.empty() && !write_all(out, w.data(), w.size())) {
      die(1, std::string("write: ") + std::strerror(errno));
    }
    if (o.count && packets >= o.count) request_end();
  }
  if (!started) die(1, "the switch closed the connection before the capture started");
  if (!statistics) {
    die(1, "the stream ended without its statistics (the switch went away?); " +
               std::to_string(packets) + " packets written");
  }
  std::cerr << "vnet capture: " << packets << " packets";
  if (ifdrop) std::cerr << ", " << ifdrop << " the switch could not keep";
  std::cerr << "\n";
  return 0;
}

}  // namespace

void add_capture(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "capture", "record a switch's ports as pcapng: vnet capture SOCKET|LAB PORT[,PORT…] [BPF…]");
  auto o = std::make_shared<Opts>();
  cmd->add_option("target", o->target, "console socket (vnet switch -M) or running lab name")
      ->required();
  cmd->add_option("ports", o->ports, "PORT[,PORT…]; BRIDGE:PORT or, for a lab, SWITCH:PORT")
      ->required();
  cmd->add_option("filter", o->filter, "BPF filter (tcpdump syntax)");
  cmd->add_option("-w", o->out, "pcapng file to write, - for standard output (default)");
  cmd->add_flag("--pre", o->pre, "frames as offered, before the port's impairment");
  cmd->add_flag("--post", o->post, "frames after impairment (default)");
  cmd->add_option("--direction", o->direction, "in, out or both (default)")
      ->check(CLI::IsMember({"in", "out", "both"}));
  cmd->add_option("-c", o->count, "stop after COUNT packets")->check(CLI::PositiveNumber);
  cmd->add_option("--duration", o->duration, "stop after this long (e.g. 10s, 500ms)");
  cmd->add_option("-s,--snaplen", o->snaplen, "bytes kept per frame (64–262144)");
  cmd->final_callback([o] {
    if (o->pre && o->post) die(2, "--pre and --post exclude each other");
    std::exit(run(*o));
  });
}

}  // namespace vnet::cli
