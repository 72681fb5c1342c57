#include "vrrp/router.hh"

#include <algorithm>

namespace vnet::vrrp {

std::string_view state_name(State s) {
  switch (s) {
    case State::kInitialize:
      return "INIT";
    case State::kBackup:
      return "BACKUP";
    case State::kMaster:
      return "MASTER";
    case State::kFault:
      return "FAULT";
  }
  return "?";
}

Router::Router(RouterConfig config)
    : cfg_(std::move(config)),
      priority_(cfg_.priority),
      master_adver_interval_(cfg_.advert_interval) {}

Duration Router::skew_time() const {
  if (cfg_.version == 2)
    return std::chrono::duration_cast<Duration>(std::chrono::seconds(256 - priority_)) / 256;
  return master_adver_interval_ * (256 - priority_) / 256;
}

Duration Router::master_down_interval() const { return 3 * master_adver_interval_ + skew_time(); }

Advert Router::advert(uint8_t priority) const {
  Advert a;
  a.version = cfg_.version;
  a.vrid = cfg_.vrid;
  a.priority = priority;
  a.interval_cs = static_cast<uint16_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.advert_interval).count() / 10);
  a.ipv6 = cfg_.ipv6;
  a.v4 = cfg_.vips4;
  a.v6 = cfg_.vips6;
  if (cfg_.version == 2) {
    a.auth_type = cfg_.auth_type;
    if (cfg_.auth_type == AuthType::kSimpleText) a.auth_data = cfg_.auth_pass;
  }
  return a;
}

void Router::change_state(State to, TimePoint, const char* reason) {
  if (to == state_) return;
  actions_.push_back(StateChanged{state_, to, reason});
  state_ = to;
}

void Router::send_advert(uint8_t priority) {
  actions_.push_back(SendAdvert{priority});
  ++counters_.adverts_sent;
  if (priority == 0) ++counters_.priority_zero_sent;
}

void Router::become_master(TimePoint now, const char* reason) {
  // §6.4.1 / §6.4.2: send an advertisement, broadcast gratuitous ARP / unsolicited NA, start
  // the Adver_Timer, then the addresses are ours.
  send_advert(priority_);
  actions_.push_back(AddAddresses{});
  actions_.push_back(SendGratuitous{cfg_.garp_master_repeat});
  adver_timer_ = now + cfg_.advert_interval;
  master_down_timer_.reset();
  garp_timer_ = cfg_.garp_master_delay.count() > 0 ? std::optional(now + cfg_.garp_master_delay)
                                                   : std::nullopt;
  ++counters_.became_master;
  change_state(State::kMaster, now, reason);
}

void Router::start(TimePoint now) {
  if (state_ != State::kInitialize) return;
  started_ = now;
  // Stale addresses from a crashed run are removed first, as keepalived does at start-up.
  actions_.push_back(RemoveAddresses{});
  if (priority_ == 255) return become_master(now, "address owner (priority 255)");
  master_adver_interval_ = cfg_.advert_interval;
  master_down_timer_ = now + master_down_interval();
  change_state(State::kBackup, now, "start-up");
}

void Router::shutdown(TimePoint now) {
  if (state_ == State::kMaster) {
    send_advert(0);  // §6.4.3: priority 0 so a backup takes over after Skew_Time
    actions_.push_back(RemoveAddresses{});
  }
  adver_timer_.reset();
  master_down_timer_.reset();
  garp_timer_.reset();
  change_state(State::kInitialize, now, "shutdown");
}

bool Router::higher_than_us(const RxAdvert& rx) const {
  if (rx.advert.priority != priority_) return rx.advert.priority > priority_;
  // Equal priority: the larger primary address wins (§6.4.3).
  if (cfg_.ipv6) return rx.src6 > cfg_.primary6;
  return rx.src4 > cfg_.primary4;
}

