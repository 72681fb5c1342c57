#pragma once
// Listeners accept clients and turn each one into a Backend for a bridge port:
//  - VdeServer: the libvdeplug protocol (../shared/reference/clients.md §1): a directory with a
//    `ctl` SOCK_STREAM socket; each client sends a struct request_v3 (magic 0xfeedface, version
//    3, type = REQ_NEW_CONTROL | port << 8, the sockaddr_un of its bound SOCK_DGRAM socket,
//    a description); we connect a datagram socket to it, bind ours in the directory and write
//    back exactly one struct sockaddr_un. One frame per datagram from then on; EOF on ctl = unplug.
//  - QemuStreamListener: QEMU -netdev stream (server=off): a unix socket; every accepted
//    connection carries frames as a 4-byte big-endian length + frame (reassembled across reads;
//    a length above 69,632 bytes closes the connection, as QEMU does).
// Listeners register their own descriptors with the EventLoop; they are control path, not datapath.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "io/backend.hh"

namespace vnet::io {

// Gives a new client's backend a port: `requested` = 0 for any free port. Returns the port number,
// or an error, in which case the client is refused.
using AttachFn = std::function<Result<uint32_t>(uint32_t requested, std::unique_ptr<Backend>)>;

class VdeServer {
 public:
  static Result<std::unique_ptr<VdeServer>> open(EventLoop& loop, const std::string& dir,
                                                 AttachFn attach);
  ~VdeServer();
  const std::string& dir() const { return dir_; }
  uint64_t refused() const { return refused_; }

 private:
  VdeServer(EventLoop& loop, std::string dir, AttachFn attach);
  void on_accept();
  void on_request(int fd);
  EventLoop& loop_;
  std::string dir_;
  AttachFn attach_;
  UniqueFd listen_;
  std::map<int, UniqueFd> pending_;
  uint64_t refused_ = 0;
};

class QemuStreamListener {
 public:
  static Result<std::unique_ptr<QemuStreamListener>> open(EventLoop& loop, const std::string& path,
                                                          uint32_t port, AttachFn attach);
  ~QemuStreamListener();

 private:
  QemuStreamListener(EventLoop& loop, std::string path, uint32_t port, AttachFn attach);
  void on_accept();
  EventLoop& loop_;
  std::string path_;
  uint32_t port_;
  AttachFn attach_;
  UniqueFd listen_;
};

// A connected QEMU stream socket as a backend (also usable with a socketpair end).
std::unique_ptr<Backend> make_qemu_stream_backend(UniqueFd fd, std::string name);

// Creates, binds and listens on a unix SOCK_STREAM socket at path (a stale socket file is removed).
Result<UniqueFd> listen_unix(const std::string& path, int mode);

}  // namespace vnet::io
