// libFuzzer target: rc files (`vnet switch -f`, `load FILE`) through the console registry.
// The input is split at the first "\n--\n" into two files, `a` and `b`, in a private directory
// that is the working directory, so `load a` / `load b` lines reach each other and themselves:
// nesting, self-loading, long lines and bad commands must end in an error, never a crash, a hang
// or unbounded memory.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "console/console.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  static console::Registry reg;
  static bool init = [] {
    char dir[] = "/tmp/fuzz_rcfile.XXXXXX";
    if (!::mkdtemp(dir) || ::chdir(dir) != 0) std::abort();
    reg.add("set", "NAME VALUE", "", [](console::Session& s, const std::vector<std::string>& a) {
      if (a.size() != 2) return Result<console::Reply>(make_error(EINVAL, "usage: set NAME VALUE"));
      s.vars[a[0]] = a[1];
      return Result<console::Reply>(console::Reply{});
    });
    reg.add("get", "NAME", "", [](console::Session& s, const std::vector<std::string>& a) {
      if (a.size() != 1) return Result<console::Reply>(make_error(EINVAL, "usage: get NAME"));
      return Result<console::Reply>(console::Reply{s.vars[a[0]] + "\n", nullptr});
    });
    return true;
  }();
  (void)init;
  std::string in(reinterpret_cast<const char*>(data), size);
  auto cut = in.find("\n--\n");
  std::ofstream("a", std::ios::trunc) << in.substr(0, cut);
  std::ofstream("b", std::ios::trunc) << (cut == std::string::npos ? "" : in.substr(cut + 4));
  console::Session s;
  size_t echoed = 0;
  s.echo = [&](const std::string& line) { echoed += line.size(); };
  (void)reg.run_file(s, "a");
  return 0;
}
