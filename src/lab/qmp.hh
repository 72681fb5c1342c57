#pragma once
// A small blocking client of the QEMU Machine Protocol (QEMU docs/interop/qmp-spec.rst): connect
// to a `-qmp unix:PATH,server=on` socket, read the greeting, negotiate (`qmp_capabilities`), run
// one command and return its "return" value. Events arriving meanwhile are skipped. Every wait
// is bounded by one deadline; a QEMU that does not answer fails with ETIMEDOUT, never hangs.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::lab {

// A connected unix stream socket (QMP, the serial console); the error names the path.
Result<UniqueFd> connect_unix(const std::string& path);

// Runs `command` (e.g. "system_powerdown", "quit"; with `arguments`, a JSON object, e.g.
// "set_link" {"name": "n0", "up": false}) on the QMP socket at path within `deadline`.
// Errors: the socket cannot be reached (ECONNREFUSED/ENOENT), QEMU answered {"error": …} (EIO,
// with its description), no answer in time (ETIMEDOUT), the connection closed first (EPIPE; for
// "quit" that is success: QEMU exits before it answers).
Result<nlohmann::json> qmp_command(const std::string& path, const std::string& command,
                                   std::chrono::milliseconds deadline,
                                   const nlohmann::json& arguments = nullptr);

}  // namespace vnet::lab
