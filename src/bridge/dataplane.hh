#pragma once
// Dataplane: the bridges of one `vnet switch` process, the backends attached to their ports, the
// in-process cables between bridges, and the event loop that moves frames between them.
//
// Per readable backend: receive a batch (≤ 64) → Bridge::ingress → drain each port's output →
// send a batch to each backend (completing checksums / segmenting GSO frames for backends that
// do not carry the virtio-net header), or hand it across a cable to the peer bridge's ingress.
// Cable hops are processed from a work list, not recursively. A frame on a loop-free path
// crosses fewer cables than there are bridges; the storm guard drops a frame that crossed more
// (counted per port as storm_guard, logged at most once a second with the count), so a loop of
// cables built at run time shows up and the switch stays alive. Preventing loops is spanning
// tree's job (the lab validator refuses loops of cables).
//
// Ports attached by a client (a VDE plug) are "dynamic": they are removed when the client goes.
// Ports created by configuration stay, inactive, when their backend closes.
// Single-threaded; everything runs on the loop thread.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.hh"
#include "bridge/bridge.hh"
#include "io/backend.hh"
#include "io/listener.hh"

namespace vnet::bridge {

struct PortInfo {
  std::string backend;  // describe() of the backend, empty if none
  std::string cable;    // "BRIDGE:PORT" of the peer, empty if none
  bool dynamic = false;
  bool admin_up = true;
};

class Dataplane {
 public:
  explicit Dataplane(EventLoop& loop, uint32_t numports = 32);
  ~Dataplane();

  Result<Bridge*> create_bridge(const std::string& name);
  Status remove_bridge(const std::string& name);
  Bridge* bridge(const std::string& name);
  std::vector<std::string> bridge_names() const;

  // Attaches a backend to `port` (0 = first free port ≤ numports, created dynamic). An existing
  // port without backend is reused; a port that has one is refused (EADDRINUSE).
  Result<PortNo> attach(Bridge& br, PortNo port, std::unique_ptr<io::Backend> backend,
                        bool dynamic);
  // Spec forms: those of io::make_backend, and qemu-stream:PATH (listen; each connection becomes
  // the port's backend in turn).
  Status attach_spec(Bridge& br, PortNo port, const std::string& spec);
  Status detach(Bridge& br, PortNo port);
  // Plugs an in-process cable between two existing ports (of the same or different bridges).
  Status connect_cable(Bridge& a, PortNo pa, Bridge& b, PortNo pb);
  // Administrative link state: down = the port stops forwarding (and its cable peer with it).
  Status set_link(Bridge& br, PortNo port, bool up);
  // Opens a VDE switch directory for this bridge (libvdeplug clients).
  Status start_vde(Bridge& br, const std::string& dir);
  // Called when a port is removed through the console.
  void forget_port(Bridge& br, PortNo port);

  PortInfo port_info(const Bridge& br, PortNo port) const;
  uint32_t numports() const { return numports_; }
  void set_numports(uint32_t n) { numports_ = n; }
  std::vector<std::string> vde_dirs() const;

  // Datapath entry points (public for tests and the micro benchmark).
  void poll_port(Bridge& br, PortNo port);
  void age_all();

 private:
  struct Attachment {
    std::unique_ptr<io::Backend> backend;
    std::unique_ptr<io::QemuStreamListener> listener;
    std::optional<std::pair<Bridge*, PortNo>> cable;
    bool dynamic = false;
    bool admin_up = true;
  };
  struct Pending {
    Bridge* br;
    PortNo port;
    std::vector<packet::Frame> frames;
    size_t cables = 0;  // cables these frames crossed since they entered from a backend
  };
  using Key = std::pair<const Bridge*, PortNo>;
  Attachment* find(const Bridge& br, PortNo port);
  void process(Bridge& br, PortNo port, std::vector<packet::Frame>& frames);
  void deliver(Bridge& br, PortNo port, std::vector<packet::Frame>& frames);
  void send_to_backend(Bridge& br, PortNo port, io::Backend& be,
                       std::vector<packet::Frame>& frames);
  void update_active(Bridge& br, PortNo port);
  void drop_backend(Bridge& br, PortNo port);
  void storm_guard_drop(Bridge& br, PortNo port, size_t frames, TimePoint now);
  void storm_guard_log(TimePoint now);

  EventLoop& loop_;
  uint32_t numports_;
  std::map<std::string, std::unique_ptr<Bridge>> bridges_;
  std::map<Key, Attachment> attachments_;
  std::map<const Bridge*, std::unique_ptr<io::VdeServer>> vde_;
  std::vector<Pending> work_;
  size_t cables_crossed_ = 0;    // of the frames being processed now
  uint64_t storm_unlogged_ = 0;  // storm-guard drops not logged yet
  std::optional<TimePoint> storm_logged_;
  std::string storm_where_;  // "BRIDGE port N" of the latest storm-guard drop
  std::vector<packet::Frame> rx_;
  std::vector<packet::Frame> scratch_;
  EventLoop::TimerId ageing_timer_ = 0, flush_timer_ = 0;
};

}  // namespace vnet::bridge