bool Router::addresses_match(const Advert& a) const {
  if (cfg_.ipv6) {
    auto x = a.v6, y = cfg_.vips6;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
  }
  auto x = a.v4, y = cfg_.vips4;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

void Router::on_advert(TimePoint now, const RxAdvert& rx) {
  const Advert& a = rx.advert;
  // §7.1 receive checks that are the instance's.
  if (rx.ttl != kTtl) {
    ++counters_.bad_ttl;
    return;
  }
  if (a.version != cfg_.version) {
    ++counters_.bad_version;
    return;
  }
  if (cfg_.version == 2) {
    if (a.auth_type != cfg_.auth_type ||
        (cfg_.auth_type == AuthType::kSimpleText && a.auth_data != cfg_.auth_pass)) {
      ++counters_.bad_auth;
      return;
    }
    if (a.interval_cs != advert(0).interval_cs) {  // RFC 3768 §7.1
      ++counters_.bad_interval;
      return;
    }
  }
  if (cfg_.check_addresses && a.priority != 0 && !addresses_match(a)) {
    ++counters_.address_mismatch;  // RFC 5798 §7.1: MAY log; keepalived discards
    return;
  }
  ++counters_.adverts_received;
  if (a.priority == 0) ++counters_.priority_zero_received;
  Duration rx_interval = std::chrono::milliseconds(a.interval_cs * 10);

  switch (state_) {
    case State::kInitialize:
    case State::kFault:
      return;
    case State::kBackup: {
      if (a.priority == 0) {
        master_down_timer_ = now + skew_time();  // §6.4.2: the master is leaving
        return;
      }
      bool preempt_now = cfg_.preempt && now - started_ >= cfg_.preempt_delay;
      if (!preempt_now || a.priority >= priority_) {
        if (cfg_.version == 3) master_adver_interval_ = rx_interval;
        master_down_timer_ = now + master_down_interval();
      }
      // else: a lower-priority master and we may preempt: discard, let the timer run out.
      return;
    }
    case State::kMaster: {
      if (a.priority == 0) {
        send_advert(priority_);  // §6.4.3: answer at once so backups keep us
        adver_timer_ = now + cfg_.advert_interval;
        return;
      }
      if (higher_than_us(rx)) {
        adver_timer_.reset();
        garp_timer_.reset();
        if (cfg_.version == 3) master_adver_interval_ = rx_interval;
        master_down_timer_ = now + master_down_interval();
        actions_.push_back(RemoveAddresses{});
        change_state(State::kBackup, now, "received a higher-priority advertisement");
      }
      return;
    }
  }
}

void Router::tick(TimePoint now) {
  if (state_ == State::kBackup && master_down_timer_ && now >= *master_down_timer_) {
    become_master(now, "Master_Down_Interval expired");
  }
  if (state_ == State::kMaster) {
    if (adver_timer_ && now >= *adver_timer_) {
      send_advert(priority_);
      adver_timer_ = *adver_timer_ + cfg_.advert_interval;
      if (*adver_timer_ <= now) adver_timer_ = now + cfg_.advert_interval;  // fell behind: no burst
    }
    if (garp_timer_ && now >= *garp_timer_) {
      actions_.push_back(SendGratuitous{cfg_.garp_master_repeat});
      garp_timer_.reset();
    }
  }
}

void Router::set_priority(TimePoint now, uint8_t priority) {
  if (priority == 0 || priority == priority_) return;
  priority_ = std::min<uint8_t>(priority, 254);
  if (state_ == State::kMaster) send_advert(priority_);  // let a better backup preempt now
  (void)now;
}

void Router::set_fault(TimePoint now, bool fault) {
  if (fault && state_ != State::kFault) {
    if (state_ == State::kMaster) {
      send_advert(0);
      actions_.push_back(RemoveAddresses{});
    }
    adver_timer_.reset();
    master_down_timer_.reset();
    garp_timer_.reset();
    change_state(State::kFault, now, "fault");
  } else if (!fault && state_ == State::kFault) {
    master_adver_interval_ = cfg_.advert_interval;
    master_down_timer_ = now + master_down_interval();
    change_state(State::kBackup, now, "fault cleared");
  }
}

void Router::update_settings(const RouterConfig& c) {
  cfg_.garp_master_repeat = c.garp_master_repeat;
  cfg_.garp_master_delay = c.garp_master_delay;
  cfg_.primary4 = c.primary4;
  cfg_.primary6 = c.primary6;
  cfg_.check_addresses = c.check_addresses;
}

void Router::force_master(TimePoint now) {
  if (state_ == State::kBackup) become_master(now, "sync group member became master");
}

void Router::force_backup(TimePoint now) {
  if (state_ != State::kMaster) return;
  adver_timer_.reset();
  garp_timer_.reset();
  master_down_timer_ = now + master_down_interval();
  actions_.push_back(RemoveAddresses{});
  change_state(State::kBackup, now, "sync group member left master");
}

std::vector<Action> Router::take_actions() { return std::exchange(actions_, {}); }

std::optional<TimePoint> Router::next_deadline() const {
  std::optional<TimePoint> d;
  for (auto& t : {adver_timer_, master_down_timer_, garp_timer_}) {
    if (t && (!d || *t < *d)) d = t;
  }
  return d;
}

}  // namespace vnet::vrrp
