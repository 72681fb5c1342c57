// libFuzzer target: RADIUS answers and EAPOL/EAP frames as a switch's authenticator receives
// them (nac/radius.hh, nac/eapol.hh). Properties: no crash; a decoded packet re-encodes to the
// bytes it came from (up to Length); an answer accepted under a secret stops being accepted
// when any byte of its Response Authenticator changes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/byte_io.hh"
#include "nac/eapol.hh"
#include "nac/radius.hh"

using namespace vnet;
using namespace vnet::nac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto p = decode_radius(in)) {
    auto again = encode_radius(*p);
    size_t length = load_be16(data + 2);
    if (!again || again->size() != length || std::memcmp(again->data(), data, length) != 0) {
      __builtin_trap();
    }
    // libFuzzer sees the comparison's expected bytes and may well copy them into the
    // authenticator; what must hold is that acceptance depends on every byte of it.
    Authenticator ra{};
    if (open_response(in, p->id, ra, "fuzz-secret")) {
      std::vector<uint8_t> bent(data, data + size);
      bent[4 + data[1] % 16] ^= 0x01;
      if (open_response(bent, p->id, ra, "fuzz-secret")) __builtin_trap();
    }
    (void)assigned_vlan(*p);
    (void)p->joined(attr::kEapMessage);
  }
  if (auto e = decode_eapol(in)) {
    if (e->body.size() > size) __builtin_trap();
    if (auto eap = decode_eap(e->body)) {
      if (eap->whole.size() > e->body.size()) __builtin_trap();
    }
  }
  return 0;
}
