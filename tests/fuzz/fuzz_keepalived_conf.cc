// libFuzzer target: keepalived.conf parser (includes are resolved relative to /nonexistent).
#include <cstddef>
#include <cstdint>
#include <string>

#include "vrrp/keepalived_conf.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("include") != std::string::npos) return 0;  // no file system access from fuzzing
  (void)vnet::vrrp::parse_keepalived_conf(text, "/nonexistent/keepalived.conf");
  return 0;
}
