// libFuzzer target: IPv6 header decoder
#include <cstddef>
#include <cstdint>

#include "packet/ip.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  (void)vnet::packet::decode_ipv6(r);
  return 0;
}
