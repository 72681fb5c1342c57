// libFuzzer target: the spanning tree scenario language (tests/unit/stp/scenario.hh).
//
// Properties: no text crashes the parser; every error it reports names the file and a line
// ("f.scn:N: …" or "f.scn: …"); a scenario it accepts runs to the end on the simulator without
// crashing or stalling, when it is small enough to run in a fuzz iteration (at most 8 bridges and
// two minutes of virtual time) — so the runner and, through it, the RSTP engine meet whatever
// topologies and event orders the fuzzer finds.
//
// Run: mkdir -p /tmp/scn-corpus && ./build/fuzz/tests/fuzz_stp_scenario -max_total_time=60 \
//        -dict=tests/fuzz/fuzz_stp_scenario.dict /tmp/scn-corpus tests/stp/scenarios
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "unit/stp/scenario.hh"

namespace {

using namespace vnet::stp::scenario;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Virtual time the scenario may take (runs and waits) and its bridges.
bool small(const Scenario& s) {
  vnet::Duration time{};
  size_t bridges = 0;
  for (const Statement& st : s.statements) {
    if (auto* r = std::get_if<Run>(&st.action)) time += r->duration;
    if (auto* e = std::get_if<Expect>(&st.action); e && e->within) time += *e->within;
    bridges += std::holds_alternative<AddBridge>(st.action);
  }
  return bridges <= 8 && time <= std::chrono::minutes(2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = parse(text, "f.scn");
  if (!s.ok()) {
    // Every line of the message names the file.
    std::string_view m = s.error().message;
    check(!m.empty());
    size_t pos = 0;
    while (pos < m.size()) {
      check(m.substr(pos).starts_with("f.scn:"));
      size_t nl = m.find('\n', pos);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    return 0;
  }
  check(!s->statements.empty());
  if (small(*s)) {
    Outcome out = run(*s);
    for (const std::string& f : out.failures) check(f.starts_with("f.scn:"));
  }
  return 0;
}
