#pragma once
// keepalived's load-balancing configuration (virtual_server, virtual_server_group, real_server and
// the checker blocks, keepalived 2.2.7 check/check_parser.c) as values: what lb/keepalived_conf.cc
// reads and lb/balancer.hh serves. Defaults are keepalived's, resolved at parse time from the
// virtual server to its real servers to their checkers (check_data.c validate_check_config()).
// Units: seconds in Duration, weights 0..65535 (IPVS_WEIGHT_LIMIT; keepalived's range for
// `weight`), ports in host order.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "lb/checker.hh"
#include "lb/dns_check.hh"
#include "lb/endpoint.hh"
#include "lb/file_check.hh"
#include "lb/smtp_check.hh"
#include "lb/udp_check.hh"

namespace vnet::lb {

inline constexpr int kMaxWeight = 65535;  // IPVS_WEIGHT_LIMIT

struct Where {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
  friend bool operator==(const Where&, const Where&) = default;
};

enum class CheckerType { kTcp, kHttp, kSsl, kSmtp, kMisc, kDns, kUdp, kPing, kFile, kBfd };
std::string_view checker_keyword(CheckerType t);  // "TCP_CHECK", "HTTP_GET", ...

// One url { } of HTTP_GET / SSL_GET.
struct UrlCheck {
  std::string path;
  std::string digest;             // lower-case hex MD5 of the body (genhash), empty = not checked
  std::vector<int> status_codes;  // empty = 200-299 (keepalived's default)
  std::string virtualhost;
  friend bool operator==(const UrlCheck&, const UrlCheck&) = default;
};

struct CheckerConfig {
  CheckerType type = CheckerType::kTcp;
  CheckerTiming
      timing;  // resolved: the checker's own values, else the real server's, else the VS's
  std::optional<Endpoint>
      connect;  // what to probe: connect_ip / connect_port, else the real server
  std::optional<Endpoint> bindto;
  // HTTP_GET / SSL_GET
  std::vector<UrlCheck> urls;
  std::string virtualhost;
  // MISC_CHECK
  std::string misc_path;
  bool misc_dynamic = false;
  SmtpCheck smtp;  // SMTP_CHECK helo_name
  DnsCheck dns;    // DNS_CHECK type, name
  UdpCheck udp;    // UDP_CHECK payload, require_reply, min/max_reply_length
  FileCheck file;  // FILE_CHECK track_file, weight
  // Keywords recognised but not modelled (bind_if, fwmark, BFD_CHECK's), kept as written.
  std::vector<std::pair<std::string, std::string>> other;
  Where where;
  // Equal checkers survive a reload with their state (keepalived compare_*_check()).
  bool same_check(const CheckerConfig& o) const {
    return type == o.type && timing == o.timing && connect == o.connect && bindto == o.bindto &&
           urls == o.urls && virtualhost == o.virtualhost && misc_path == o.misc_path &&
           misc_dynamic == o.misc_dynamic && smtp == o.smtp && dns == o.dns && udp == o.udp &&
           file == o.file && other == o.other;
  }
};

struct RealServerConfig {
  Endpoint addr;
  int weight = 1;
  bool inhibit = false;  // inhibit_on_failure: weight 0 instead of removal
  bool alpha = false;
  std::string notify_up, notify_down;
  std::vector<CheckerConfig> checkers;
  Where where;
};

enum class Forwarding { kNat, kDr, kTun };
enum class Protocol { kTcp, kUdp, kSctp };

// What a virtual server is addressed by: IP PORT, `fwmark N` or `group NAME`.
struct ServiceKey {
  enum Kind { kAddress, kFwmark, kGroup } kind = kAddress;
  Endpoint addr;        // kAddress
  uint32_t fwmark = 0;  // kFwmark
  std::string group;    // kGroup
  Protocol protocol = Protocol::kTcp;
  std::string str() const;  // "10.0.0.1:80/TCP", "FWM 7", "group web"
  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
  friend auto operator<=>(const ServiceKey&, const ServiceKey&) = default;
};

struct VirtualServerConfig {
  ServiceKey key;
  std::string scheduler = "wlc";  // keepalived's default lvs_sched (IPVS_DEF_SCHED)
  Forwarding forwarding = Forwarding::kNat;
  std::optional<Duration> persistence_timeout;  // `persistence_timeout` alone: 360 s
  std::string persistence_granularity;
  unsigned quorum = 1;
  unsigned hysteresis = 0;
  std::string quorum_up, quorum_down;
  std::optional<Endpoint> sorry_server;
  int sorry_weight = 1;
  bool sorry_server_inhibit = false;
  bool alpha = false, omega = false;
  bool ha_suspend = false;
  std::string virtualhost;
  std::vector<std::string> sched_flags;  // ops, sh-port, sh-fallback, mh-port, mh-fallback, ...
  std::vector<RealServerConfig> reals;
  Where where;
};

// virtual_server_group NAME { IP PORT | IP-LASTBYTE PORT | fwmark N ... }
struct GroupMember {
  Endpoint first;
  uint32_t range_end = 0;  // last value of the address's last byte (IPv4) / word (IPv6); 0 = one
  uint32_t fwmark = 0;     // nonzero: a fwmark member
  friend bool operator==(const GroupMember&, const GroupMember&) = default;
};
struct VirtualServerGroup {
  std::string name;
  std::vector<GroupMember> members;
  Where where;
};

struct LbConfig {
  std::vector<VirtualServerConfig> services;
  std::vector<VirtualServerGroup> groups;
};

}  // namespace vnet::lb
