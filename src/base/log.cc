#include "base/log.hh"

#include <ctime>

namespace vnet::log {
namespace {
Level g_level = Level::kInfo;
std::FILE* g_file = nullptr;
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_file(std::FILE* f) { g_file = f; }

void write(Level l, const std::string& message) {
  static const char* const kNames[] = {"debug", "info", "warn", "error"};
  std::FILE* out = g_file ? g_file : stderr;
  std::fprintf(out, "vnet[%s]: %s\n", kNames[static_cast<int>(l)], message.c_str());
  std::fflush(out);
}

}  // namespace vnet::log
