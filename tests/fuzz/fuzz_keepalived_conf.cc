// libFuzzer target: keepalived.conf parser, with includes and deep nesting.
//
// The input is up to three files separated by NUL bytes: main.conf, a.conf and b.conf, written to
// a private temporary directory, so `include a.conf`, `include *.conf` or `include {a,b}.conf`
// reach real files, loops included. Inside a file, "\x01" K TEXT "\x02" stands for TEXT repeated
// 4 * (K + 1) times (up to 4 KiB per file, so that 256 included copies stay fast), so a few
// bytes reach 1,000 nested braces (the limit is 64) or a wide include bomb. An input whose includes
// could leave the directory (an absolute path, "~", "..") is skipped: the file system outside is
// not the fuzzer's to read.
//
// Run (new inputs go to the first directory, the seeds stay as they are):
//   mkdir -p /tmp/ka-corpus && ./build/fuzz/tests/fuzz_keepalived_conf -max_total_time=60 \
//     -dict=tests/fuzz/fuzz_keepalived_conf.dict /tmp/ka-corpus tests/fuzz/corpus/keepalived_conf

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "vrrp/keepalived_conf.hh"

namespace {

constexpr size_t kMaxExpanded = 4 << 10;  // per file: 256 included copies stay fast

const std::string& directory() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/vnet-fuzz-ka.XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    std::string d = tmpl;
    static std::string removed = d;
    std::atexit([] { std::filesystem::remove_all(removed); });
    return d;
  }();
  return dir;
}

std::string expand(std::string_view in) {
  std::string out;
  size_t i = 0;
  while (i < in.size() && out.size() < kMaxExpanded) {
    size_t mark = in.find('\x01', i);
    if (mark == std::string_view::npos || mark + 1 >= in.size()) {
      out.append(in.substr(i, mark == std::string_view::npos ? std::string_view::npos : mark - i));
      break;
    }
    out.append(in.substr(i, mark - i));
    size_t times = 4 * (static_cast<unsigned char>(in[mark + 1]) + 1);
    size_t end = in.find('\x02', mark + 2);
    std::string_view text = in.substr(
        mark + 2, end == std::string_view::npos ? std::string_view::npos : end - mark - 2);
    for (size_t n = 0; n < times && !text.empty() && out.size() < kMaxExpanded; ++n) {
      out.append(text);
    }
    i = end == std::string_view::npos ? in.size() : end + 1;
  }
  if (out.size() > kMaxExpanded) out.resize(kMaxExpanded);
  return out;
}

// True when an include line could leave the directory.
bool escapes(std::string_view text) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    size_t at = line.find("include");
    if (at != std::string_view::npos) {
      std::string_view rest = line.substr(at + 7);
      size_t p = rest.find_first_not_of(" \t\v\f\r\"");
      if (rest.find("..") != std::string_view::npos ||
          (p != std::string_view::npos && (rest[p] == '/' || rest[p] == '~'))) {
        return true;
      }
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t pos = 0; parts.size() < 3;) {
    size_t nul = in.find('\0', pos);
    parts.push_back(expand(in.substr(pos, nul == std::string_view::npos ? nul : nul - pos)));
    if (nul == std::string_view::npos) break;
    pos = nul + 1;
  }
  parts.resize(3);
  for (auto& p : parts) {
    if (escapes(p)) return 0;
  }
  const std::string& dir = directory();
  std::ofstream(dir + "/main.conf", std::ios::trunc) << parts[0];
  std::ofstream(dir + "/a.conf", std::ios::trunc) << parts[1];
  std::ofstream(dir + "/b.conf", std::ios::trunc) << parts[2];
  (void)vnet::vrrp::load_keepalived_conf(dir + "/main.conf");
  return 0;
}
