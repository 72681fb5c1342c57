#pragma once
// The QEMU guest agent's wire protocol, without I/O (lab/qga.hh does the socket).
//
// qemu-ga (Debian package qemu-guest-agent) listens in the guest on a virtio-serial port named
// `org.qemu.guest_agent.0`; QEMU joins the port to a chardev, here a unix socket in the lab's
// state directory. The protocol is QMP's framing (QEMU docs/interop/qmp-spec.rst: one JSON
// object per command, replies {"return": …} or {"error": {"class", "desc"}}) without QMP's
// greeting or capabilities negotiation, and with one addition for resynchronising a stream that
// may hold the tail of an earlier, abandoned exchange (QEMU qga/qapi-schema.json,
// guest-sync-delimited): the client sends the byte 0xFF, which makes the agent drop any partial
// request it is parsing, then
//     {"execute":"guest-sync-delimited","arguments":{"id":ID}}
// and the agent answers 0xFF followed by {"return": ID}. The client discards every byte before
// that 0xFF (stale replies), then reads replies until the one with its ID.
//
// Running a command (qapi-schema.json guest-exec, guest-exec-status; QEMU 2.5+):
//     {"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c",CMD],
//                                          "capture-output":true}}     → {"return":{"pid":N}}
//     {"execute":"guest-exec-status","arguments":{"pid":N}}
//         → {"return":{"exited":false}} while it runs, then
//           {"return":{"exited":true,"exitcode":S,"out-data":B64,"err-data":B64,
//                      "out-truncated":bool,"err-truncated":bool}}
//           ("signal":N instead of "exitcode" when a signal ended it; the data keys are absent
//           when the stream was empty). After it reported exited, the agent forgets the pid.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hh"

namespace vnet::lab::qga {

constexpr char kDelimiter = '\xff';  // guest-sync-delimited's marker, both ways
// The virtio-serial port name qemu-ga opens by default (qga/main.c QGA_VIRTIO_PATH_DEFAULT).
constexpr std::string_view kPortName = "org.qemu.guest_agent.0";

// Request bytes, each one line ending in "\n".
std::string sync_request(uint64_t id);                       // starts with kDelimiter
std::string exec_request(const std::string& shell_command);  // /bin/sh -c COMMAND, output captured
std::string exec_status_request(int64_t pid);

// Splits what the agent sends into replies. Before the first reply after a sync it discards
// everything up to and including kDelimiter; then it yields one JSON value per object (the
// agent ends each with "\n"; blank lines and stray delimiters between replies are skipped).
class ReplyReader {
 public:
  // Waits for the delimiter again (call after sending a sync request).
  void expect_delimiter() { synced_ = false; }
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next complete reply; nullopt while one is incomplete. EPROTO for a line that is not
  // JSON (naming the line, cut to 200 bytes), and for an incomplete one longer than kMaxReply.
  Result<std::optional<nlohmann::json>> next();
  // qemu-ga keeps at most 16 MiB of each stream of a command (GUEST_EXEC_MAX_OUTPUT), which
  // base64 makes about 21.4 MiB: a reply with both fits; a guest sending more is not believed.
  static constexpr size_t kMaxReply = size_t{64} << 20;

 private:
  std::string buf_;
  size_t scanned_ = 0;  // buf_[0, scanned_) holds no newline
  bool synced_ = true;
};

// The value of a reply: its "return", or EIO with the agent's {"error": {"desc"}} (naming
// `command`), or EPROTO for an object that is neither.
Result<nlohmann::json> reply_value(const nlohmann::json& reply, std::string_view command);

// Whether a sync reply's value is the id sent.
bool is_sync_reply(const nlohmann::json& value, uint64_t id);

// guest-exec's value → the pid; EPROTO when it has no integer "pid".
Result<int64_t> exec_pid(const nlohmann::json& value);

struct ExecStatus {
  int status = 0;  // the exit code, or 128 + signal as a shell reports it
  std::string out, err;
  bool out_truncated = false, err_truncated = false;  // the agent kept only its first 16 MiB
  friend bool operator==(const ExecStatus&, const ExecStatus&) = default;
};
// guest-exec-status's value → nullopt while the command runs, its result once it exited.
// EPROTO for a value that is not an object, lacks "exited", has neither "exitcode" nor
// "signal" once exited, or carries data that is not base64.
Result<std::optional<ExecStatus>> exec_status(const nlohmann::json& value);

// RFC 4648 §4 base64 (the agent's out-data/err-data); padding required, no whitespace.
Result<std::string> base64_decode(std::string_view text);

}  // namespace vnet::lab::qga
