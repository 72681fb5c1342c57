#include "console/console.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "base/file.hh"
#include "base/log.hh"
#include "base/parse.hh"

namespace vnet::console {

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
          if (s.json) {  // only the form asked for: help is what a flooding client sends
            r.json.push_back({{"command", name}, {"syntax", c.syntax}, {"help", c.help}});
          } else {
            r.text += fmt::format("{:<20} {:<24} {}\n", name, c.syntax, c.help);
          }
        }
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
  if (loading_.empty()) files_loaded_ = 0;
  if (loading_.size() >= static_cast<size_t>(kMaxIncludeDepth)) {
    return make_error(ELOOP, "{}: loads nested deeper than {} files", path, kMaxIncludeDepth);
  }
  if (files_loaded_ >= kMaxIncludedFiles) {
    return make_error(E2BIG, "{}: more than {} files loaded in all", path, kMaxIncludedFiles);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    for (auto& l : loading_) {
      if (l.dev == st.st_dev && l.ino == st.st_ino) {
        return make_error(ELOOP, "{} loads itself{}", path,
                          l.path == path ? std::string() : " (as " + l.path + ")");
      }
    }
  }
  auto text = read_regular_file(path);
  if (!text) return text.error();
  ++files_loaded_;
  loading_.push_back({path, st.st_dev, st.st_ino});
  struct Pop {
    std::vector<Loading>& v;
    ~Pop() { v.pop_back(); }
  } pop{loading_};
  bool json = session.json;
  std::string_view rest = *text;
  for (int n = 1; !rest.empty(); ++n) {
    size_t nl = rest.find('\n');
    std::string line(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.size() > kMaxLineBytes) {
      return make_error(EMSGSIZE, "{}:{}: line longer than {} bytes", path, n, kMaxLineBytes);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (session.closed) return make_error(ECONNRESET, "{}:{}: the console session closed", path, n);
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

Server::Server(EventLoop& loop, Registry& registry, std::string path, std::string banner,
               std::string prompt)
    : loop_(loop),
      registry_(registry),
      path_(std::move(path)),
      banner_(std::move(banner)),
      prompt_(std::move(prompt)) {}

Server::~Server() {
  for (auto& [fd, c] : conns_) {
    loop_.unwatch(fd);
    if (c->session.stream) c->session.stream->ready = nullptr;
  }
  if (acceptor_) {
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
}

Result<std::unique_ptr<Server>> Server::open(EventLoop& loop, Registry& registry,
                                             const std::string& path, int mode, std::string banner,
                                             std::string prompt) {
  std::unique_ptr<Server> s(new Server(loop, registry, path, std::move(banner), std::move(prompt)));
  auto fd = io::listen_unix(path, mode);
  if (!fd) return fd.error();
  auto* raw = s.get();
  auto a = io::Acceptor::open(loop, std::move(*fd), "console " + path,
                              [raw](UniqueFd c) { raw->on_connection(std::move(c)); });
  if (!a) {
    ::unlink(path.c_str());
    return a.error();
  }
  s->acceptor_ = std::move(*a);
  return s;
}

void Server::on_connection(UniqueFd fd) {
  if (conns_.size() >= kMaxSessions) {
    std::string no = frame_reply(
        make_error(EMFILE, "too many console sessions ({} at most)", kMaxSessions), false);
    [[maybe_unused]] auto w = ::send(fd.get(), no.data(), no.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    TimePoint now = loop_.clock().now();
    if (now - last_full_log_ >= std::chrono::seconds(1)) {
      log::warn("console {}: refused a connection: {} sessions already open", path_, kMaxSessions);
      last_full_log_ = now;
    }
    return;
  }
  int raw = fd.get();
  auto c = std::make_shared<Conn>();
  c->fd = std::move(fd);
  Conn* cp = c.get();
  c->session.echo = [this, cp](const std::string& line) { queue(*cp, line + "\n"); };
  conns_[raw] = std::move(c);
  if (auto st = loop_.watch(raw, [this, raw] { on_data(raw); }); !st) {
    return close_session(raw, st.error().message, true);
  }
  queue(*cp, banner_ + prompt_);
}

void Server::close_session(int fd, const std::string& why, bool warn) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (warn) {
    log::warn("console {}: closing session (fd {}): {}", path_, fd, why);
  } else {
    log::debug("console {}: closing session (fd {}): {}", path_, fd, why);
  }
  loop_.unwatch(fd);
  it->second->session.closed = true;
  if (auto src = std::move(it->second->session.stream)) {
    src->ready = nullptr;
    src->closed();
  }
  // A command (or `load`) of this session may be running below us: free it afterwards.
  loop_.defer([dead = std::move(it->second)] {});
  conns_.erase(it);
}

bool Server::flush(Conn& c) {
  int fd = c.fd.get();
  while (c.pending() > 0) {
    ssize_t w = ::send(fd, c.out.data() + c.out_pos, c.pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      close_session(fd, fmt::format("send: {}", std::strerror(errno)), false);
      return false;
    }
    c.out_pos += static_cast<size_t>(w);
  }
  if (c.pending() == 0) {
    c.out.clear();
    c.out_pos = 0;
    loop_.drop_writable(fd);
    return true;
  }
  if (c.out_pos > c.out.size() / 2) {  // drop what was sent, so the buffer holds only what waits
    c.out.erase(0, c.out_pos);
    c.out_pos = 0;
  }
  if (!loop_.wants_writable(fd)) {
    if (auto st = loop_.want_writable(fd, [this, fd] { on_writable(fd); }); !st) {
      close_session(fd, st.error().message, true);
      return false;
    }
  }
  return true;
}

void Server::on_writable(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (it->second->session.stream) return pump(fd);
  flush(*it->second);
}

void Server::pump(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  auto keep = it->second;
  Conn& c = *keep;
  StreamSource& src = *c.session.stream;
  while (true) {
    if (c.pending() < kStreamChunk) src.take(c.out, kStreamChunk - c.pending());
    if (c.pending() == 0) break;
    if (!flush(c)) return;        // closed
    if (c.pending() > 0) return;  // the kernel is full: writable interest calls us again
  }
  loop_.drop_writable(fd);
  if (src.done()) close_session(fd, "stream ended", false);
}

bool Server::queue(Conn& c, std::string_view text) {
  if (c.session.closed) return false;
  if (c.pending() > 0 && c.pending() + text.size() > kMaxOutputBytes) {
    close_session(c.fd.get(),
                  fmt::format("the client does not read its answers ({} bytes unread, {} more to "
                              "send, limit {})",
                              c.pending(), text.size(), kMaxOutputBytes),
                  true);
    return false;
  }
  c.out.append(text);
  return flush(c);
}

void Server::on_data(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  auto keep = it->second;  // alive until we return, even if the session closes meanwhile
  Conn& c = *keep;
  char buf[16384];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (c.session.stream) {  // a stream reads no commands; the peer's end of sending ends it
    if (n < 0) return close_session(fd, std::strerror(errno), false);
    if (n == 0) {
      (void)loop_.watch(fd, nullptr);
      c.session.stream->end();
      pump(fd);
    }
    return;
  }
  if (n <= 0) return close_session(fd, n == 0 ? "end of file" : std::strerror(errno), false);
  c.in.append(buf, static_cast<size_t>(n));
  auto too_long = [&] {
    queue(c, frame_reply(make_error(EMSGSIZE,
                                    "console line longer than {} bytes (64 KiB); closing the "
                                    "session",
                                    kMaxLineBytes),
                         false));
    close_session(fd, fmt::format("a line longer than {} bytes", kMaxLineBytes), true);
  };
  size_t start = 0, nl;
  while ((nl = c.in.find('\n', start)) != std::string::npos) {
    if (nl - start > kMaxLineBytes) return too_long();
    std::string line = c.in.substr(start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto words = split_words(line);
    if (!words.empty() && words[0] == "logout") {
      queue(c, "9999 END OF SESSION\n");
      return close_session(fd, "logout", false);
    }
    if (words.empty() || words[0][0] == '#') {
      if (!queue(c, prompt_)) return;
      continue;
    }
    c.session.can_stream = true;
    auto r = registry_.run(c.session, line);
    c.session.can_stream = false;
    if (c.session.stream) {
      if (!r) {
        c.session.stream.reset();
      } else {
        c.in.clear();  // nothing after the command is read as commands
        if (!queue(c, frame_reply(r, c.session.json))) return;
        c.session.stream->ready = [this, fd] {
          if (!loop_.wants_writable(fd)) {
            (void)loop_.want_writable(fd, [this, fd] { on_writable(fd); });
          }
        };
        return pump(fd);
      }
    }
    if (!queue(c, frame_reply(r, c.session.json) + prompt_)) return;
  }
  c.in.erase(0, start);
  if (c.in.size() > kMaxLineBytes) too_long();
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
  while (true) {
    // vde_switch's or wirefilter's prompt, whichever comes first.
    size_t pos = std::string::npos, len = 0;
    for (std::string_view prompt :
         {std::string_view(kPrompt), std::string_view(kWirefilterPrompt)}) {
      auto at = buf_.find(prompt);
      if (at < pos) {
        pos = at;
        len = prompt.size();
      }
    }
    if (pos != std::string::npos) {
      std::string out = buf_.substr(0, pos);
      buf_.erase(0, pos + len);
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
  auto code = parse_int(status.substr(1, 3), 1, 999);
  return make_error(code ? static_cast<int>(*code) : EIO, "{}",
                    status.size() > 5 ? status.substr(5) : status);
}

}  // namespace vnet::console
