#pragma once
// A RADIUS server's side for tests: answers built the way RFC 2865 §3 and RFC 3579 §3.2 say,
// independently of nac::seal_request (Message-Authenticator over the packet with the request's
// authenticator, then the Response Authenticator over the whole).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string_view>
#include <vector>

#include "nac/radius.hh"

namespace vnet::nac::testing {

inline std::vector<uint8_t> server_answer(RadiusPacket p, const Authenticator& request_auth,
                                          std::string_view secret, bool with_ma = true) {
  p.authenticator = request_auth;
  if (with_ma) p.add(attr::kMessageAuthenticator, std::vector<uint8_t>(16, 0));
  auto wire = *encode_radius(p);
  if (with_ma) {
    unsigned len = 0;
    uint8_t mac[16];
    HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()), wire.data(), wire.size(), mac,
         &len);
    std::copy_n(mac, 16, wire.end() - 16);
  }
  std::vector<uint8_t> in = wire;
  in.insert(in.end(), secret.begin(), secret.end());
  unsigned len = 0;
  EVP_Digest(in.data(), in.size(), wire.data() + 4, &len, EVP_md5(), nullptr);
  return wire;
}

}  // namespace vnet::nac::testing
