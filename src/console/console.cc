#include "console/console.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.hh"
#include "io/listener.hh"

namespace vnet::console {

static constexpr const char* kPrompt = "\nvde$ ";

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

Registry::Registry() {
  add("help", "[PREFIX]", "list commands",
      [this](Session& s, const std::vector<std::string>& a) -> Result<Reply> {
        Reply r;
        r.text = fmt::format("{:<20} {:<24} {}\n{:<20} {:<24} {}\n", "COMMAND PATH", "SYNTAX",
                             "HELP", "------------", "------", "----");
        r.json = nlohmann::json::array();
        for (auto& name : order_) {
          if (!a.empty() && name.rfind(a[0], 0) != 0) continue;
          auto& c = commands_[name];
          r.text += fmt::format("{:<20} {:<24} {}\n", name, c.syntax, c.help);
          r.json.push_back({{"command", name}, {"syntax", c.syntax}, {"help", c.help}});
        }
        (void)s;
        return r;
      });
  add("load", "PATH", "run the commands of a file",
      [this](Session& s, const std::vector<std::string>& a) -> Result<Reply> {
        if (a.size() != 1) return make_error(EINVAL, "usage: load PATH");
        if (auto st = run_file(s, a[0]); !st) return st.error();
        return Reply{};
      });
  add("shutdown", "", "stop the switch",
      [this](Session&, const std::vector<std::string>&) -> Result<Reply> {
        if (shutdown_) shutdown_();
        return Reply{};
      });
}

void Registry::add(std::string path, std::string syntax, std::string help, Handler handler) {
  if (!commands_.count(path)) order_.push_back(path);
  commands_[path] = Command{std::move(syntax), std::move(help), std::move(handler)};
}

Result<Reply> Registry::run(Session& session, const std::string& line) {
  auto words = split_words(line);
  session.json = false;
  if (words.empty() || words[0][0] == '#') return Reply{};
  if (words.back() == "--json") {
    session.json = true;
    words.pop_back();
  }
  auto it = commands_.find(words[0]);
  if (it == commands_.end()) return make_error(ENOSYS, "Function not implemented: {}", words[0]);
  std::vector<std::string> args(words.begin() + 1, words.end());
  return it->second.handler(session, args);
}

Status Registry::run_file(Session& session, const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ENOENT, "{}: cannot open", path);
  std::string line;
  int n = 0;
  bool json = session.json;
  while (std::getline(in, line)) {
    ++n;
    auto words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (session.echo) session.echo(fmt::format("vde[{}]: {}", path, line));
    auto r = run(session, line);
    if (!r) return make_error(r.error().code, "{}:{}: {}", path, n, r.error().message);
  }
  session.json = json;
  return {};
}

std::string frame_reply(const Result<Reply>& r, bool json) {
  std::string out;
  if (!r) {
    return fmt::format("1{:03} {}\n", r.error().code % 1000, r.error().message);
  }
  std::string body = json ? (r->json.is_null() ? std::string() : r->json.dump(2)) : r->text;
  if (!body.empty()) {
    out += "0000 DATA END WITH '.'\n";
    out += body;
    if (body.back() != '\n') out += '\n';
    out += ".\n";
  }
  out += "1000 Success\n";
  return out;
}

Server::Server(EventLoop& loop, Registry& registry, std::string path, std::string banner)
    : loop_(loop), registry_(registry), path_(std::move(path)), banner_(std::move(banner)) {}

Server::~Server() {
  for (auto& [fd, c] : conns_) loop_.unwatch(fd);
  if (listen_.valid()) {
    loop_.unwatch(listen_.get());
    ::unlink(path_.c_str());
  }
}

Result<std::unique_ptr<Server>> Server::open(EventLoop& loop, Registry& registry,
                                             const std::string& path, int mode,
                                             std::string banner) {
  std::unique_ptr<Server> s(new Server(loop, registry, path, std::move(banner)));
  auto fd = io::listen_unix(path, mode);
  if (!fd) return fd.error();
  s->listen_ = std::move(*fd);
  auto* raw = s.get();
  if (auto st = loop.watch(s->listen_.get(), [raw] { raw->on_accept(); }); !st) return st.error();
  return s;
}

