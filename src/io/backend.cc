// make_backend: the backend factory, called from the dataplane and the CLI (no static registry).

#include "io/backend.hh"

namespace vnet::io {

Result<std::unique_ptr<Backend>> make_backend(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos) {
    return make_error(EINVAL,
                      "bad port spec '{}': expected KIND:ARG (afpacket:IF, tap:IF, pcap:IN[,OUT], "
                      "qemu-dgram:PATH, vxlan:LOCAL,map=VID:VNI,…)",
                      spec);
  }
  std::string kind = spec.substr(0, colon), arg = spec.substr(colon + 1);
  if (kind == "afpacket") return open_afpacket(arg);
  if (kind == "tap") return open_tap(arg);
  if (kind == "qemu-dgram") return open_qemu_dgram(arg);
  if (kind == "vxlan") return open_vxlan(arg);
  if (kind == "pcap") {
    auto comma = arg.find(',');
    return open_pcap(arg.substr(0, comma), comma == std::string::npos ? "" : arg.substr(comma + 1));
  }
  return make_error(
      EINVAL,
      "bad port spec '{}': unknown kind '{}' (afpacket, tap, pcap, qemu-dgram, qemu-stream, vxlan)",
      spec, kind);
}

}  // namespace vnet::io
