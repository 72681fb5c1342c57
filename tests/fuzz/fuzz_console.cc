// libFuzzer target: console command lines against a live switch registry
#include <cstddef>
#include <cstdint>

#include <string>
#include "base/event_loop.hh"
#include "bridge/commands.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  static ManualClock clock;
  static EventLoop loop(clock);
  static bridge::Dataplane dp(loop);
  static console::Registry reg;
  static bridge::SwitchInfo info{"fuzz", "", clock.now()};
  static bool init = [] {
    bridge::register_commands(reg, dp, clock, info);
    (void)dp.create_bridge("br0");
    return true;
  }();
  (void)init;
  console::Session s;
  std::string line(reinterpret_cast<const char*>(data), size);
  if (line.rfind("load", 0) == 0 || line.rfind("shutdown", 0) == 0 ||
      line.find("attach") != std::string::npos)
    return 0;
  (void)reg.run(s, line);
  return 0;
}
