// vnet_stream_probe: the `stream` + `converge` measurement of a vnet lab (lab/probe.hh,
// ProbeStream and analyze_stream) as a standalone tool, so that a network vnet did not build (the
// Linux bridge mesh of bench/e2e/stp-mesh.sh) is measured by exactly the same code.
//
//   vnet_stream_probe [-w WARMUP] [-t TIMEOUT] FROM_NS FROM_IF FROM_MAC TO_NS TO_IF TO_MAC --
//   CMD...
//
// Starts a stream of layer-2 probes (EtherType 0x88B5, one every 1 ms) from FROM_IF in network
// namespace FROM_NS to TO_MAC, received on TO_IF in TO_NS; waits until it flows (5 s at most),
// WARMUP more (default 300ms), runs CMD (the fault, e.g. `ip link set X down`) and takes the time
// it returned as the fault time; then, as the converge step does, waits up to TIMEOUT (default
// 30s) for a probe sent after the fault to arrive, watches 200 ms more, stops the stream and prints
// one line:
//   outage_ms=X lost_in_row=N lost=L duplicated=D out_of_order=O sent=S recovered=0|1
//   max_latency_ms=M
// outage: the longest run of lost probes that ended after the fault (send time of its first lost
// probe to that of the first probe through again). Exit status 0 when the stream flowed again,
// 1 when it did not, 2 on a usage or setup error (message on stderr).

#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "base/parse.hh"
#include "lab/probe.hh"
#include "packet/address.hh"

extern char** environ;

namespace {

using namespace vnet;
using std::chrono::milliseconds;

constexpr std::chrono::microseconds kInterval{1000};
constexpr milliseconds kWatchAfter{200};  // as the converge step
constexpr milliseconds kDrain{50};

int usage(const char* why) {
  std::fprintf(stderr,
               "vnet_stream_probe: %s\nusage: vnet_stream_probe [-w WARMUP] [-t TIMEOUT] FROM_NS "
               "FROM_IF FROM_MAC TO_NS TO_IF TO_MAC -- CMD...\n",
               why);
  return 2;
}

// Runs argv, waits for it; its exit status, or -1 if it could not be started.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  Duration warmup = milliseconds(300), timeout = std::chrono::seconds(30);
  std::vector<std::string> pos, cmd;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) cmd.emplace_back(argv[i]);
      break;
    }
    if (a == "-w" || a == "-t") {
      if (i + 1 >= argc) return usage((a + " needs a duration").c_str());
      auto d = parse_duration(argv[++i], milliseconds(0), std::chrono::seconds(600));
      if (!d) return usage((a + ": " + d.error().message).c_str());
      (a == "-w" ? warmup : timeout) = *d;
      continue;
    }
    pos.push_back(a);
  }
  if (pos.size() != 6) return usage("expected six arguments before --");
  if (cmd.empty()) return usage("no fault command after --");
  auto from_mac = packet::MacAddress::parse(pos[2]);
  auto to_mac = packet::MacAddress::parse(pos[5]);
  if (!from_mac) return usage(("FROM_MAC: " + from_mac.error().message).c_str());
  if (!to_mac) return usage(("TO_MAC: " + to_mac.error().message).c_str());

  auto stream = lab::ProbeStream::start({pos[0], pos[1], *from_mac}, {pos[3], pos[4], *to_mac},
                                        kInterval, std::chrono::seconds(600));
  if (!stream) {
    std::fprintf(stderr, "vnet_stream_probe: %s\n", stream.error().message.c_str());
    return 2;
  }
  auto& s = **stream;
  if (!s.flowing_after(lab::ProbeStream::Clock::now(), milliseconds(5000))) {
    std::fprintf(stderr, "vnet_stream_probe: the stream %s:%s → %s:%s does not flow (5 s)\n",
                 pos[0].c_str(), pos[1].c_str(), pos[3].c_str(), pos[4].c_str());
    return 2;
  }
  std::this_thread::sleep_for(warmup);
  // The fault counts from when CMD has finished: probes sent while it ran may still get through.
  if (int rc = run(cmd); rc != 0) {
    std::fprintf(stderr, "vnet_stream_probe: the fault command %s exited with %d\n", cmd[0].c_str(),
                 rc);
    return 2;
  }
  auto fault = lab::ProbeStream::Clock::now();
  if (auto through = s.flowing_after(fault, std::chrono::duration_cast<milliseconds>(timeout))) {
    std::this_thread::sleep_until(*through + kWatchAfter);
  }
  auto rec = s.stop(kDrain);
  auto x = lab::analyze_stream(rec.sent_ns, rec.arrivals, lab::ProbeStream::ns(fault));
  auto ms = [](std::chrono::nanoseconds d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  std::printf(
      "outage_ms=%.1f lost_in_row=%llu lost=%llu duplicated=%llu out_of_order=%llu sent=%llu "
      "recovered=%d max_latency_ms=%.1f\n",
      ms(x.outage), static_cast<unsigned long long>(x.outage_lost),
      static_cast<unsigned long long>(x.lost), static_cast<unsigned long long>(x.duplicated),
      static_cast<unsigned long long>(x.out_of_order), static_cast<unsigned long long>(x.sent),
      x.recovered ? 1 : 0, ms(x.max_latency));
  return x.recovered ? 0 : 1;
}
