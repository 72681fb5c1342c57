#include "wirefilter/link.hh"

#include <sys/socket.h>

#include <cstring>

#include "base/log.hh"

namespace vnet::wirefilter {

namespace {
constexpr size_t kMaxFrame = 9234;      // vdeplug4 VDE_ETHBUFSIZE
constexpr size_t kBatch = 64;           // frames read per wakeup and side
constexpr size_t kEthernetHeader = 14;  // vde_switch ignores anything shorter
}  // namespace

Link::Link(EventLoop& loop, Filter& filter, std::array<io::VdePlug, 2> plugs)
    : loop_(loop), filter_(filter), plugs_(std::move(plugs)), buf_(kMaxFrame) {}

Link::~Link() {
  for (auto& p : plugs_) {
    loop_.unwatch(p.data.get());
    loop_.unwatch(p.ctl.get());
  }
  if (timer_ != 0) loop_.cancel_timer(timer_);
}

Result<std::unique_ptr<Link>> Link::open(EventLoop& loop, Filter& filter,
                                         std::array<io::VdePlug, 2> plugs) {
  std::unique_ptr<Link> l(new Link(loop, filter, std::move(plugs)));
  Link* raw = l.get();
  for (Dir d : {kLR, kRL}) {
    if (auto st = loop.watch(raw->plugs_[d].data.get(), [raw, d] { raw->on_data(d); }); !st) {
      return st.error();
    }
    if (auto st = loop.watch(raw->plugs_[d].ctl.get(), [raw, d] { raw->on_ctl(d); }); !st) {
      return st.error();
    }
  }
  raw->arm();
  return l;
}

void Link::on_ctl(Dir d) {
  char junk[256];
  ssize_t n = ::recv(plugs_[d].ctl.get(), junk, sizeof junk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  const std::string why = n == 0 ? "closed the control connection"
                                 : std::string("control connection: ") + std::strerror(errno);
  loop_.unwatch(plugs_[d].ctl.get());
  loop_.unwatch(plugs_[d].data.get());
  if (on_closed_) on_closed_(fmt::format("switch {} {}", plugs_[d].switch_dir, why));
}

void Link::on_data(Dir d) {
  const TimePoint now = loop_.clock().now();
  impair::Engine& engine = filter_.engine(d);
  for (size_t i = 0; i < kBatch; ++i) {
    ssize_t n = ::recv(plugs_[d].data.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) break;  // EAGAIN, or an error the next wakeup sees again
    if (static_cast<size_t>(n) < kEthernetHeader) {
      ++counters_[d].runts;
      continue;
    }
    ++counters_[d].received;
    const uint32_t slot = take_slot();
    const impair::Verdict v = engine.offer(now, static_cast<uint32_t>(n), slot);
    Held& held = slots_[slot];
    for (uint8_t c = 0; c < v.copies; ++c) {
      if (v.copy[c].drop == impair::Cause::kNone) ++held.copies;
      held.verdicts[c] = v.copy[c];
    }
    if (held.copies == 0) {
      free_.push_back(slot);
      continue;
    }
    held.bytes.assign(buf_.begin(), buf_.begin() + n);
  }
  service();
}

uint32_t Link::take_slot() {
  if (free_.empty()) {
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void Link::send_release(Dir d, const impair::Release& r) {
  if (r.handle >= slots_.size() || slots_[r.handle].copies == 0) return;
  Held& h = slots_[r.handle];
  const Dir out = d == kLR ? kRL : kLR;
  const impair::CopyVerdict& v = h.verdicts[r.copy];
  const std::vector<uint8_t>* bytes = &h.bytes;
  if (v.flip_count != 0) {
    flipped_.assign(h.bytes.begin(), h.bytes.end());
    impair::apply_flips(v, flipped_);
    bytes = &flipped_;
  }
  const ssize_t w =
      ::send(plugs_[out].data.get(), bytes->data(), bytes->size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (w < 0) {
    ++counters_[d].send_failed;
  } else {
    ++counters_[d].sent;
  }
  if (--h.copies == 0) free_.push_back(static_cast<uint32_t>(r.handle));
}

void Link::service() {
  const TimePoint now = loop_.clock().now();
  filter_.tick(now);
  impair::Release r;
  for (Dir d : {kLR, kRL}) {
    while (filter_.engine(d).pop_due(now, r)) send_release(d, r);
  }
  arm();
}

void Link::changed() { service(); }

void Link::arm() {
  const auto next = filter_.next_wakeup();
  // A timer armed at or before the next deadline stays: it fires, takes what is due (perhaps
  // nothing) and re-arms. So a steady stream of frames does not cancel and re-add one per frame.
  if (armed_for_ && (!next || *armed_for_ <= *next)) return;
  if (!next) return;
  if (timer_ != 0) loop_.cancel_timer(timer_);
  armed_for_ = next;
  const Duration after = std::max(Duration::zero(), *next - loop_.clock().now());
  timer_ = loop_.add_timer(after, [this] {
    timer_ = 0;
    armed_for_.reset();
    service();
  });
}

}  // namespace vnet::wirefilter
