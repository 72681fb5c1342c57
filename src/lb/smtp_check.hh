#pragma once
// SMTP_CHECK's dialog without I/O (keepalived 2.2.7 check/check_smtp.c smtp_engine_thread()):
// read the greeting, expect 220; send `HELO helo_name`; expect 250; send `QUIT`; any complete
// reply to QUIT ends the probe with success. The I/O layer feeds the bytes it reads and sends what
// feed() returns.
//
// Replies are RFC 5321 §4.2: lines ending in LF (a CR before it is dropped), each starting with a
// three-digit code followed by '-' (more lines follow), ' ' or the end of the line (the last
// line). keepalived reads only the first line and so refuses a multi-line "220-" greeting; here a
// multi-line reply is read to its last line and judged by its code (the codes of all its lines
// must agree). A line longer than kMaxSmtpLine (512 octets with CRLF, RFC 5321 §4.5.3.1.5), a
// line that does not start with a code, or a wrong code fails the probe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vnet::lb {

// check_smtp.h SMTP_DEFAULT_HELO.
inline constexpr std::string_view kSmtpDefaultHelo = "smtpchecker.keepalived.org";
inline constexpr size_t kMaxSmtpLine = 512;

struct SmtpCheck {
  std::string helo_name{kSmtpDefaultHelo};
  friend bool operator==(const SmtpCheck&, const SmtpCheck&) = default;
};

class SmtpDialog {
 public:
  explicit SmtpDialog(std::string helo_name) : helo_(std::move(helo_name)) {}

  struct Step {
    std::string send;  // bytes to send now (may be empty)
    // Set once the dialog ends: nullopt detail = success.
    bool done = false;
    std::optional<std::string> failure;  // "greeting 554", "malformed reply line 'xyz'", ...
  };
  // Bytes read from the server. After a step with done set, further input is ignored.
  Step feed(std::string_view bytes);
  // What the dialog waits for, for "closed while waiting for ..." messages.
  std::string_view waiting_for() const;
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kGreeting, kHelo, kQuit, kDone };
  State state_ = State::kGreeting;
  std::string helo_;
  std::string buf_;  // unread input
  int code_ = -1;    // code of the reply being read (its first line), -1 = none yet
};

}  // namespace vnet::lb
