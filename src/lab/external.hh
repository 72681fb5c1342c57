#pragma once
// External interfaces (lab/kind_external.cc): what `down` puts back.

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "base/result.hh"

namespace vnet::lab {

// Puts every external interface of a lab's state (facts.externals) back as `up` found it: set
// down again if it was down (its AF_PACKET membership, and with it the promiscuous mode, went
// with the dataplane). An interface that is gone, or is another one now, is left alone; the
// error names each that could not be restored. Call after the dataplane has ended.
Status restore_externals(const nlohmann::json& state, std::ostream& progress);

}  // namespace vnet::lab
