#pragma once
// The director's table in the kernel's IPVS, where the ip_vs module exists: the same requests
// keepalived makes (generic netlink family "IPVS"; lb/ipvs_genl.hh builds them, lb/ipvs_plan.hh
// lists them). IPVS schedules every connection itself, so the connection-count choices the
// nftables datapath needs (set_pick) are not used. Services this datapath added are deleted by
// clear(); a service left by a run that crashed (EEXIST on add) is replaced.

#include <memory>

#include "base/fd.hh"
#include "lb/director.hh"
#include "lb/ipvs_plan.hh"

namespace vnet::lb {

class IpvsDatapath final : public Datapath {
 public:
  // A generic netlink socket in the current network namespace and the IPVS family's id.
  // ENOENT: this kernel has no IPVS family (no ip_vs module): use NftDatapath.
  static Result<std::unique_ptr<IpvsDatapath>> open();
  Status program(const Table& table, const Picks& picks) override;
  Status set_pick(const ServiceKey&, const std::optional<Endpoint>&) override { return {}; }
  Status clear() override;
  bool schedules_connections() const override { return true; }  // the kernel's schedulers
  // Each of our services' destinations' STATS64 (one IPVS_CMD_GET_DEST dump per IPVS service; a
  // group's entries summed into its virtual server), as `ipvsadm -Ln --stats` reads them.
  Result<Stats> stats() const override;

 private:
  IpvsDatapath(UniqueFd fd, uint16_t family) : fd_(std::move(fd)), family_(family) {}
  // One request and the kernel's acknowledgement: its errno as the error.
  Status request(const IpvsRequest& r);
  Status apply(const std::vector<IpvsRequest>& plan);
  UniqueFd fd_;
  uint16_t family_ = 0;
  mutable uint32_t seq_ = 0;
  Table table_;  // what the kernel holds of ours
};

}  // namespace vnet::lb
