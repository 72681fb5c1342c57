#include "base/log.hh"

#include <time.h>

#include <ctime>

namespace vnet::log {
namespace {
Level g_level = Level::kInfo;
std::FILE* g_file = nullptr;
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_file(std::FILE* f) { g_file = f; }

std::string stamp() {
  timespec wall{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  tm utc{};
  ::gmtime_r(&wall.tv_sec, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:06}Z mono {}.{:06}", date, wall.tv_nsec / 1000, mono.tv_sec,
                     mono.tv_nsec / 1000);
}

void write(Level l, const std::string& message) {
  static const char* const kNames[] = {"debug", "info", "warn", "error"};
  std::FILE* out = g_file ? g_file : stderr;
  std::fprintf(out, "%s vnet[%s]: %s\n", stamp().c_str(), kNames[static_cast<int>(l)],
               message.c_str());
  std::fflush(out);
}

}  // namespace vnet::log
