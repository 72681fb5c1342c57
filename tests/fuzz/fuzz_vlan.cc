// libFuzzer target: 802.1Q tag decoder
#include <cstddef>
#include <cstdint>

#include "packet/ethernet.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vnet::ByteReader r({data, size});
  auto t = vnet::packet::decode_vlan(r);
  if (t.ok() && (t->vid > 0xfff || t->pcp > 7)) __builtin_trap();
  return 0;
}
