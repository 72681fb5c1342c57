#pragma once
// Console commands of `vnet switch`: vde_switch's port/, vlan/, hash/ commands and vnet's own
// bridge/, port/mode, port/stats, port/attach, fdb/, cable/, stp/, impair/. Each answers in text
// (VDE's formats where VDE has the command) and in JSON.
//
// Several bridges can live in one dataplane; a console session works on the selected one
// (`bridge/select NAME`, initially the first bridge created).

#include <chrono>
#include <string>

#include "base/clock.hh"
#include "bridge/dataplane.hh"
#include "console/console.hh"

namespace vnet::bridge {

struct SwitchInfo {
  std::string version;
  std::string mgmt_path;
  TimePoint started{};
};

void register_commands(console::Registry& registry, Dataplane& dataplane, const Clock& clock,
                       const SwitchInfo& info);
// The event loop's wake-up lead (base/wake_lead.hh) and its stalls while polling, which bound
// how late timed releases leave: for showinfo and impair/show (impair_commands.cc). The text is
// one line without a newline.
nlohmann::json wake_lead_json(const EventLoop& loop);
std::string wake_lead_text(const EventLoop& loop);
// The stp/ commands (stp_commands.cc); register_commands adds them.
void register_stp_commands(console::Registry& registry, Dataplane& dataplane, const Clock& clock);
// The impair/ commands (impair_commands.cc); register_commands adds them.
void register_impair_commands(console::Registry& registry, Dataplane& dataplane,
                              const Clock& clock);

// The capture/ commands (capture_commands.cc); register_commands adds them.
void register_capture_commands(console::Registry& registry, Dataplane& dataplane,
                               const Clock& clock);

// The mirror/ commands (mirror_commands.cc); register_commands adds them.
void register_mirror_commands(console::Registry& registry, Dataplane& dataplane);

// The vtep/ commands of vxlan: ports (vtep_commands.cc); register_commands adds them.
void register_vtep_commands(console::Registry& registry, Dataplane& dataplane, const Clock& clock);

// The port/auth and nac/ commands (nac_commands.cc); register_commands adds them.
void register_nac_commands(console::Registry& registry, Dataplane& dataplane, const Clock& clock);

// A port number argument of a console command (1–65535) naming an existing port of b: EINVAL
// for a malformed number, ENXIO ("bridge B has no port N") for a port b does not have.
Result<PortNo> existing_port(Bridge& b, const std::string& text);

// The bridge a console session works on: the one `bridge/select` chose, else the first.
// ENXIO when there is none (or the selected one is gone).
Result<Bridge*> session_bridge(Dataplane& dataplane, console::Session& session);

}  // namespace vnet::bridge