static void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, 1000) <= 0) return;  // a console client that does not read is cut off
        continue;
      }
      return;
    }
    off += static_cast<size_t>(w);
  }
}

void Server::on_accept() {
  while (true) {
    int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->fd = UniqueFd(fd);
    c->session.echo = [fd](const std::string& line) { write_all(fd, line + "\n"); };
    conns_[fd] = std::move(c);
    write_all(fd, banner_ + kPrompt);
    (void)loop_.watch(fd, [this, fd] { on_data(fd); });
  }
}

void Server::close_session(int fd) {
  loop_.unwatch(fd);
  conns_.erase(fd);
}

void Server::on_data(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_session(fd);
  if (n < 0) return;
  c.in.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = c.in.find('\n')) != std::string::npos) {
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto words = split_words(line);
    if (!words.empty() && words[0] == "logout") {
      write_all(fd, "9999 END OF SESSION\n");
      return close_session(fd);
    }
    if (words.empty() || words[0][0] == '#') {
      write_all(fd, kPrompt);
      continue;
    }
    auto r = registry_.run(c.session, line);
    write_all(fd, frame_reply(r, c.session.json) + kPrompt);
    if (conns_.find(fd) == conns_.end()) return;  // the command closed us (shutdown)
  }
}

Result<Client> Client::connect(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error(ENAMETOOLONG, "console path too long: {}", path);
  std::strcpy(sa.sun_path, path.c_str());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    return system_error("connect to console " + path);
  }
  Client c(std::move(fd));
  if (auto r = c.read_until_prompt(); !r) return r.error();
  return c;
}

Result<std::string> Client::read_until_prompt() {
  std::string prompt = kPrompt;
  while (true) {
    auto pos = buf_.find(prompt);
    if (pos != std::string::npos) {
      std::string out = buf_.substr(0, pos);
      buf_.erase(0, pos + prompt.size());
      return out;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, 30000) <= 0) return make_error(ETIMEDOUT, "console did not answer within 30 s");
    char tmp[65536];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n <= 0) {
      if (buf_.find("9999 END OF SESSION") != std::string::npos) return buf_;
      return make_error(ECONNRESET, "console closed the connection");
    }
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

Result<std::string> Client::run(const std::string& command) {
  std::string line = command + "\n";
  if (::send(fd_.get(), line.data(), line.size(), MSG_NOSIGNAL) < 0)
    return system_error("console send");
  auto r = read_until_prompt();
  if (!r) return r;
  // Parse: optional DATA block, then a status line.
  std::string text = *r, data;
  const std::string begin = "0000 DATA END WITH '.'\n";
  size_t pos = 0;
  // Skip echoed `load` lines and anything before the framing.
  auto b = text.find(begin);
  if (b != std::string::npos) {
    auto e = text.find("\n.\n", b);
    if (e == std::string::npos)
      return make_error(EBADMSG, "console answer has an unterminated DATA block");
    data = text.substr(b + begin.size(), e + 1 - b - begin.size());
    pos = e + 3;
  }
  auto status_at = text.find_first_of("19", pos);
  while (status_at != std::string::npos && status_at > 0 && text[status_at - 1] != '\n') {
    status_at = text.find_first_of("19", status_at + 1);
  }
  if (status_at == std::string::npos)
    return make_error(EBADMSG, "console answer has no status line");
  std::string status = text.substr(status_at);
  while (!status.empty() && status.back() == '\n') status.pop_back();
  if (status.rfind("1000", 0) == 0) return data;
  int code = std::atoi(status.substr(1, 3).c_str());
  return make_error(code ? code : EIO, "{}", status.size() > 5 ? status.substr(5) : status);
}

}  // namespace vnet::console
