// libFuzzer target: rc files (`vnet switch -f`, `load FILE`) through the console registry.
// The input is split at the first "\n--\n" into two files, a and b, in a private directory;
// every "@" in the input becomes that directory's path with a slash, so `load @a` and `load @b`
// lines reach each other and themselves: nesting, self-loading, long lines and bad commands must
// end in an error, never a crash, a hang or unbounded memory.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "console/console.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  using console::Reply;
  static console::Registry reg;
  static std::string dir = [] {
    char d[] = "/tmp/fuzz_rcfile.XXXXXX";
    if (!::mkdtemp(d)) std::abort();
    reg.add("set", "NAME VALUE", "", [](console::Session& s, const std::vector<std::string>& a) {
      if (a.size() != 2) return Result<Reply>(make_error(EINVAL, "usage: set NAME VALUE"));
      s.vars[a[0]] = a[1];
      return Result<Reply>(Reply{});
    });
    reg.add("get", "NAME", "", [](console::Session& s, const std::vector<std::string>& a) {
      if (a.size() != 1) return Result<Reply>(make_error(EINVAL, "usage: get NAME"));
      return Result<Reply>(Reply{s.vars[a[0]] + "\n", nullptr});
    });
    return std::string(d) + "/";
  }();
  std::string in;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '@') {
      in += dir;
    } else {
      in += static_cast<char>(data[i]);
    }
  }
  auto cut = in.find("\n--\n");
  std::ofstream(dir + "a", std::ios::trunc) << in.substr(0, cut);
  std::ofstream(dir + "b", std::ios::trunc) << (cut == std::string::npos ? "" : in.substr(cut + 4));
  console::Session s;
  size_t echoed = 0;
  s.echo = [&](const std::string& line) { echoed += line.size(); };
  (void)reg.run_file(s, dir + "a");
  return 0;
}
