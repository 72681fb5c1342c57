#include "nac/radius.hh"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/byte_io.hh"

namespace vnet::nac {
namespace {

constexpr size_t kHeader = 20;
constexpr size_t kAuthOffset = 4;
constexpr size_t kMaxPassword = 128;  // RFC 2865 §5.2

using Digest = std::array<uint8_t, 16>;

Digest md5(std::initializer_list<std::span<const uint8_t>> parts) {
  Digest out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  for (auto p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Digest hmac_md5(std::string_view key, std::span<const uint8_t> data) {
  Digest out{};
  unsigned len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &len);
  return out;
}

// The MD5 chain of §5.2: b1 = MD5(S + RA), bi = MD5(S + c(i-1)); `chain` is the ciphertext.
void xor_chain(std::span<uint8_t> out, std::span<const uint8_t> in, std::string_view secret,
               const Authenticator& ra, bool hiding) {
  std::span<const uint8_t> prev = ra;
  for (size_t off = 0; off < in.size(); off += 16) {
    Digest b = md5({bytes_of(secret), prev});
    for (size_t j = 0; j < 16; ++j) out[off + j] = in[off + j] ^ b[j];
    prev = hiding ? std::span<const uint8_t>(out.subspan(off, 16))
                  : std::span<const uint8_t>(in.subspan(off, 16));
  }
}

// Offset of the Message-Authenticator's value in an encoded packet, or 0.
size_t message_authenticator_at(std::span<const uint8_t> wire) {
  size_t i = kHeader;
  while (i + 2 <= wire.size()) {
    if (wire[i] == attr::kMessageAuthenticator && wire[i + 1] == 18) return i + 2;
    if (wire[i + 1] < 2) return 0;
    i += wire[i + 1];
  }
  return 0;
}

}  // namespace

const RadiusAttribute* RadiusPacket::find(uint8_t type) const {
  for (const auto& a : attributes)
    if (a.type == type) return &a;
  return nullptr;
}

std::vector<uint8_t> RadiusPacket::joined(uint8_t type) const {
  std::vector<uint8_t> out;
  for (const auto& a : attributes)
    if (a.type == type) out.insert(out.end(), a.value.begin(), a.value.end());
  return out;
}

void RadiusPacket::add(uint8_t type, std::span<const uint8_t> value) {
  attributes.push_back({type, {value.begin(), value.end()}});
}

void RadiusPacket::add(uint8_t type, std::string_view text) { add(type, bytes_of(text)); }

void RadiusPacket::add_u32(uint8_t type, uint32_t value) {
  uint8_t b[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                  static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  add(type, std::span<const uint8_t>(b, 4));
}

void RadiusPacket::add_eap(std::span<const uint8_t> message) {
  for (size_t off = 0; off < message.size(); off += kMaxAttributeValue) {
    add(attr::kEapMessage,
        message.subspan(off, std::min(kMaxAttributeValue, message.size() - off)));
  }
}

Result<RadiusPacket> decode_radius(std::span<const uint8_t> wire) {
  if (wire.size() < kHeader) {
    return make_error(EPROTO, "RADIUS packet of {} bytes, shorter than its 20-byte header",
                      wire.size());
  }
  ByteReader in(wire);
  RadiusPacket p;
  p.code = static_cast<RadiusCode>(in.u8());
  p.id = in.u8();
  size_t length = in.u16();
  if (length < kHeader || length > kRadiusMaxSize) {
    return make_error(EPROTO, "RADIUS Length {} outside 20-4096", length);
  }
  if (length > wire.size()) {
    return make_error(EPROTO, "RADIUS Length {} beyond the {}-byte datagram", length, wire.size());
  }
  in.copy(p.authenticator.data(), 16);
  size_t i = kHeader;
  while (i < length) {
    if (i + 2 > length) return make_error(EPROTO, "RADIUS attribute header cut at offset {}", i);
    uint8_t type = wire[i];
    size_t len = wire[i + 1];
    if (len < 2)
      return make_error(EPROTO, "RADIUS attribute {} at offset {}: length {} < 2", type, i, len);
    if (i + len > length) {
      return make_error(EPROTO, "RADIUS attribute {} at offset {}: length {} runs past the packet",
                        type, i, len);
    }
    p.attributes.push_back({type, {wire.begin() + i + 2, wire.begin() + i + len}});
    i += len;
  }
  return p;
}

Result<std::vector<uint8_t>> encode_radius(const RadiusPacket& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(static_cast<uint8_t>(p.code));
  w.u8(p.id);
  w.u16(0);
  w.bytes(p.authenticator);
  for (const auto& a : p.attributes) {
    if (a.value.size() > kMaxAttributeValue) {
      return make_error(EINVAL, "RADIUS attribute {}: value of {} bytes, at most 253", a.type,
                        a.value.size());
    }
    w.u8(a.type);
    w.u8(static_cast<uint8_t>(a.value.size() + 2));
    w.bytes(a.value);
  }
  if (out.size() > kRadiusMaxSize) {
    return make_error(EMSGSIZE, "RADIUS packet of {} bytes, at most 4096", out.size());
  }
  w.patch_u16(2, static_cast<uint16_t>(out.size()));
  return out;
}

Result<std::vector<uint8_t>> hide_password(std::string_view password, std::string_view secret,
                                           const Authenticator& ra) {
  if (password.size() > kMaxPassword) {
    return make_error(EINVAL, "User-Password of {} bytes, at most 128", password.size());
  }
  size_t n = std::max<size_t>(16, (password.size() + 15) / 16 * 16);
  std::vector<uint8_t> plain(n, 0), out(n);
  std::memcpy(plain.data(), password.data(), password.size());
  xor_chain(out, plain, secret, ra, true);
  return out;
}

Result<std::string> reveal_password(std::span<const uint8_t> hidden, std::string_view secret,
                                    const Authenticator& ra) {
  if (hidden.size() < 16 || hidden.size() > kMaxPassword || hidden.size() % 16) {
    return make_error(EPROTO, "User-Password of {} bytes, expected 16-128 in steps of 16",
                      hidden.size());
  }
  std::vector<uint8_t> plain(hidden.size());
  xor_chain(plain, hidden, secret, ra, false);
  size_t end = plain.size();
  while (end > 0 && plain[end - 1] == 0) --end;
  return std::string(plain.begin(), plain.begin() + static_cast<ptrdiff_t>(end));
}

Result<std::vector<uint8_t>> seal_request(RadiusPacket p, std::string_view secret,
                                          bool message_authenticator) {
  bool want_ma = message_authenticator || p.find(attr::kEapMessage);
  if (want_ma && !p.find(attr::kMessageAuthenticator)) {
    p.add(attr::kMessageAuthenticator, std::span<const uint8_t>(Digest{}));
  }
  auto wire = encode_radius(p);
  if (!wire) return wire;
  if (size_t at = message_authenticator_at(*wire); want_ma && at) {
    std::fill_n(wire->begin() + static_cast<ptrdiff_t>(at), 16, 0);
    Digest mac = hmac_md5(secret, *wire);
    std::copy(mac.begin(), mac.end(), wire->begin() + static_cast<ptrdiff_t>(at));
  }
  return wire;
}

Result<RadiusPacket> open_response(std::span<const uint8_t> wire, uint8_t request_id,
                                   const Authenticator& ra, std::string_view secret) {
  auto p = decode_radius(wire);
  if (!p) return p;
  if (p->code != RadiusCode::kAccessAccept && p->code != RadiusCode::kAccessReject &&
      p->code != RadiusCode::kAccessChallenge) {
    return make_error(EPROTO, "RADIUS code {} is not an answer to an Access-Request",
                      static_cast<int>(p->code));
  }
  if (p->id != request_id) {
    return make_error(ESRCH, "RADIUS identifier {} answers no outstanding request (sent {})", p->id,
                      request_id);
  }
  size_t length = load_be16(wire.data() + 2);
  std::vector<uint8_t> copy(wire.begin(), wire.begin() + static_cast<ptrdiff_t>(length));
  Digest expect = md5({std::span<const uint8_t>(copy).first(4), ra,
                       std::span<const uint8_t>(copy).subspan(kHeader), bytes_of(secret)});
  if (!std::equal(expect.begin(), expect.end(), copy.begin() + kAuthOffset)) {
    return make_error(EACCES, "RADIUS Response Authenticator does not match (wrong secret?)");
  }
  size_t at = message_authenticator_at(copy);
  if (p->find(attr::kEapMessage) && !at) {
    return make_error(EACCES, "RADIUS answer carries EAP-Message without Message-Authenticator");
  }
  if (at) {
    Digest got;
    std::copy_n(copy.begin() + static_cast<ptrdiff_t>(at), 16, got.begin());
    std::fill_n(copy.begin() + static_cast<ptrdiff_t>(at), 16, 0);
    std::copy(ra.begin(), ra.end(), copy.begin() + kAuthOffset);  // §3.2: the request's
    if (hmac_md5(secret, copy) != got) {
      return make_error(EACCES, "RADIUS Message-Authenticator does not match");
    }
  }
  return p;
}

std::optional<VlanAssignment> assigned_vlan(const RadiusPacket& p) {
  // Tagged integer attributes: Tag(1) Value(3) (RFC 2868 §3.1, §3.2).
  auto tagged_u24 = [](const RadiusAttribute& a) -> std::optional<std::pair<uint8_t, uint32_t>> {
    if (a.value.size() != 4) return std::nullopt;
    return std::pair<uint8_t, uint32_t>{
        a.value[0], uint32_t{a.value[1]} << 16 | uint32_t{a.value[2]} << 8 | a.value[3]};
  };
  const auto* type = p.find(attr::kTunnelType);
  const auto* medium = p.find(attr::kTunnelMediumType);
  const auto* group = p.find(attr::kTunnelPrivateGroupId);
  if (!type || !medium || !group || group->value.empty()) return std::nullopt;
  auto t = tagged_u24(*type);
  auto m = tagged_u24(*medium);
  if (!t || !m || t->second != kTunnelTypeVlan || m->second != kTunnelMedium802)
    return std::nullopt;
  std::span<const uint8_t> text = group->value;
  uint8_t tag = 0;
  if (text[0] < 0x20) {  // RFC 2868 §3.6: a first byte 0x01-0x1F is a tag
    tag = text[0];
    text = text.subspan(1);
  }
  if (t->first != m->first || (tag && tag != t->first)) return std::nullopt;
  VlanAssignment out;
  out.group.assign(text.begin(), text.end());
  unsigned vid = 0;
  const char* b = out.group.data();
  const char* e = b + out.group.size();
  auto [end, ec] = std::from_chars(b, e, vid);
  if (ec == std::errc() && end == e && vid >= 1 && vid <= 4094)
    out.vid = static_cast<uint16_t>(vid);
  return out;
}

}  // namespace vnet::nac
