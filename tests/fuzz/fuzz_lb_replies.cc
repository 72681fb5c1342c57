// libFuzzer target: what the load balancer's checkers read from real servers — an SMTP reply
// stream (cut into reads where the input has 0xff), a DNS reply, an ICMP echo reply (with and
// without an IPv4 header), a UDP reply against a pattern, a track_file's content and the hex of
// keepalived.conf's UDP_CHECK payload/require_reply. Nothing may crash, read out of bounds or grow
// without bound; the SMTP dialog must end within its line limit.
//
// Run: ./build/fuzz/tests/fuzz_lb_replies -max_total_time=60

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "lb/dns_check.hh"
#include "lb/file_check.hh"
#include "lb/ping_check.hh"
#include "lb/smtp_check.hh"
#include "lb/udp_check.hh"

using namespace vnet::lb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);

  SmtpDialog smtp("fuzz");
  size_t sent = 0, at = 0;
  while (at <= text.size() && !smtp.done()) {
    size_t cut = text.find('\xff', at);
    std::string_view piece = text.substr(at, cut == std::string_view::npos ? cut : cut - at);
    auto step = smtp.feed(piece);
    sent += step.send.size();
    if (cut == std::string_view::npos) break;
    at = cut + 1;
  }
  // At most HELO and QUIT go out; a dialog that has not ended holds less than one line of input.
  if (sent > 12 + 4 + 6) abort();

  if (size >= 2) {
    uint16_t id = uint16_t(data[0] << 8 | data[1]);
    auto v = dns_reply_verdict(in, id);
    if (v.kind != DnsVerdict::kIgnore && size < kDnsHeaderSize) abort();
  }
  for (bool v6 : {false, true}) {
    for (bool header : {false, true}) {
      (void)icmp_echo_reply_problem(in, v6, header,
                                    size ? std::optional<uint16_t>(data[0]) : std::nullopt, 7);
    }
  }
  auto pattern = parse_hex(text.substr(0, size / 2), true);
  if (pattern) {
    if (pattern->data.size() != pattern->mask.size()) abort();
    UdpCheck c;
    c.require_reply = true;
    c.reply = *pattern;
    (void)udp_reply_problem(in.subspan(size / 2), c);
  }
  if (auto v = track_file_value(text)) {
    FileCheck f;
    f.weight = size ? int(int8_t(data[0])) * 257 : 0;
    f.reverse = size > 1 && (data[1] & 1);
    auto st = file_check_state(*v, f);
    if (st.weight && (*st.weight < 0 || *st.weight > 65535)) abort();
  }
  (void)dns_name_problem(text);
  return 0;
}
