// Console commands of mirror ports (SPAN, Dataplane::add_mirror), on the session's bridge:
//   mirror/create SRC DST in|out|both   copies of what SRC receives / sends leave on DST as they
//                                       are (no VLAN filtering or tagging on the way)
//   mirror/show                         mirrors and how many copies each made (text, --json)
//   mirror/delete SRC DST
// A mirror destination cannot be a source (the loop guard).
#include <fmt/format.h>

#include "bridge/commands.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

Result<std::pair<PortNo, PortNo>> two_ports(Bridge& br, const Args& a) {
  auto src = existing_port(br, a[0]);
  if (!src) return src.error();
  auto dst = existing_port(br, a[1]);
  if (!dst) return dst.error();
  return std::pair{*src, *dst};
}

}  // namespace

void register_mirror_commands(console::Registry& reg, Dataplane& dp) {
  reg.add("mirror/create", "SRC DST in|out|both",
          "copy what port SRC receives (in) and/or sends (out) out of port DST",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            if (a.size() != 3)
              return make_error(EINVAL, "usage: mirror/create SRC DST in|out|both");
            auto br = session_bridge(dp, s);
            if (!br) return br.error();
            auto p = two_ports(**br, a);
            if (!p) return p.error();
            if (a[2] != "in" && a[2] != "out" && a[2] != "both") {
              return make_error(EINVAL, "direction '{}': expected in, out or both", a[2]);
            }
            if (auto st = dp.add_mirror(**br, p->first, p->second, a[2] != "out", a[2] != "in");
                !st) {
              return st.error();
            }
            return Reply{};
          });
  reg.add("mirror/show", "", "mirror ports", [&dp](Session&, const Args&) -> Result<Reply> {
    Reply r;
    r.json = json::array();
    for (const auto& m : dp.mirrors()) {
      std::string dir = m.inbound && m.outbound ? "both" : m.inbound ? "in" : "out";
      r.text += fmt::format("{}: port {} {} -> port {} ({} copies)\n", m.bridge, m.src, dir, m.dst,
                            m.copied);
      r.json.push_back({{"bridge", m.bridge},
                        {"src", m.src},
                        {"dst", m.dst},
                        {"direction", dir},
                        {"copied", m.copied}});
    }
    return r;
  });
  reg.add("mirror/delete", "SRC DST", "remove a mirror",
          [&dp](Session& s, const Args& a) -> Result<Reply> {
            if (a.size() != 2) return make_error(EINVAL, "usage: mirror/delete SRC DST");
            auto br = session_bridge(dp, s);
            if (!br) return br.error();
            auto p = two_ports(**br, a);
            if (!p) return p.error();
            if (auto st = dp.remove_mirror(**br, p->first, p->second); !st) return st.error();
            return Reply{};
          });
}

}  // namespace vnet::bridge
