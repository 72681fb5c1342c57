#include "lb/ipvs_datapath.hh"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cstring>

#include "base/log.hh"

namespace vnet::lb {
namespace {

// The answer to `seq`: the messages before the one that ends it — NLMSG_DONE (a dump) or an
// error message (0: the acknowledgement; otherwise its errno is the error). The kernel answers
// at once; a 2 s receive timeout bounds a socket that never does.
Result<std::vector<std::vector<uint8_t>>> await_answer(int fd, uint32_t seq) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(32768);
  while (true) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errno, "IPVS: no answer from the kernel: {}", std::strerror(errno));
    }
    size_t len = static_cast<size_t>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return out;
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
          return make_error(EBADMSG, "IPVS: short acknowledgement");
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return out;
        return make_error(-e->error, "{}", std::strerror(-e->error));
      }
      const auto* b = reinterpret_cast<const uint8_t*>(h);
      out.emplace_back(b, b + h->nlmsg_len);
    }
  }
}

Status await_ack(int fd, uint32_t seq) {
  auto r = await_answer(fd, seq);
  if (!r) return r.error();
  return {};
}

// "10.0.0.1:80" or "FWM 7" (IPv4; an IPv6 service by its first bytes is not needed in messages).
std::string service_name(const ipvs::Service& s) {
  if (s.fwmark) return fmt::format("FWM {}", s.fwmark);
  return fmt::format("{}.{}.{}.{}:{}", s.addr[0], s.addr[1], s.addr[2], s.addr[3], s.port);
}

std::string describe(const IpvsRequest& r) {
  auto cmd = [&] {
    switch (r.cmd) {
      case ipvs::Cmd::kNewService:
        return "add service";
      case ipvs::Cmd::kSetService:
        return "edit service";
      case ipvs::Cmd::kDelService:
        return "delete service";
      case ipvs::Cmd::kNewDest:
        return "add real server";
      case ipvs::Cmd::kSetDest:
        return "edit real server";
      case ipvs::Cmd::kDelDest:
        return "delete real server";
      default:
        return "request";
    }
  }();
  std::string svc = service_name(r.service);
  if (!r.dest) return fmt::format("{} {}", cmd, svc);
  return fmt::format("{} {}.{}.{}.{}:{} of {}", cmd, r.dest->addr[0], r.dest->addr[1],
                     r.dest->addr[2], r.dest->addr[3], r.dest->port, svc);
}

}  // namespace

Result<std::unique_ptr<IpvsDatapath>> IpvsDatapath::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd.valid()) return system_error("IPVS: generic netlink socket");
  timeval tv{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return system_error("IPVS: bind generic netlink socket");
  std::array<uint8_t, ipvs::kMaxRequest> req{};
  size_t len = ipvs::build_get_family(req, 1, ipvs::kFamilyName);
  if (::send(fd.get(), req.data(), len, 0) < 0) return system_error("IPVS: family lookup");
  std::array<uint8_t, 8192> buf;
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return system_error("IPVS: family lookup");
  auto id = ipvs::parse_family_id({buf.data(), static_cast<size_t>(n)});
  if (!id && id.error().code == ENOENT)
    return make_error(ENOENT,
                      "this kernel has no IPVS (generic netlink family \"IPVS\": the ip_vs "
                      "module is not loaded)");
  if (!id) return id.error();
  return std::unique_ptr<IpvsDatapath>(new IpvsDatapath(std::move(fd), *id));
}

Status IpvsDatapath::request(const IpvsRequest& r) {
  std::array<uint8_t, ipvs::kMaxRequest> buf{};
  uint32_t seq = ++seq_;
  auto len = ipvs::build(buf, family_, seq, r.cmd, &r.service, r.dest ? &*r.dest : nullptr);
  if (!len) return len.error();
  if (::send(fd_.get(), buf.data(), *len, 0) < 0) return system_error("IPVS: send");
  return await_ack(fd_.get(), seq);
}

Status IpvsDatapath::apply(const std::vector<IpvsRequest>& plan) {
  for (const auto& r : plan) {
    Status st = request(r);
    if (!st && r.cmd == ipvs::Cmd::kNewService && st.error().code == EEXIST) {
      // Left by a run that did not clear it: replaced, as keepalived's start does.
      log::warn("lb: IPVS already has service {}; replacing it", service_name(r.service));
      if (st = request({ipvs::Cmd::kDelService, r.service, std::nullopt}); st) st = request(r);
    }
    if (!st) return make_error(st.error().code, "IPVS: {}: {}", describe(r), st.error().message);
  }
  return {};
}

Status IpvsDatapath::program(const Table& table, const Picks&) {
  auto plan = ipvs_plan(table_, table);
  if (!plan) return plan.error();
  Status st = apply(*plan);
  if (st) {
    table_ = table;
    return {};
  }
  // Part of the plan applied: start over from what is certain (nothing of ours), once.
  log::warn("lb: {}; reprogramming the whole table", st.error().message);
  (void)clear();
  auto again = ipvs_plan({}, table);
  if (!again) return again.error();
  if (Status st2 = apply(*again); !st2) {
    (void)clear();
    table_ = {};
    return st2;
  }
  table_ = table;
  return {};
}

Status IpvsDatapath::clear() {
  auto plan = ipvs_plan(table_, {});
  table_.clear();
  if (!plan) return plan.error();
  Status first;
  for (const auto& r : *plan) {
    Status st = request(r);
    if (!st && st.error().code != ESRCH && first) first = st;  // already gone: fine
  }
  return first;
}

Result<Stats> IpvsDatapath::stats() const {
  Stats out;
  for (const auto& ts : table_) {
    auto svcs = ipvs_services(ts);
    if (!svcs) return svcs.error();
    ServiceCounters& sc = out[ts.key];
    sc.live_counted = true;
    for (const auto& svc : *svcs) {
      std::array<uint8_t, ipvs::kMaxRequest> buf{};
      uint32_t seq = ++seq_;
      auto len = ipvs::build(buf, family_, seq, ipvs::Cmd::kGetDest, &svc);
      if (!len) return len.error();
      if (::send(fd_.get(), buf.data(), *len, 0) < 0) return system_error("IPVS: send");
      auto msgs = await_answer(fd_.get(), seq);
      if (!msgs)
        return make_error(msgs.error().code, "IPVS: real servers of {}: {}", service_name(svc),
                          msgs.error().message);
      for (const auto& m : *msgs) {
        auto d = ipvs::parse_dest(m);
        if (!d) return d.error();
        for (const auto& td : ts.dests) {
          ipvs::Dest want = ipvs_dest(ts, td);
          if (want.addr != d->dest.addr || want.port != d->dest.port) continue;
          sc.dests[td.addr] += Counters{d->stats.conns, d->stats.inpkts, d->stats.outpkts,
                                        d->stats.inbytes, d->stats.outbytes};
          DestCounts& live = sc.live[td.addr];
          live.active += int(d->active);
          live.inactive += int(d->inactive);
        }
      }
    }
  }
  return out;
}

}  // namespace vnet::lb
