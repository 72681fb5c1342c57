#pragma once
// Leveled logging to stderr (or a file for daemons). fmt-formatted.
//
// Every line starts with the wall clock (UTC, ISO 8601) and CLOCK_MONOTONIC, both to the
// microsecond, because failover and convergence forensics line up logs of several daemons:
//   2026-11-30T11:06:48.123456Z mono 5123.456789 vnet[info]: campus port 3: attached afpacket:…
// The monotonic stamp is the one to subtract; the wall clock is for matching other logs.

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace vnet::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
void set_file(std::FILE* f);
void write(Level level, const std::string& message);
// "2026-11-30T11:06:48.123456Z mono 5123.456789" for now.
std::string stamp();

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace vnet::log
