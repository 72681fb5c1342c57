// libFuzzer target: UDP header decoder and checksum
#include <cstddef>
#include <cstdint>

#include "packet/checksum.hh"
#include "packet/l4.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  (void)vnet::packet::decode_udp(r);
  (void)vnet::packet::verify_l4_checksum({data, size}, 0);
  return 0;
}
