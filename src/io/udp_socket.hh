#pragma once
// UDP socket plumbing shared by the datagram tunnel backends (vxlan:, udp:): underlay endpoints
// to and from socket addresses, and a non-blocking UDP socket bound to an endpoint. Errors name
// the spec and the endpoint.

#include <sys/socket.h>

#include <string>

#include "base/fd.hh"
#include "base/result.hh"
#include "overlay/vtep.hh"

namespace vnet::io {

// `e` as a sockaddr_in / sockaddr_in6 (its port set when `with_port`: raw IPPROTO_UDP sockets
// take 0 there); `len` is set to the address's size.
sockaddr_storage to_sockaddr(const overlay::Endpoint& e, socklen_t& len, bool with_port = true);
overlay::Endpoint from_sockaddr(const sockaddr_storage& ss);

// A UDP socket (non-blocking, close-on-exec, 4 MiB buffers) bound to `local`. EADDRINUSE keeps
// its errno so callers can explain it; `what` ("vxlan:…") prefixes the messages.
Result<UniqueFd> bound_udp_socket(const overlay::Endpoint& local, const std::string& what);

}  // namespace vnet::io
