#pragma once
// Dataplane: the bridges of one `vnet switch` process, the backends attached to their ports, the
// in-process cables between bridges, and the event loop that moves frames between them.
//
// Per readable backend: receive a batch (≤ 64) → Bridge::ingress → drain each port's output →
// the port's egress stage chain (egress.hh; skipped when empty) → send a batch to the backend
// (completing checksums / segmenting GSO frames for backends that do not carry the virtio-net
// header), or hand it across a cable to the peer bridge's ingress. Cable hops are processed from
// a work list, not recursively, first in first out: frames cross a cable in the order they were
// sent on it, as on a link (802.1D-2004 §6.3.3; spanning tree relies on it). A frame on a loop-free
// path crosses fewer cables than there are bridges; the storm guard drops a frame that crossed more
// (counted per port as storm_guard, logged at most once a second with the count), so a loop of
// cables built at run time shows up and the switch stays alive. Preventing loops is spanning tree's
// job (spanning_tree.hh; the lab validator refuses loops of cables between switches without it).
// Frames an egress stage holds on a cable port carry their count in FrameMeta::cables until they
// are released.
//
// Nothing runs per port on a timer, so an idle port costs nothing but its descriptors:
//  - a stream backend that has output queued is flushed when its socket turns writable
//    (EventLoop::want_writable), and the interest is dropped once the queue is empty;
//  - a port's egress timer is armed only while one of its stages holds frames;
//  - FDB ageing runs at the next expiry, and only while some FDB has dynamic entries;
//  - the thread's FramePool is trimmed by a timer armed only while it retains buffers;
//  - the storm guard's log line for drops it could not log yet waits on a timer armed only then.
//
// A port on a kernel interface (afpacket) follows the interface's carrier (io/link_monitor.hh):
// when the veth's far end or the NIC's cable goes down the port goes inactive, and spanning tree
// sees the link go down, as on a hardware switch.
//
// Ports attached by a client (a VDE plug) are "dynamic": they are removed when the client goes.
// Ports created by configuration stay, inactive, when their backend closes.
// Captures (capture/capture.hh): a port may carry taps of running captures. A tap records what
// the port receives (inbound) and sends (outbound), either before its stage chains ("pre": as
// the backend or the cable peer offered the frames, before `in` impairment, and as the bridge
// handed them to the port, before `out` impairment) or after them ("post": what the bridge
// receives, what goes on the wire or cable). A pre tap also learns which of the frames a stage
// dropped (DropObserver) and marks them "dropped: REASON"; frames a silent link drops are
// recorded so too. Frames from a cable peer pass no ingress chain: pre and post see the same.
// Frames the bridge drops on their way in (Bridge's BridgeDropObserver: ingress rules, port
// state, same-port filtering, ...) are marked on the port's captures of inbound frames, post
// (what the bridge received) and pre (when the frame is one of the latest batch the pre tap
// recorded, i.e. no ingress stage held it back); frames the bridge refused to send on a port
// (exposed_tag) are recorded by its pre captures of outbound frames as outbound frames with the
// reason, as they would have left; frames the storm guard ends are recorded inbound, with the
// reason, on the port they arrived at. A tapped port has an observer on its bridge port; others
// pay nothing for it. With no capture running a batch pays one branch per site (an empty tap
// list; on cable hops a dataplane-wide count).
//
// Single-threaded; everything runs on the loop thread.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "bridge/bridge.hh"
#include "bridge/egress.hh"
#include "bridge/port_access.hh"
#include "bridge/spanning_tree.hh"
#include "capture/capture.hh"
#include "io/backend.hh"
#include "io/link_monitor.hh"
#include "io/listener.hh"

namespace vnet::bridge {

struct PortInfo {
  std::string backend;  // describe() of the backend, empty if none
  std::string cable;    // "BRIDGE:PORT" of the peer, empty if none
  bool dynamic = false;
  bool admin_up = true;
  bool silent = false;                                     // set_silent()
  std::vector<std::pair<std::string, uint64_t>> counters;  // the backend's own (io::Backend)
};

class Dataplane {
 public:
  explicit Dataplane(EventLoop& loop, uint32_t numports = 32);
  ~Dataplane();
  const EventLoop& loop() const { return loop_; }

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
  // Administrative link state: down = the port stops forwarding (and its cable peer with it),
  // and a backend with a carrier (TAP) loses it, so the node sees its link go down.
  Status set_link(Bridge& br, PortNo port, bool up);
  // A silent link, the fault a pulled cable is not: the carrier stays (the port stays active,
  // spanning tree sees no link change) but every frame in both directions is dropped and counted
  // as link_silent — BPDUs too, so the far side notices only when their information ages out
  // (802.1D-2004 §17.21.23, three hello times). On a cable both ends go silent; on a backend,
  // what it receives and what would be sent to it. set_link() leaves this flag alone.
  Status set_silent(Bridge& br, PortNo port, bool silent);
  // Opens a VDE switch directory for this bridge (libvdeplug clients).
  Status start_vde(Bridge& br, const std::string& dir);
  // Called when a port is removed through the console.
  void forget_port(Bridge& br, PortNo port);

