// libFuzzer target: IPv4 header decoder with re-encode round trip
#include <cstddef>
#include <cstdint>

#include <vector>
#include "packet/ip.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  auto h = vnet::packet::decode_ipv4(r);
  if (!h.ok()) return 0;
  std::vector<uint8_t> out;
  vnet::ByteWriter w(out);
  vnet::packet::encode(*h, w);
  vnet::ByteReader again(out);
  if (!vnet::packet::decode_ipv4(again).ok()) __builtin_trap();
  return 0;
}
