#pragma once
// The management console: VDE's line protocol on a unix stream socket (vde-2
// src/vde_switch/consmgmt.c), so vdeterm, unixcmd and rc files written for vde_switch keep
// working, with JSON answers on top for tools and tests.
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
//
// Limits (a console client may be hostile; the switch usually runs as root and its console
// shares the dataplane thread, so nothing a client sends may block it or grow its memory):
//  - A line is at most kMaxLineBytes. A longer one (with or without its newline) is answered
//    "1090 console line longer than 65536 bytes (64 KiB); closing the session" (EMSGSIZE) and
//    the session is closed; at most that much unterminated input is ever buffered.
//  - Answers are written without blocking. What the kernel does not take waits in a per-session
//    buffer flushed on writable interest; an answer that would grow that buffer past
//    kMaxOutputBytes (a client that sends commands but does not read) closes the session, with
//    a log line. One answer larger than the bound still goes out whole to a client that reads.
//    The banner, the prompt, `load` echoes and answers all take that path; a `load` whose
//    echoes overflow the buffer closes the session and stops at the next line.
//  - At most kMaxSessions sessions at once; more connections get "1024 too many console
//    sessions" (EMFILE) and are closed.
//  - Accepting backs off when descriptors run out (io::Acceptor).
//  - `load` and rc files: files are read with read_regular_file (regular files up to 4 MiB, so
//    `load /dev/zero` is refused), lines are limited as above, loads nest at most
//    kMaxIncludeDepth deep and one top-level file pulls in at most kMaxIncludedFiles, and a file
//    that is already being loaded (the same inode, by any name) is refused: "a.rc:3: b.rc:1:
//    a.rc loads itself" (ELOOP). Errors name the chain of file:line from the outermost file.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "base/result.hh"
#include "io/listener.hh"

namespace vnet::console {

constexpr size_t kMaxLineBytes = 64u << 10;
// The prompts after each answer: vde_switch's (vde-2 src/vde_switch/consmgmt.c) and VDE
// wirefilter's (vde-2 src/wirefilter.c). The Client accepts both.
inline constexpr const char* kPrompt = "\nvde$ ";
inline constexpr const char* kWirefilterPrompt = "\nVDEwf$ ";
constexpr size_t kMaxOutputBytes = 1u << 20;
constexpr size_t kMaxSessions = 64;
constexpr size_t kStreamChunk = 256u << 10;

struct Reply {
  std::string text;     // human lines (may be empty)
  nlohmann::json json;  // the same answer for tools (null = nothing to print)
};

// A byte stream a command hands its connection over to (capture/start). After the command's
// answer ("1000 Success\n", without a prompt) the connection carries only what the source
// produces, at most kStreamChunk bytes queued at a time (the source keeps the rest, bounded on its
// side), and reads no more commands. The peer shutting down its sending side asks the source to
// end (end()): what it still produces is sent, then the connection closes. The connection going
// away otherwise (reset, send error, shutdown of the server) tells the source closed().
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // Moves up to `max` bytes to the end of `out`; returns how many.
  virtual size_t take(std::string& out, size_t max) = 0;
  // True once no more output will come (after what take() still has).
  virtual bool done() const = 0;
  virtual void end() = 0;
  virtual void closed() = 0;
  // Set by the server: the source calls it when it has output (never does I/O itself).
  std::function<void()> ready;
};

struct Session {
  bool json = false;                             // this command asked for --json
  std::map<std::string, std::string> vars;       // per-connection state (e.g. selected bridge)
  std::function<void(const std::string&)> echo;  // where `load` echoes the commands it runs
  bool closed = false;  // the console connection is gone: a running `load` stops
  // Set by a command that turns the connection into a stream (see StreamSource); only on a
  // console connection (can_stream), not in `load` or rc files.
  std::shared_ptr<StreamSource> stream;
  bool can_stream = false;
};

using Handler = std::function<Result<Reply>(Session&, const std::vector<std::string>& args)>;

class Registry {
 public:
  Registry();
  void add(std::string path, std::string syntax, std::string help, Handler handler);
  // Runs one command line. Unknown command → ENOSYS ("Function not implemented").
  Result<Reply> run(Session& session, const std::string& line);
  // Runs every line of a file (rc file / `load`), stopping at the first error, which names
  // file:line (for nested loads, the chain from the outermost file: "a.rc:3: b.rc:5: ...").
  Status run_file(Session& session, const std::string& path);
  void on_shutdown(std::function<void()> cb) { shutdown_ = std::move(cb); }

 private:
  struct Command {
    std::string syntax, help;
    Handler handler;
  };
  struct Loading {  // a file being run, for nesting limits and self-load detection
    std::string path;
    dev_t dev;
    ino_t ino;
  };
  std::map<std::string, Command> commands_;
  std::vector<std::string> order_;
  std::function<void()> shutdown_;
  std::vector<Loading> loading_;  // outermost first
  size_t files_loaded_ = 0;       // by the current top-level run_file
};

// Formats one answer in the VDE framing (without the prompt).
std::string frame_reply(const Result<Reply>& r, bool json);
std::vector<std::string> split_words(const std::string& line);

class Server {
 public:
  // `prompt`: vde_switch's kPrompt, or another (wirefilter's kWirefilterPrompt).
  static Result<std::unique_ptr<Server>> open(EventLoop& loop, Registry& registry,
                                              const std::string& path, int mode, std::string banner,
                                              std::string prompt = kPrompt);
  ~Server();
  size_t sessions() const { return conns_.size(); }
  const io::Acceptor& acceptor() const { return *acceptor_; }

 private:
  struct Conn {
    UniqueFd fd;
    std::string in;
    std::string out;     // answers the kernel has not taken yet, from out_pos
    size_t out_pos = 0;  // bytes of `out` already sent
    Session session;
    size_t pending() const { return out.size() - out_pos; }
  };
  Server(EventLoop& loop, Registry& registry, std::string path, std::string banner,
         std::string prompt);
  void on_connection(UniqueFd fd);
  void on_data(int fd);
  // Appends to the session's output and sends what the kernel takes; false when this closed the
  // session (its buffer would pass kMaxOutputBytes, or the peer is gone).
  bool queue(Conn& c, std::string_view text);
  bool flush(Conn& c);
  void on_writable(int fd);
  void pump(int fd);  // a streaming session: take from its source, send, close when it is done
  void close_session(int fd, const std::string& why, bool warn);
  EventLoop& loop_;
  Registry& registry_;
  std::string path_, banner_, prompt_;
  std::unique_ptr<io::Acceptor> acceptor_;
  std::map<int, std::shared_ptr<Conn>> conns_;
  TimePoint last_full_log_{};
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
