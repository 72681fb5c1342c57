#pragma once
// Reading configuration files that a user (or an attacker) names: only regular files, never
// devices, FIFOs, sockets or directories (`include /dev/zero` must not hang or exhaust memory),
// and never more than a size limit. Opening does not block (O_NONBLOCK, so a FIFO cannot stall
// the caller before it is refused) and the type is checked on the opened descriptor, so a
// file swapped between a check and the open is caught.

#include <cstddef>
#include <string>

#include "base/result.hh"

namespace vnet {

// Limits every config parser uses unless it has a reason for its own.
constexpr size_t kMaxConfigBytes = 4u << 20;  // one file
constexpr int kMaxIncludeDepth = 8;           // include inside include …
constexpr size_t kMaxIncludedFiles = 256;     // files one configuration may pull in, in all
constexpr int kMaxNesting = 64;               // blocks, braces, YAML collections

// Reads the whole file. Errors (code, message):
//   ENOENT/EACCES… "PATH: cannot open: No such file or directory"
//   EINVAL  "PATH: not a regular file (a character device)"
//   EFBIG   "PATH: larger than 4 MiB" (the limit given)
Result<std::string> read_regular_file(const std::string& path, size_t max_bytes = kMaxConfigBytes);

}  // namespace vnet
