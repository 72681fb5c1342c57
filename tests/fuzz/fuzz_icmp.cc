// libFuzzer target: ICMP/ICMPv6 echo decoder
#include <cstddef>
#include <cstdint>

#include "packet/l4.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  (void)vnet::packet::decode_icmp_echo(r);
  return 0;
}