  // Egress stages of a port (which must exist). add: before position `at` (EgressChain::kEnd =
  // last). remove: the stage's held frames are sent on now (kRelease) or dropped (kDrop).
  Status add_egress_stage(Bridge& br, PortNo port, std::unique_ptr<EgressStage> stage,
                          size_t at = EgressChain::kEnd);
  Result<std::unique_ptr<EgressStage>> remove_egress_stage(Bridge& br, PortNo port,
                                                           std::string_view name, HeldFrames held);
  // The port's chain, or nullptr if the port has no attachment.
  const EgressChain* egress_chain(const Bridge& br, PortNo port) const;
  EgressChain* egress_chain(const Bridge& br, PortNo port);
  bool egress_timer_armed(const Bridge& br, PortNo port) const;

  // Ingress stages of a port: the egress stage contract (egress.hh) on what the port's backend
  // receives, after the silent-link check and before Bridge::ingress, with their own timer (armed
  // only while a stage holds frames). Frames arriving over an in-process cable do not pass them:
  // that direction of the cable is the peer port's egress chain. remove (kRelease): the held
  // frames enter the bridge now.
  Status add_ingress_stage(Bridge& br, PortNo port, std::unique_ptr<EgressStage> stage,
                           size_t at = EgressChain::kEnd);
  Result<std::unique_ptr<EgressStage>> remove_ingress_stage(Bridge& br, PortNo port,
                                                            std::string_view name, HeldFrames held);
  EgressChain* ingress_chain(const Bridge& br, PortNo port);
  bool ingress_timer_armed(const Bridge& br, PortNo port) const;

  // A bridge's spanning tree (bridge/spanning_tree.hh), created with mode off on first use.
  // After changing it call stp_changed(): the engine's BPDUs go out and its tick timer is
  // re-armed from the event loop (never from inside a datapath call). The tick timer runs only
  // while some bridge's spanning tree is on.
  SpanningTree& spanning_tree(Bridge& br);
  const SpanningTree* find_spanning_tree(const Bridge& br) const;
  void stp_changed();
  bool stp_timer_armed() const { return stp_timer_ != 0; }

  // A bridge's port access control (bridge/port_access.hh), created on first use; the
  // dataplane routes the bridge's EAPOL frames (01-80-C2-00-00-03; other reserved addresses go
  // to spanning tree) and unauthorised ports' frames to it, keeps it told of link changes, and
  // gives each authenticating port its own non-blocking UDP socket connected to the RADIUS
  // server (opened at the port's first request, read on the loop, at most kRadiusBurst
  // datagrams per wake-up). After changing it through its methods call nac_changed(): its EAPOL
  // goes out and its timer is re-armed from the event loop.
  PortAccess& port_access(Bridge& br);
  const PortAccess* find_port_access(const Bridge& br) const;
  void nac_changed();
  // Sets the bridge's RADIUS server (restarting its ports' sessions) and closes its ports'
  // sockets, so the next request goes to the new server.
  void set_radius_server(Bridge& br, RadiusServer server, TimePoint now);
  bool nac_timer_armed() const { return nac_timer_ != 0; }
  // RADIUS datagrams that could not be sent (no route, buffer full) or read (ICMP errors).
  uint64_t radius_io_errors() const { return radius_io_errors_; }
  static constexpr size_t kRadiusBurst = 16;

  // Starts a capture with one interface per (bridge, port) of `ports` (each must exist; a port
  // at most once), in that order. Its interfaces are named "BRIDGE:PORT", described by the
  // port's backend or cable. EINVAL / ENXIO for bad ports.
  Result<std::shared_ptr<capture::Capture>> start_capture(
      const std::vector<std::pair<Bridge*, PortNo>>& ports, const capture::Options& options,
      capture::Filter filter, int64_t epoch_offset_ns);
  // Removes the capture's taps and finishes it (its statistics blocks). ENOENT if not running.
  Status stop_capture(uint64_t id);
  const std::vector<std::shared_ptr<capture::Capture>>& captures() const { return captures_; }

