#include "lb/file_check.hh"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace vnet::lb {

std::optional<int64_t> track_file_value(std::string_view content) {
  std::string text(content.substr(0, 127));  // track_file.c reads into char buf[128]
  text = text.c_str();                       // as C sees it: up to the first NUL
  errno = 0;
  long long v = std::strtoll(text.c_str(), nullptr, 0);
  if (errno == ERANGE || v < int64_t(INT32_MIN) || v > int64_t(INT32_MAX) + 1) return std::nullopt;
  return int64_t(v);
}

FileCheckState file_check_state(int64_t value, const FileCheck& check) {
  if (check.weight == 0) {
    bool fault = check.reverse ? value == 0 : value != 0;
    return {!fault, std::nullopt};
  }
  int64_t status = value * check.weight * (check.reverse ? -1 : 1);
  if (status <= kIpvsWeightFault) return {false, std::nullopt};
  if (status == 0) return {true, std::nullopt};
  int64_t w = std::clamp<int64_t>(check.real_weight + status, 0, 65535);
  return {true, int(w)};
}

}  // namespace vnet::lb
