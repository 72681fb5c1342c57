// libFuzzer target: the tunnel port specs a console user or a lab file writes (overlay/spec.hh):
// vxlan:…, udp:…, and VDE's udp:// and vxlan:// locators. Properties: no crash; a spec the
// checker accepts parses again as what it became (a locator becomes a spec the same checker
// accepts, and that spec is no locator).
#include <cstddef>
#include <cstdint>
#include <string>

#include "overlay/spec.hh"

using namespace vnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)overlay::parse_vtep_spec(text);
  (void)overlay::parse_udp_cable_spec(text);
  (void)overlay::check_tunnel_spec(text);
  if (auto locator = overlay::from_vde_locator(text); locator && locator->ok()) {
    const std::string& spec = **locator;
    if (overlay::from_vde_locator(spec)) __builtin_trap();
    if (!overlay::check_tunnel_spec(spec).ok()) __builtin_trap();
  }
  return 0;
}
