#pragma once
// Listeners accept clients and turn each one into a Backend for a bridge port:
//  - VdeServer: the libvdeplug protocol (vde-2 src/vde_switch/datasock.c `new_port_v1_v3`,
//    vdeplug4 libvdeplug4/libvdeplug_vde.c `vde_vde_open`): a directory with a `ctl` SOCK_STREAM
//    socket; each client sends a struct request_v3 (magic 0xfeedface, version 3, type =
//    REQ_NEW_CONTROL | port << 8, the sockaddr_un of its bound SOCK_DGRAM socket, a description);
//    we connect a datagram socket to it, bind ours in the directory and write back exactly one
//    struct sockaddr_un. One frame per datagram from then on; EOF on ctl = unplug.
//  - QemuStreamListener: QEMU -netdev stream (server=off): a unix socket; every accepted
//    connection carries frames as a 4-byte big-endian length + frame (reassembled across reads;
//    a length above 69,632 bytes closes the connection, as QEMU does).
// Listeners register their own descriptors with the EventLoop; they are control path, not datapath.
//
// What a client can make a listener do is bounded (the switch usually runs as root):
//  - Accepting never spins: see Acceptor.
//  - A VDE handshake must arrive within kVdeHandshakeTimeout of the connection; at most
//    kVdeMaxPendingHandshakes connections may be waiting for theirs (more are refused at once).
//  - A VDE client must own the data socket it names. The switch takes the client's credentials
//    from the ctl socket (SO_PEERCRED, SO_PEERGROUPS) and refuses, logging the reason and
//    counting it in refused(), a name that
//      - is abstract or empty, or cannot be opened (O_PATH, relative to its directory),
//      - is a symbolic link (O_NOFOLLOW: the last component is not followed),
//      - is not a socket, or is owned by another user than the client's uid,
//      - lies in a directory the client cannot write (owner/group/other bits against the client's
//        uid, gid and supplementary groups: the client could not have created it there).
//    A client with uid 0 may name any socket. The switch then connects through
//    /proc/self/fd/N of the descriptor it checked, so the socket cannot be swapped between the
//    check and the connect. vde_switch only calls access(2) as itself (root: always true) and
//    connects to whatever the path names.
//  - The data socket the switch binds in the directory is chowned to the client's uid, mode 0600,
//    as vde_switch does (datasock.c `new_port_v1_v3`), so the client (and nobody else) connects.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "io/backend.hh"

namespace vnet::io {

// Accepts connections on a non-blocking listening socket without ever spinning.
//
// The EventLoop is level-triggered: when accept() fails because the process (EMFILE) or the
// system (ENFILE) has no descriptor left or the kernel no memory (ENOBUFS, ENOMEM), the connection
// stays in the backlog and the socket stays readable, so retrying at once would burn a core. The
// Acceptor then stops watching the socket for kBackoff (a one-shot timer on the loop's clock),
// logs at most once per kLogInterval (with the count of failures it did not log), and resumes.
// It accepts at most kBurst connections per wakeup, so a connection flood cannot hold the loop.
class Acceptor {
 public:
  using OnConnection = std::function<void(UniqueFd)>;  // a non-blocking, close-on-exec socket
  static constexpr Duration kBackoff = std::chrono::milliseconds(100);
  static constexpr Duration kLogInterval = std::chrono::seconds(1);
  static constexpr int kBurst = 16;
  struct Stats {
    uint64_t accepted = 0;  // connections handed to on_connection
    uint64_t failed = 0;    // accept() calls that failed with something other than EAGAIN
    uint64_t backoffs = 0;  // times the socket was set aside for kBackoff
  };

  // `what` names the socket in log lines ("console /run/sw.mgmt").
  static Result<std::unique_ptr<Acceptor>> open(EventLoop& loop, UniqueFd listen, std::string what,
                                                OnConnection on_connection);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  const Stats& stats() const { return stats_; }
  bool paused() const { return resume_timer_ != 0; }

 private:
  Acceptor(EventLoop& loop, UniqueFd listen, std::string what, OnConnection on_connection);
  void on_readable();
  void back_off(int err);
  EventLoop& loop_;
  UniqueFd listen_;
  std::string what_;
  OnConnection on_connection_;
  Stats stats_;
  EventLoop::TimerId resume_timer_ = 0;
  TimePoint last_log_{};
  bool logged_ = false;
  uint64_t unlogged_ = 0;
};

// Gives a new client's backend a port: `requested` = 0 for any free port. Returns the port number,
// or an error, in which case the client is refused.
using AttachFn = std::function<Result<uint32_t>(uint32_t requested, std::unique_ptr<Backend>)>;

constexpr Duration kVdeHandshakeTimeout = std::chrono::seconds(5);
constexpr size_t kVdeMaxPendingHandshakes = 16;

class VdeServer {
 public:
  static Result<std::unique_ptr<VdeServer>> open(EventLoop& loop, const std::string& dir,
                                                 AttachFn attach);
  ~VdeServer();
  const std::string& dir() const { return dir_; }
  // Clients refused (bad request, a data socket they do not own, handshake timeout, too many
  // pending handshakes, no free port); each refusal is logged with its reason.
  uint64_t refused() const { return refused_; }
  size_t pending() const { return pending_.size(); }
  const Acceptor& acceptor() const { return *acceptor_; }

 private:
  struct Pending {
    UniqueFd ctl;
    EventLoop::TimerId timeout = 0;
  };
  VdeServer(EventLoop& loop, std::string dir, AttachFn attach);
  void on_connection(UniqueFd ctl);
  void on_request(int fd);
  void refuse(const std::string& why);
  EventLoop& loop_;
  std::string dir_;
  AttachFn attach_;
  std::unique_ptr<Acceptor> acceptor_;
  std::map<int, Pending> pending_;
  uint64_t refused_ = 0;
};

class QemuStreamListener {
 public:
  static Result<std::unique_ptr<QemuStreamListener>> open(EventLoop& loop, const std::string& path,
                                                          uint32_t port, AttachFn attach);
  ~QemuStreamListener();

 private:
  QemuStreamListener(std::string path, uint32_t port, AttachFn attach);
  std::string path_;
  uint32_t port_;
  AttachFn attach_;
  std::unique_ptr<Acceptor> acceptor_;
};

// A connected QEMU stream socket as a backend (also usable with a socketpair end).
std::unique_ptr<Backend> make_qemu_stream_backend(UniqueFd fd, std::string name);

// Creates, binds and listens on a non-blocking unix SOCK_STREAM socket at path (a stale socket
// file is removed).
Result<UniqueFd> listen_unix(const std::string& path, int mode);

}  // namespace vnet::io
