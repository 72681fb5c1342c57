#pragma once
// VtepPort: what the console's vtep/ commands reach through a vxlan: port's backend
// (Backend::vtep_port()). The VTEP engine itself (overlay/vtep.hh) is changed directly; group
// membership, which needs the port's socket, goes through set_group().

#include "base/result.hh"
#include "overlay/vtep.hh"

namespace vnet::io {

class VtepPort {
 public:
  virtual ~VtepPort() = default;
  virtual overlay::Vtep& vtep() = 0;
  virtual const overlay::Endpoint& local() const = 0;
  // Joins (member = true) or leaves multicast group `group` on the port's socket. EINVAL when the
  // socket cannot take group traffic (bound to a unicast address: the port was opened without a
  // group; re-attach it with one) or the group is of the other family.
  virtual Status set_group(const overlay::Endpoint& group, bool member) = 0;
};

}  // namespace vnet::io
