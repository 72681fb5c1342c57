// libFuzzer target: Ethernet II header decoder
#include <cstddef>
#include <cstdint>

#include "packet/ethernet.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  auto h = vnet::packet::decode_ethernet(r);
  if (h.ok() && h->ether_type == 0x8100) (void)vnet::packet::decode_vlan(r);
  return 0;
}
