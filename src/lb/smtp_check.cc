#include "lb/smtp_check.hh"

#include <fmt/format.h>

#include <cctype>

namespace vnet::lb {

namespace {
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (s.size() > 40) out += "...";
  return out;
}
}  // namespace

std::string_view SmtpDialog::waiting_for() const {
  switch (state_) {
    case State::kGreeting:
      return "the greeting";
    case State::kHelo:
      return "the HELO reply";
    case State::kQuit:
      return "the QUIT reply";
    default:
      return "nothing";
  }
}

SmtpDialog::Step SmtpDialog::feed(std::string_view bytes) {
  Step step;
  if (state_ == State::kDone) return step;
  buf_.append(bytes);
  auto fail = [&](std::string why) {
    state_ = State::kDone;
    step.done = true;
    step.failure = std::move(why);
    buf_.clear();
    return step;
  };
  size_t at = 0;
  for (;;) {
    size_t nl = buf_.find('\n', at);
    if (nl == std::string::npos) {
      if (buf_.size() - at >= kMaxSmtpLine)
        return fail(fmt::format("reply line longer than {} bytes", kMaxSmtpLine));
      break;
    }
    if (nl + 1 - at > kMaxSmtpLine)
      return fail(fmt::format("reply line longer than {} bytes", kMaxSmtpLine));
    std::string_view line(buf_.data() + at, nl - at);
    at = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool digits = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                  std::isdigit(static_cast<unsigned char>(line[1])) &&
                  std::isdigit(static_cast<unsigned char>(line[2]));
    if (!digits || (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
      return fail(fmt::format("malformed reply line '{}' while waiting for {}", printable(line),
                              waiting_for()));
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code_ >= 0 && code != code_)
      return fail(fmt::format("reply lines with codes {} and {} in one reply", code_, code));
    code_ = code;
    if (line.size() > 3 && line[3] == '-') continue;  // more lines of this reply follow
    code_ = -1;
    switch (state_) {
      case State::kGreeting:
        if (code != 220) return fail(fmt::format("greeting {} (expected 220)", code));
        state_ = State::kHelo;
        step.send += "HELO " + helo_ + "\r\n";
        break;
      case State::kHelo:
        if (code != 250) return fail(fmt::format("HELO reply {} (expected 250)", code));
        state_ = State::kQuit;
        step.send += "QUIT\r\n";
        break;
      case State::kQuit:
        state_ = State::kDone;
        step.done = true;
        buf_.clear();
        return step;
      case State::kDone:
        break;
    }
  }
  buf_.erase(0, at);
  return step;
}

}  // namespace vnet::lb
