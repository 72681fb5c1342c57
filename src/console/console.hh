#pragma once
// The management console: VDE's line protocol on a unix stream socket
// (../shared/reference/clients.md §3, from vde-2 consmgmt.c), so vdeterm, unixcmd and rc files
// written for vde_switch keep working, with JSON answers on top for tools and tests.
//
// Protocol, per command line:
//   [0000 DATA END WITH '.'\n <lines> \n.\n]   only when the command prints something
//   1000 Success\n   |   1nnn <message>\n      nnn = errno (e.g. 1022 = EINVAL, 1038 = ENOSYS)
//   \nvde$                                       the prompt, again
// `logout` answers "9999 END OF SESSION" and closes. Blank lines and #comments are ignored.
// A trailing `--json` word on any command makes its DATA block one JSON document.
//
// Commands are `module/verb`, registered by each module (explicit calls from main, no static
// registration). The registry is also used without a socket: `load FILE` and `-f rcfile`.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::console {

struct Reply {
  std::string text;     // human lines (may be empty)
  nlohmann::json json;  // the same answer for tools (null = nothing to print)
};

struct Session {
  bool json = false;                             // this command asked for --json
  std::map<std::string, std::string> vars;       // per-connection state (e.g. selected bridge)
  std::function<void(const std::string&)> echo;  // where `load` echoes the commands it runs
};

using Handler = std::function<Result<Reply>(Session&, const std::vector<std::string>& args)>;

class Registry {
 public:
  Registry();
  void add(std::string path, std::string syntax, std::string help, Handler handler);
  // Runs one command line. Unknown command → ENOSYS ("Function not implemented").
  Result<Reply> run(Session& session, const std::string& line);
  // Runs every line of a file (rc file / `load`), stopping at the first error, which names
  // file:line.
  Status run_file(Session& session, const std::string& path);
  void on_shutdown(std::function<void()> cb) { shutdown_ = std::move(cb); }

 private:
  struct Command {
    std::string syntax, help;
    Handler handler;
  };
  std::map<std::string, Command> commands_;
  std::vector<std::string> order_;
  std::function<void()> shutdown_;
};

// Formats one answer in the VDE framing (without the prompt).
std::string frame_reply(const Result<Reply>& r, bool json);
std::vector<std::string> split_words(const std::string& line);

class Server {
 public:
  static Result<std::unique_ptr<Server>> open(EventLoop& loop, Registry& registry,
                                              const std::string& path, int mode,
                                              std::string banner);
  ~Server();

 private:
  Server(EventLoop& loop, Registry& registry, std::string path, std::string banner);
  void on_accept();
  void on_data(int fd);
  void close_session(int fd);
  struct Conn {
    UniqueFd fd;
    std::string in;
    Session session;
  };
  EventLoop& loop_;
  Registry& registry_;
  std::string path_, banner_;
  UniqueFd listen_;
  std::map<int, std::unique_ptr<Conn>> conns_;
};

// Client side, for `vnet ctl` and the lab orchestrator: connects, eats the banner, runs commands.
class Client {
 public:
  static Result<Client> connect(const std::string& path);
  // Sends one command; returns the DATA block (without framing). Errors carry the console's
  // code and message.
  Result<std::string> run(const std::string& command);

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  Result<std::string> read_until_prompt();
  UniqueFd fd_;
  std::string buf_;
};

}  // namespace vnet::console
