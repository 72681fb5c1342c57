#pragma once
// Captures declared in a lab (docs/capture.md "In labs"): the top-level `captures` key, and the
// `vnet capture` services `up` starts for it.
//
//   captures:
//     dir: captures                # relative to the lab file's directory (default: captures)
//     ports:
//       - h1:eth0                  # NODE:IF: the switch port the lab plugs that interface into
//       - sw1:3                    # SWITCH:PORT
//       - {port: h2:eth0, point: pre, direction: in, filter: icmp}
//
// Everything is checked when the file is loaded: the node and interface (linked to a switch) or
// the switch port (one the lab's links use, after the planner numbered them), the point and
// direction, and the filter (compiled by libpcap, as the switch will); a port captured twice at
// one point is refused. Each entry becomes one file, <dir>/<lab>-<node>-<if>.pcapng (or
// <lab>-<switch>-<port>), with "-pre" before the extension for a pre capture.
//
// Services: `up` starts one `vnet capture CONSOLE SWITCH:PORT -w FILE …` per entry in the
// dataplane's namespace, recorded in the lab's state like every other process ("capture …"),
// once the switch ports exist and before any node is configured, so a file holds the lab's first
// frames; `up` waits until each has its file open (the switch accepted the capture). `down`
// stops them before anything else (SIGTERM: the client asks the switch to end the capture, the
// switch appends the statistics blocks), so each file is complete; then the rest goes.
// The state directory is removed by `down`, so the files are written outside it.

#include <yaml-cpp/yaml.h>

#include <string>

#include "base/result.hh"
#include "bridge/port_config.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class LabRuntime;

// The root table's `captures` key, and the tables of its value and of one entry (`$defs`
// "captures" and "capture").
KeySpec captures_key();
const KeyTable& captures_keys();
const KeyTable& capture_keys();

// Parses the root's `captures` value (if any) into topo.captures and topo.capture_dir; the
// links must be parsed (NODE:IF names a linked interface).
void parse_captures(const YAML::Node& value, Topology& topo, Reader& r);
// After the planner numbered the switch ports: SWITCH:PORT is a port of the lab, and no port is
// captured twice at one point.
void check_capture_ports(const Topology& topo, Reader& r);

struct CapturePort {
  std::string bridge;
  bridge::PortNo port = 0;
};
CapturePort capture_port(const Topology& topo, const LabCapture& c);
// The file the capture writes (absolute when the lab file's path is).
std::string capture_file(const Topology& topo, const LabCapture& c);

// Starts the lab's capture services (the runtime awaits them with the nodes' services).
Status start_captures(LabRuntime& rt);

}  // namespace vnet::lab
