#include "lab/qga_protocol.hh"

namespace vnet::lab::qga {

std::string sync_request(uint64_t id) {
  nlohmann::json j = {{"execute", "guest-sync-delimited"}, {"arguments", {{"id", id}}}};
  return std::string(1, kDelimiter) + j.dump() + "\n";
}

std::string exec_request(const std::string& shell_command) {
  nlohmann::json j = {{"execute", "guest-exec"},
                      {"arguments",
                       {{"path", "/bin/sh"},
                        {"arg", nlohmann::json::array({"-c", shell_command})},
                        {"capture-output", true}}}};
  return j.dump() + "\n";
}

std::string exec_status_request(int64_t pid) {
  nlohmann::json j = {{"execute", "guest-exec-status"}, {"arguments", {{"pid", pid}}}};
  return j.dump() + "\n";
}

Result<std::optional<nlohmann::json>> ReplyReader::next() {
  if (!synced_) {
    auto d = buf_.find(kDelimiter);
    if (d == std::string::npos) {
      buf_.clear();
      return std::optional<nlohmann::json>();
    }
    buf_.erase(0, d + 1);
    scanned_ = 0;
    synced_ = true;
  }
  while (true) {
    size_t start = buf_.find_first_not_of(std::string_view("\r\n \t\xff", 5));
    if (start == std::string::npos) {
      buf_.clear();
      scanned_ = 0;
      return std::optional<nlohmann::json>();
    }
    if (start > 0) {
      buf_.erase(0, start);
      scanned_ = scanned_ > start ? scanned_ - start : 0;
    }
    // Bytes before scanned_ were searched already: a long reply arriving in pieces is scanned
    // once, not once per piece.
    auto nl = buf_.find('\n', scanned_);
    if (nl == std::string::npos) {
      scanned_ = buf_.size();
      if (buf_.size() > kMaxReply) {
        buf_.clear();
        scanned_ = 0;
        return make_error(EPROTO, "the guest agent sent a reply longer than {} MiB",
                          kMaxReply >> 20);
      }
      return std::optional<nlohmann::json>();
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    scanned_ = 0;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (line.size() > 200) line = line.substr(0, 200) + "…";
      return make_error(EPROTO, "the guest agent sent '{}', not JSON", line);
    }
    return std::optional<nlohmann::json>(std::move(j));
  }
}

Result<nlohmann::json> reply_value(const nlohmann::json& reply, std::string_view command) {
  if (reply.is_object() && reply.contains("return")) return reply["return"];
  if (reply.is_object() && reply.contains("error")) {
    const auto& e = reply["error"];
    std::string desc = e.is_object() && e.contains("desc") && e["desc"].is_string()
                           ? e["desc"].get<std::string>()
                           : e.dump();
    return make_error(EIO, "guest agent {}: {}", command, desc);
  }
  return make_error(EPROTO, "guest agent {}: reply {} has neither return nor error", command,
                    reply.dump());
}

bool is_sync_reply(const nlohmann::json& value, uint64_t id) {
  return value.is_number_unsigned() ? value.get<uint64_t>() == id
         : value.is_number_integer()
             ? value.get<int64_t>() >= 0 && static_cast<uint64_t>(value.get<int64_t>()) == id
             : false;
}

Result<int64_t> exec_pid(const nlohmann::json& value) {
  if (!value.is_object() || !value.contains("pid") || !value["pid"].is_number_integer())
    return make_error(EPROTO, "guest agent guest-exec: expected {{\"pid\": N}}, got {}",
                      value.dump());
  return value["pid"].get<int64_t>();
}

Result<std::optional<ExecStatus>> exec_status(const nlohmann::json& value) {
  if (!value.is_object() || !value.contains("exited") || !value["exited"].is_boolean())
    return make_error(EPROTO, "guest agent guest-exec-status: expected {{\"exited\": …}}, got {}",
                      value.dump());
  if (!value["exited"].get<bool>()) return std::optional<ExecStatus>();
  ExecStatus s;
  if (value.contains("exitcode") && value["exitcode"].is_number_integer()) {
    s.status = value["exitcode"].get<int>();
  } else if (value.contains("signal") && value["signal"].is_number_integer()) {
    s.status = 128 + value["signal"].get<int>();
  } else {
    return make_error(EPROTO,
                      "guest agent guest-exec-status: exited without exitcode or signal: {}",
                      value.dump());
  }
  for (auto [key, out] : {std::pair{"out-data", &s.out}, std::pair{"err-data", &s.err}}) {
    if (!value.contains(key)) continue;
    if (!value[key].is_string())
      return make_error(EPROTO, "guest agent guest-exec-status: {} is not a string", key);
    auto d = base64_decode(value[key].get<std::string>());
    if (!d)
      return make_error(EPROTO, "guest agent guest-exec-status: {}: {}", key, d.error().message);
    *out = std::move(*d);
  }
  s.out_truncated = value.value("out-truncated", false);
  s.err_truncated = value.value("err-truncated", false);
  return std::optional<ExecStatus>(std::move(s));
}

Result<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0)
    return make_error(EINVAL, "base64 of {} characters: expected a multiple of 4", text.size());
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = value(c);
      if (v[k] < 0 || pad > 0)
        return make_error(EINVAL, "base64: unexpected '{}' at offset {}", c, i + k);
    }
    uint32_t n =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace vnet::lab::qga
