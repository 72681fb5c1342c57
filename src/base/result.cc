#include "base/result.hh"

#include <cstring>

namespace vnet {

Error system_error(std::string_view what) {
  int e = errno;
  return Error{e, fmt::format("{}: {}", what, std::strerror(e))};
}

}  // namespace vnet
