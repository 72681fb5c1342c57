// libFuzzer target: the topology parser and validator, with a file it names and deep nesting.
//
// The input is up to two files separated by a NUL byte: lab.yaml and r1.conf, written to a
// private temporary directory, so `vrrp: r1.conf` (or `file: r1.conf`) reads a real file through
// the bounded reader. Inside a file, "\x01" K TEXT "\x02" stands for TEXT repeated 4 * (K + 1)
// times (up to 64 KiB per file), so a few bytes reach thousands of nested flow collections, long
// alias chains or many nodes. An input that could name a file outside the directory (".." or "~"
// or an absolute path after a key) is skipped: the file system outside is not the fuzzer's to read.
//
// Run: mkdir -p /tmp/topo-corpus && ./build/fuzz/tests/fuzz_topology -max_total_time=60 \
//        /tmp/topo-corpus

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "lab/topology.hh"

namespace {

constexpr size_t kMaxExpanded = 64 << 10;

const std::string& directory() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/vnet-fuzz-topo.XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    static std::string removed = tmpl;
    std::atexit([] { std::filesystem::remove_all(removed); });
    return std::string(tmpl);
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
    for (size_t n = 0; n < times && !text.empty() && out.size() < kMaxExpanded; ++n)
      out.append(text);
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  if (out.size() > kMaxExpanded) out.resize(kMaxExpanded);
  return out;
}

bool leaves_directory(std::string_view s) {
  return s.find("..") != std::string_view::npos || s.find('~') != std::string_view::npos ||
         s.find(": /") != std::string_view::npos || s.find(":/") != std::string_view::npos ||
         s.find("- /") != std::string_view::npos || s.find(" /") != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string lab = expand(in.substr(0, nul));
  std::string conf = nul == std::string_view::npos ? "" : expand(in.substr(nul + 1));
  if (leaves_directory(lab)) return 0;
  const std::string& dir = directory();
  std::ofstream(dir + "/lab.yaml", std::ios::trunc) << lab;
  std::ofstream(dir + "/r1.conf", std::ios::trunc) << conf;
  (void)vnet::lab::load_topology(dir + "/lab.yaml");
  // The same text from memory, as `validate` of a pasted file would see it.
  (void)vnet::lab::parse_topology(lab, dir + "/lab.yaml");
  return 0;
}
