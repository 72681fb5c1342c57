#pragma once
// FILE_CHECK without I/O (keepalived 2.2.7 check/check_file.c, trackers/track_file.c): a real
// server follows the integer in a file named by a global `track_file NAME { file PATH; weight W
// [reverse] }` block. The checker's own `weight W [reverse]` (-65535..65535) overrides the
// block's (-254..254, default 1).
//
// The file's first 127 octets are read as C strtol(…, 0) reads them (leading blanks, a sign,
// 0x… hex, 0… octal; no digits = 0); a missing or empty file is 0; a number outside
// [INT32_MIN, INT32_MAX + 1] is ignored (the previous value stays), as process_track_file().
// Then (process_update_checker_track_file_status()):
//  - weight 0: the checker is down while the value is nonzero (with `reverse`: while it is 0);
//  - otherwise status = value × weight (× -1 with `reverse`): down when status ≤ -65536
//    (IPVS_WEIGHT_FAULT), else up with the real server's weight raised by status (lowered when
//    negative; the effective weight is clamped to 0..65535).
// keepalived watches the file with inotify and applies a change at once; vnet reads it every
// second (the checker's delay_loop), so a change takes effect within a second; the real server
// stays out until the first reading (1 s after start), where keepalived reads before it starts.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vnet::lb {

inline constexpr int64_t kIpvsWeightFault = -65536;  // ip_vs.h IPVS_WEIGHT_FAULT
// How often vnet reads the file (the checker's delay_loop, timeout and delay_before_retry).
inline constexpr std::chrono::seconds kFileCheckPeriod{1};

struct FileCheck {
  std::string track_file;  // the track_file block's name
  std::string path;        // its `file`
  int weight = 1;
  bool reverse = false;
  bool own_weight = false;  // weight/reverse written in the FILE_CHECK (else the block's)
  int real_weight = 1;      // the real server's configured weight, which `status` adjusts
  friend bool operator==(const FileCheck&, const FileCheck&) = default;
};

// The value in `content` (the file's first octets), nullopt when out of range (ignore).
std::optional<int64_t> track_file_value(std::string_view content);

struct FileCheckState {
  bool up = true;
  std::optional<int> weight;  // the real server's weight while up; nullopt = its configured one
};
FileCheckState file_check_state(int64_t value, const FileCheck& check);

}  // namespace vnet::lb
