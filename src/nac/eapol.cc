#include "nac/eapol.hh"

#include <cerrno>

#include "base/byte_io.hh"

namespace vnet::nac {

Result<Eapol> decode_eapol(std::span<const uint8_t> pdu) {
  if (pdu.size() < 4) return make_error(EPROTO, "EAPOL PDU of {} bytes, header is 4", pdu.size());
  Eapol e;
  e.version = pdu[0];
  if (e.version == 0) return make_error(EPROTO, "EAPOL protocol version 0");
  e.type = static_cast<EapolType>(pdu[1]);
  size_t len = load_be16(pdu.data() + 2);
  if (len > pdu.size() - 4) {
    return make_error(EPROTO, "EAPOL body length {} past the {} bytes that follow", len,
                      pdu.size() - 4);
  }
  e.body = pdu.subspan(4, len);
  return e;
}

std::vector<uint8_t> encode_eapol(EapolType type, std::span<const uint8_t> body, uint8_t version) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(version);
  w.u8(static_cast<uint8_t>(type));
  w.u16(static_cast<uint16_t>(body.size()));
  w.bytes(body);
  return out;
}

Result<Eap> decode_eap(std::span<const uint8_t> packet) {
  if (packet.size() < 4)
    return make_error(EPROTO, "EAP packet of {} bytes, header is 4", packet.size());
  Eap e;
  uint8_t code = packet[0];
  if (code < 1 || code > 4) return make_error(EPROTO, "EAP code {} unknown", code);
  e.code = static_cast<EapCode>(code);
  e.id = packet[1];
  size_t len = load_be16(packet.data() + 2);
  if (len < 4 || len > packet.size()) {
    return make_error(EPROTO, "EAP Length {} outside 4-{}", len, packet.size());
  }
  e.whole = packet.first(len);
  if (e.code == EapCode::kRequest || e.code == EapCode::kResponse) {
    if (len < 5)
      return make_error(EPROTO, "EAP {} without its Type", code == 1 ? "Request" : "Response");
    e.type = packet[4];
    e.data = packet.subspan(5, len - 5);
  } else {
    e.data = packet.subspan(4, len - 4);
  }
  return e;
}

std::vector<uint8_t> encode_eap(EapCode code, uint8_t id, uint8_t type,
                                std::span<const uint8_t> data) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(static_cast<uint8_t>(code));
  w.u8(id);
  w.u16(0);
  if (code == EapCode::kRequest || code == EapCode::kResponse) {
    w.u8(type);
    w.bytes(data);
  }
  w.patch_u16(2, static_cast<uint16_t>(out.size()));
  return out;
}

}  // namespace vnet::nac
