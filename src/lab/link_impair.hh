#pragma once
// Link impairment in labs (docs/impairment.md "In labs"): the `impair` key of a link, and where
// on the dataplane one direction of a link is impaired.
//
// A link's `impair` value is the words of the switch console's `impair/set` (impair/settings.hh:
// one parser), written either as one string or as a map of key: value (`{loss: 10%, delay: 20ms
// 5ms}` is `loss 10% delay 20ms 5ms`); both apply to both directions. `from: {END: WORDS}` adds
// words for the frames END sends (END is one of the link's two nodes), on top of the common
// ones. Everything is parsed when the file is loaded, so `validate` reports every bad word at
// its file:line and `up` never applies a part of it.
//
// Direction → dataplane: both directions of a link are impaired on one switch port, the one the
// link plugs into (node link) or the port at the link's first switch (switch link, Link::a). On
// that port `in` is what the switch receives and `out` what it sends (bridge/impair_commands.cc;
// on an in-process cable `in` is the peer port's `out`, the same wire), so frames from the node
// into the switch are the port's `in`, frames toward the node its `out`; on a switch link frames
// from a to b are port_a's `out`, from b to a its `in`.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

#include "bridge/port_config.hh"
#include "impair/settings.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class SwitchClient;

// The link table's `impair` key (schema, doc).
KeySpec link_impair_key();

// Parses link map `yaml`'s `impair` (if any) into link.impair_ab / impair_ba (link.a and link.b
// already set). Diagnostics at the offending key's file:line name the link and the word.
void parse_link_impair(const YAML::Node& yaml, Link& link, Reader& r);

// Where the frames one end of a link sends are impaired.
struct ImpairPort {
  std::string bridge;
  bridge::PortNo port = 0;
  std::string_view direction;  // "in" or "out" as `impair/set` takes it
};
// `from_a`: the frames link.a sends (toward link.b); else those link.b sends.
ImpairPort impair_port(const Link& l, bool from_a);

// `impair/set` for every direction the link declares (the lab's `up`). Returns how many
// directions were impaired.
Result<size_t> apply_link_impair(const Link& l, SwitchClient& dp);

}  // namespace vnet::lab
