// libFuzzer target: generic netlink messages as the IPVS datapath reads them (lb/ipvs_genl.hh):
// one buffer read as a service dump, a destination dump and a controller answer. Whatever the
// bytes, each ends in a value or an error, and no read leaves the buffer.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lb/ipvs_genl.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet::lb::ipvs;
  // An exact-size copy, aligned as the kernel's buffers are, so overreads are caught.
  std::vector<uint8_t> msg(data, data + size);
  std::span<const uint8_t> in(msg.data(), msg.size());
  (void)parse_service(in);
  (void)parse_dest(in);
  (void)parse_family_id(in);
  return 0;
}
