#pragma once
// The kernel's IPVS table through generic netlink: family "IPVS", version 1, the interface
// keepalived (check/libipvs.c) and ipvsadm use (include/uapi/linux/ip_vs.h). Building a request
// and reading an answer have no I/O: messages are written into, and read from, the caller's
// buffers with libmnl, and are unit-tested byte for byte; the datapath that sends them owns the
// socket.
//
// Addresses are 16 bytes as the kernel's union nf_inet_addr: an IPv4 address in the first 4
// (network order), the rest zero. Ports are host order here and big-endian on the wire.

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.hh"

namespace vnet::lb::ipvs {

inline constexpr const char* kFamilyName = "IPVS";
inline constexpr uint8_t kFamilyVersion = 1;
// Large enough for any request built here (a service and a destination with every attribute).
inline constexpr size_t kMaxRequest = 512;

enum class Cmd : uint8_t {
  kNewService = 1,  // IPVS_CMD_NEW_SERVICE
  kSetService = 2,
  kDelService = 3,
  kGetService = 4,  // a dump of every service
  kNewDest = 5,
  kSetDest = 6,
  kDelDest = 7,
  kGetDest = 8,  // a dump of one service's destinations
  kFlush = 17,   // every service and destination
};

// Forwarding method (IP_VS_CONN_F_MASQ, _TUNNEL, _DROUTE): ipvsadm's Masq, Tunnel, Route.
enum class Fwd : uint32_t { kMasq = 0, kTunnel = 2, kRoute = 3 };

using Addr = std::array<uint8_t, 16>;

// A virtual service: by address (protocol, addr, port) or by firewall mark (fwmark != 0).
struct Service {
  uint16_t af = 2;                // AF_INET or AF_INET6 (10)
  uint16_t protocol = 6;          // IPPROTO_TCP, _UDP or _SCTP; 0 for a fwmark service
  Addr addr{};                    //
  uint16_t port = 0;              // host order
  uint32_t fwmark = 0;            // 0: an address service
  std::string scheduler;          // "wlc", at most 15 characters (IP_VS_SCHEDNAME_MAXLEN 16)
  uint32_t flags = 0;             // IP_VS_SVC_F_PERSISTENT (1), IP_VS_SVC_F_SCHED1..3 (8, 16, 32)
  uint32_t timeout = 0;           // persistence, seconds
  uint32_t netmask = 0xffffffff;  // persistence granularity: an IPv4 mask, or an IPv6 prefix length
  friend bool operator==(const Service&, const Service&) = default;
};

struct Dest {
  uint16_t af = 2;
  Addr addr{};
  uint16_t port = 0;  // host order
  Fwd fwd = Fwd::kMasq;
  uint32_t weight = 1;
  uint32_t u_threshold = 0, l_threshold = 0;  // connection thresholds (0: none)
  friend bool operator==(const Dest&, const Dest&) = default;
};

// Counters of a service or destination (IPVS_*_ATTR_STATS64; the 32-bit STATS when alone).
struct Stats {
  uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
};

struct ServiceInfo {
  Service service;
  Stats stats;
};
struct DestInfo {
  Dest dest;
  uint32_t active = 0, inactive = 0, persistent = 0;  // connections
  Stats stats;
};

// Writes into `buf` (at least kMaxRequest bytes) a request for `cmd` to family `family` with
// sequence number `seq` and NLM_F_REQUEST | NLM_F_ACK (| NLM_F_DUMP for the Get commands), and
// returns its length. The service is given in full for kNewService and kSetService and as its
// key (address or fwmark) for the others; the destination in full for kNewDest and kSetDest, as
// address and port for kDelDest. kFlush takes neither; kGetService neither; kGetDest the service.
// EINVAL: a scheduler name over 15 characters, or a command without what it needs.
Result<size_t> build(std::span<uint8_t> buf, uint16_t family, uint32_t seq, Cmd cmd,
                     const Service* service = nullptr, const Dest* dest = nullptr);

// The controller's request for a family's id (CTRL_CMD_GETFAMILY with CTRL_ATTR_FAMILY_NAME),
// and the id in its answer (CTRL_ATTR_FAMILY_ID). ENOENT when the answer is an error message
// (the family does not exist: no ip_vs module); EBADMSG when it is malformed.
size_t build_get_family(std::span<uint8_t> buf, uint32_t seq, const std::string& name);
Result<uint16_t> parse_family_id(std::span<const uint8_t> msg);

// One message of a kGetService / kGetDest dump. EBADMSG when the service or destination nest or
// one of its required attributes is missing or of the wrong size.
Result<ServiceInfo> parse_service(std::span<const uint8_t> msg);
Result<DestInfo> parse_dest(std::span<const uint8_t> msg);

}  // namespace vnet::lb::ipvs
