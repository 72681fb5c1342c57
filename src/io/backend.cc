// make_backend: the backend factory, called from the dataplane and the CLI (no static registry).

#include "io/backend.hh"

#include "overlay/spec.hh"

namespace vnet::io {

Result<std::unique_ptr<Backend>> make_backend(const std::string& spec) {
  if (auto locator = overlay::from_vde_locator(spec)) {
    if (!*locator) return locator->error();
    auto be = make_backend(**locator);
    if (!be) return make_error(be.error().code, "{}: {}", spec, be.error().message);
    return be;
  }
  auto colon = spec.find(':');
  if (colon == std::string::npos) {
    return make_error(
        EINVAL,
        "bad port spec '{}': expected KIND:ARG (afpacket:IF, tap:IF, pcap:IN[,OUT], "
        "qemu-dgram:PATH, vxlan:LOCAL,map=VID:VNI,…, udp:LOCAL:PORT,remote=ADDR:PORT, "
        "udp://…, vxlan://…)",
        spec);
  }
  std::string kind = spec.substr(0, colon), arg = spec.substr(colon + 1);
  if (kind == "afpacket") return open_afpacket(arg);
  if (kind == "tap") return open_tap(arg);
  if (kind == "qemu-dgram") return open_qemu_dgram(arg);
  if (kind == "vxlan") return open_vxlan(arg);
  if (kind == "udp") return open_udp_cable(arg);
  if (kind == "pcap") {
    auto comma = arg.find(',');
    return open_pcap(arg.substr(0, comma), comma == std::string::npos ? "" : arg.substr(comma + 1));
  }
  return make_error(
      EINVAL,
      "bad port spec '{}': unknown kind '{}' (afpacket, tap, pcap, qemu-dgram, qemu-stream, vxlan, "
      "udp, udp://, vxlan://)",
      spec, kind);
}

}  // namespace vnet::io
