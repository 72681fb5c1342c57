// libFuzzer target: ARP decoder with re-encode round trip
#include <cstddef>
#include <cstdint>

#include <vector>
#include "packet/arp.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  auto p = vnet::packet::decode_arp(r);
  if (!p.ok()) return 0;
  std::vector<uint8_t> out;
  vnet::ByteWriter w(out);
  vnet::packet::encode(*p, w);
  vnet::ByteReader again(out);
  if (!(*vnet::packet::decode_arp(again) == *p)) __builtin_trap();
  return 0;
}