  // Mirror ports (SPAN): copies of what port `src` receives (inbound) and/or sends (outbound),
  // taken where a post capture looks (after the stage chains), leave on port `dst` of the same
  // bridge straight to its backend or cable: not through the bridge, its VLAN filtering or
  // tagging, or dst's egress stages. Loop guard: a destination is never a source (and src !=
  // dst), so a copy is never copied again. EINVAL for that, ENXIO for a missing port, EEXIST
  // for a second mirror src → dst.
  struct MirrorInfo {
    std::string bridge;
    PortNo src = 0, dst = 0;
    bool inbound = false, outbound = false;
    uint64_t copied = 0;
  };
  Status add_mirror(Bridge& br, PortNo src, PortNo dst, bool inbound, bool outbound);
  Status remove_mirror(Bridge& br, PortNo src, PortNo dst);  // ENOENT if there is none
  std::vector<MirrorInfo> mirrors() const;

  PortInfo port_info(const Bridge& br, PortNo port) const;
  // The backend attached to port, or nullptr (none, a cable, a listener still waiting).
  io::Backend* backend(const Bridge& br, PortNo port);
  // The bridge and port at the other end of port's in-process cable, if it has one.
  std::optional<std::pair<Bridge*, PortNo>> cable_peer(const Bridge& br, PortNo port) const;
  uint32_t numports() const { return numports_; }
  void set_numports(uint32_t n) { numports_ = n; }
  std::vector<std::string> vde_dirs() const;
  // The VDE directory bridge br serves (start_vde), or "" if none.
  std::string vde_dir(const Bridge& br) const;

  // Datapath entry points (public for tests and the micro benchmark).
  void poll_port(Bridge& br, PortNo port);
  void age_all();
  bool ageing_armed() const { return ageing_timer_ != 0; }

 private:
  struct Attachment;
  struct Tap {
    capture::Capture* capture = nullptr;  // a capture's interface, or else a mirror:
    uint32_t interface = 0;
    Bridge* bridge = nullptr;  // mirror: copies leave on bridge's port mirror_to
    PortNo mirror_to = 0;
    bool inbound = false, outbound = false;
    uint64_t copied = 0;
  };
  // Reports what a port's stage chain drops in one direction to its pre taps.
  struct TapDrops final : DropObserver {
    Dataplane* dataplane = nullptr;
    Attachment* attachment = nullptr;
    capture::Direction direction{};
    void dropped(const packet::Frame& frame, DropReason reason) override;
  };
  // Reports what the bridge drops on a port to its captures; set on the port while it has taps.
  struct BridgeTapDrops final : BridgeDropObserver {
    Dataplane* dataplane = nullptr;
    Attachment* attachment = nullptr;
    Bridge* bridge = nullptr;
    PortNo port = 0;
    void dropped(PortNo port, bool received, const packet::Frame& frame,
                 DropReason reason) override;
  };
  struct Attachment {
    std::unique_ptr<io::Backend> backend;
    std::unique_ptr<io::QemuStreamListener> listener;
    std::optional<std::pair<Bridge*, PortNo>> cable;
    bool dynamic = false;
    bool admin_up = true;
    bool carrier = true;  // the backend's kernel interface is RUNNING (link_ifindex())
    bool silent = false;  // set_silent(): frames both ways are dropped, the link stays up
    EgressChain egress;
    EventLoop::TimerId egress_timer = 0;  // armed only while a stage holds frames
    TimePoint egress_due{};
    EgressChain ingress;  // add_ingress_stage(): before Bridge::ingress
    EventLoop::TimerId ingress_timer = 0;
    TimePoint ingress_due{};
    std::vector<Tap> taps;  // captures on this port; empty = none
    TapDrops egress_drops, ingress_drops;
    BridgeTapDrops bridge_drops;
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
  // Kernel receive timestamps (io::Backend::set_timestamps) on every backend while any port has
  // a stage (link impairment), off otherwise.
  void update_timestamps();
  // The time stages take for the frames being processed: batch_time_, never after `now`.
  TimePoint stage_time(TimePoint now) const {
    return batch_time_ ? std::min(*batch_time_, now) : now;
  }
  void run_cables(TimePoint now);
  void deliver(Bridge& br, PortNo port, std::vector<packet::Frame>& frames, TimePoint now);
  void output(Bridge& br, PortNo port, Attachment& a, std::vector<packet::Frame>& frames,
              size_t cables);
  void send_to_backend(Bridge& br, PortNo port, io::Backend& be,
                       std::vector<packet::Frame>& frames);
  void watch_output(Bridge& br, PortNo port, io::Backend& be);
  void schedule_egress(Bridge& br, PortNo port, Attachment& a);
  void on_egress_timer(Bridge& br, PortNo port);
  void arm_stage_timer(EgressChain& chain, EventLoop::TimerId& timer, TimePoint& at,
                       std::function<void()> fire);
  void on_ingress_timer(Bridge& br, PortNo port);
  void erase_attachment(Bridge& br, PortNo port);
  void tap(Attachment& a, capture::Point point, capture::Direction direction,
           std::span<const packet::Frame> frames, TimePoint now, std::string_view dropped = {});
  void add_tap(Bridge& br, PortNo port, Attachment& a, Tap t);
  void remove_taps(Attachment& a, const std::function<bool(const Tap&)>& which);
  void mirror(Tap& t, std::span<const packet::Frame> frames);
  void tap_dropped(Attachment& a, capture::Direction direction, const packet::Frame& frame,
                   DropReason reason);
  void tap_bridge_dropped(Attachment& a, bool received, const packet::Frame& frame,
                          DropReason reason);
  void arm_ageing(TimePoint now);
  void arm_trim();
  void update_active(Bridge& br, PortNo port);
  void drop_backend(Bridge& br, PortNo port);
  void storm_guard_drop(Bridge& br, PortNo port, size_t frames, TimePoint now);
  void storm_guard_log(TimePoint now);
  static size_t held_cables(const std::vector<packet::Frame>& frames);
  void split_control(Attachment& a, std::vector<packet::Frame>& frames);
  void watch_carrier(Bridge& br, PortNo port, Attachment& a);
  void on_carrier(int ifindex, bool running);
  void stp_run();
  void stp_port_changed(Bridge& br, PortNo port);
  // dataplane_nac.cc
  void on_control(Bridge& br, PortNo port, packet::Frame&& frame, TimePoint now);
  void on_unauthorized(Bridge& br, PortNo port, const packet::MacAddress& src, TimePoint now);
  void radius_send(Bridge& br, PortNo port, std::span<const uint8_t> datagram);
  void radius_readable(Bridge& br, PortNo port);
  void radius_close(Bridge& br, PortNo port);
  void nac_run();

