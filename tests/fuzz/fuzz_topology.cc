// libFuzzer target: topology file parser and validator
#include <cstddef>
#include <cstdint>

#include <string>
#include "lab/topology.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vnet::lab::parse_topology(std::string(reinterpret_cast<const char*>(data), size),
                                  "fuzz.yaml");
  return 0;
}
