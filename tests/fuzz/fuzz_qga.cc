// libFuzzer target: what a guest agent sends (lab/qga_protocol.hh). The input is fed to a
// ReplyReader in two pieces (its first byte says where to cut), after a sync; every reply is
// read as a guest-exec and a guest-exec-status value. Whatever a hostile or broken guest sends
// must end in a value or an error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lab/qga_protocol.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet::lab::qga;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = data[0] % (in.size() + 1);
  ReplyReader r;
  r.expect_delimiter();
  r.feed(in.substr(0, cut));
  for (int round = 0; round < 2; ++round) {
    while (true) {
      auto j = r.next();
      if (!j || !*j) break;
      auto v = reply_value(**j, "fuzz");
      if (!v) continue;
      (void)is_sync_reply(*v, 42);
      (void)exec_pid(*v);
      (void)exec_status(*v);
    }
    r.feed(in.substr(cut));
  }
  (void)base64_decode(in);
  return 0;
}