  EventLoop& loop_;
  uint32_t numports_;
  std::map<std::string, std::unique_ptr<Bridge>> bridges_;
  std::map<Key, Attachment> attachments_;
  std::map<const Bridge*, std::unique_ptr<io::VdeServer>> vde_;
  std::vector<Pending> work_;
  std::vector<std::vector<packet::Frame>> spare_;  // emptied work-list vectors, for reuse
  size_t cables_crossed_ = 0;                      // of the frames being processed now
  // The time stages take for the batch being processed (stage_time), from its kernel arrival
  // time (poll_port); nullopt outside poll_port or when the backend reads none.
  std::optional<TimePoint> batch_time_;
  // The switch's usual lag from a frame's kernel arrival to reading it: a streaming median
  // that each timestamped batch moves kReadLagStep towards its own lag.
  Duration read_lag_{0};
  static constexpr Duration kReadLagStep{1000};  // 1 µs
  bool timestamps_ = false;                      // update_timestamps()
  uint64_t storm_unlogged_ = 0;                  // storm-guard drops not logged yet
  std::optional<TimePoint> storm_logged_;
  std::string storm_where_;  // "BRIDGE port N" of the latest storm-guard drop
  EventLoop::TimerId storm_log_timer_ = 0;
  std::vector<packet::Frame> rx_;
  std::vector<packet::Frame> scratch_, released_, ingress_released_;
  EventLoop::TimerId ageing_timer_ = 0, trim_timer_ = 0;
  std::map<const Bridge*, size_t>
      static_only_;  // FDB size of bridges found without dynamic entries
  // After bridges_: destroyed first (a tree unhooks itself from its bridge).
  std::map<Bridge*, std::unique_ptr<SpanningTree>> trees_;
  EventLoop::TimerId stp_timer_ = 0;
  // Port access control per bridge, and the RADIUS sockets of its ports; after bridges_.
  std::map<Bridge*, std::unique_ptr<PortAccess>> access_;
  std::map<Key, UniqueFd> radius_fds_;
  EventLoop::TimerId nac_timer_ = 0;
  bool nac_kicked_ = false;  // a zero-delay nac_run() is queued
  uint64_t radius_io_errors_ = 0;
  // Carrier of ports on kernel interfaces; opened with the first such port.
  std::optional<io::LinkMonitor> links_;
  bool links_failed_ = false;
  std::vector<std::shared_ptr<capture::Capture>> captures_;
  uint64_t next_capture_id_ = 1;
  std::vector<packet::Frame> mirror_copies_;
  size_t tapped_ports_ = 0;  // attachments with taps: 0 = cable hops skip the tap lookup
};

}  // namespace vnet::bridge
