// The QEMU guest agent's protocol (lab/qga_protocol.hh): the exact request bytes, the
// resynchronisation that skips stale replies up to the 0xFF delimiter, and what a reply says —
// including replies that are malformed, which must fail with a message, never be taken for a
// result.
#include "lab/qga_protocol.hh"

#include <gtest/gtest.h>

using namespace vnet::lab::qga;
using nlohmann::json;

namespace {

TEST(QgaRequests, GoldenBytes) {
  EXPECT_EQ(sync_request(42),
            "\xff{\"arguments\":{\"id\":42},\"execute\":\"guest-sync-delimited\"}\n");
  EXPECT_EQ(exec_request("echo out; echo \"err\" >&2; exit 3"),
            "{\"arguments\":{\"arg\":[\"-c\",\"echo out; echo \\\"err\\\" >&2; exit 3\"],"
            "\"capture-output\":true,\"path\":\"/bin/sh\"},\"execute\":\"guest-exec\"}\n");
  EXPECT_EQ(exec_status_request(1234),
            "{\"arguments\":{\"pid\":1234},\"execute\":\"guest-exec-status\"}\n");
}

TEST(QgaReplyReader, SkipsEverythingBeforeTheDelimiterAfterASync) {
  ReplyReader r;
  r.expect_delimiter();
  // A stale reply of an abandoned exchange and the agent's complaint about the 0xFF we sent
  // (QEMU's JSON lexer reports it), then the delimiter and the sync's reply, in pieces.
  r.feed("{\"return\": {\"pid\": 7}}\n{\"error\": {\"class\": \"GenericError\", \"desc\": ");
  auto n = r.next();
  ASSERT_TRUE(n);
  EXPECT_FALSE(*n) << "nothing counts before the delimiter";
  r.feed("\"JSON parse error, stray '\\uFFFD'\"}}\n\xff{\"retu");
  n = r.next();
  ASSERT_TRUE(n);
  EXPECT_FALSE(*n) << "an incomplete reply is not yielded";
  r.feed("rn\": 42}\n{\"return\": {}}\n");
  n = r.next();
  ASSERT_TRUE(n && *n);
  EXPECT_EQ(**n, json::parse("{\"return\": 42}"));
  n = r.next();
  ASSERT_TRUE(n && *n);
  EXPECT_EQ(**n, json::parse("{\"return\": {}}"));
  n = r.next();
  ASSERT_TRUE(n);
  EXPECT_FALSE(*n);
}

TEST(QgaReplyReader, WithoutASyncRepliesComeAsTheyAre) {
  ReplyReader r;
  r.feed("\n{\"return\": 1}\n\r\n{\"return\": 2}\n");
  auto a = r.next();
  auto b = r.next();
  ASSERT_TRUE(a && *a && b && *b);
  EXPECT_EQ((**a)["return"], 1);
  EXPECT_EQ((**b)["return"], 2);
}

TEST(QgaReplyReader, ALineThatIsNotJsonIsAnError) {
  ReplyReader r;
  r.feed("{\"return\": tru\n");
  auto n = r.next();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, EPROTO);
  EXPECT_NE(n.error().message.find("the guest agent sent '{\"return\": tru', not JSON"),
            std::string::npos)
      << n.error().message;
}

TEST(QgaReplyReader, AReplyThatNeverEndsIsRefusedAtItsBound) {
  ReplyReader r;
  std::string chunk(1 << 20, 'a');
  const std::string head = "{\"return\": \"";
  r.feed(head);
  bool refused = false;
  for (size_t fed = head.size(); fed <= ReplyReader::kMaxReply + chunk.size();) {
    r.feed(chunk);
    fed += chunk.size();
    auto n = r.next();
    if (!n) {
      EXPECT_EQ(n.error().code, EPROTO);
      EXPECT_GT(fed, ReplyReader::kMaxReply);  // not before the bound
      refused = true;
      break;
    }
    EXPECT_FALSE(*n);  // incomplete, not yet too long
  }
  ASSERT_TRUE(refused) << "more than the bound without a newline, and still waiting";
  // The reader starts afresh: a whole reply after it parses.
  r.feed("{\"return\": {}}\n");
  auto again = r.next();
  ASSERT_TRUE(again && *again);
}

TEST(QgaReplies, ReturnErrorAndNeither) {
  auto v = reply_value(json::parse("{\"return\": {\"pid\": 5}}"), "guest-exec");
  ASSERT_TRUE(v);
  EXPECT_EQ(exec_pid(*v).value(), 5);
  v = reply_value(json::parse("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Failed to "
                              "execute child process\"}}"),
                  "guest-exec");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, EIO);
  EXPECT_EQ(v.error().message, "guest agent guest-exec: Failed to execute child process");
  v = reply_value(json::parse("{\"event\": \"X\"}"), "guest-exec");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, EPROTO);
  v = reply_value(json::parse("[1]"), "guest-exec");
  ASSERT_FALSE(v);
}

TEST(QgaReplies, SyncIdMustMatch) {
  EXPECT_TRUE(is_sync_reply(json(42), 42));
  EXPECT_TRUE(is_sync_reply(json(uint64_t{0x1234'0000'0001}), 0x1234'0000'0001));
  EXPECT_FALSE(is_sync_reply(json(41), 42));
  EXPECT_FALSE(is_sync_reply(json(-42), 42));
  EXPECT_FALSE(is_sync_reply(json("42"), 42));
  EXPECT_FALSE(is_sync_reply(json::object(), 42));
}

TEST(QgaReplies, ExecPidMalformed) {
  for (const char* bad : {"{}", "{\"pid\": \"5\"}", "{\"pid\": 1.5}", "5", "null"}) {
    auto p = exec_pid(json::parse(bad));
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, EPROTO) << bad;
  }
}

TEST(QgaExecStatus, RunningThenExitedWithBothStreams) {
  auto s = exec_status(json::parse("{\"exited\": false}"));
  ASSERT_TRUE(s);
  EXPECT_FALSE(*s);
  // "out\n" and "err\n" in base64, as qemu-ga sends them.
  s = exec_status(json::parse(
      "{\"exitcode\": 3, \"out-data\": \"b3V0Cg==\", \"err-data\": \"ZXJyCg==\", \"exited\": "
      "true}"));
  ASSERT_TRUE(s && *s) << (s ? "" : s.error().message);
  EXPECT_EQ(**s, (ExecStatus{3, "out\n", "err\n", false, false}));
}

TEST(QgaExecStatus, SignalEmptyStreamsAndTruncation) {
  auto s = exec_status(json::parse("{\"exited\": true, \"signal\": 9}"));
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->status, 137);
  EXPECT_EQ((*s)->out, "");
  s = exec_status(
      json::parse("{\"exited\": true, \"exitcode\": 0, \"out-data\": \"\", \"out-truncated\": "
                  "true}"));
  ASSERT_TRUE(s && *s);
  EXPECT_TRUE((*s)->out_truncated);
  EXPECT_FALSE((*s)->err_truncated);
}

TEST(QgaExecStatus, MalformedRepliesAreErrors) {
  for (const char* bad : {
           "[]",
           "{}",
           "{\"exited\": \"yes\"}",
           "{\"exited\": true}",
           "{\"exited\": true, \"exitcode\": \"0\"}",
           "{\"exited\": true, \"exitcode\": 0, \"out-data\": 5}",
           "{\"exited\": true, \"exitcode\": 0, \"out-data\": \"b3V0Cg\"}",
           "{\"exited\": true, \"exitcode\": 0, \"err-data\": \"b3V0C!==\"}",
       }) {
    auto s = exec_status(json::parse(bad));
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, EPROTO) << bad << ": " << s.error().message;
  }
}

TEST(QgaBase64, Rfc4648TestVectors) {
  // RFC 4648 §10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
  };
  for (auto& [in, out] : vectors) EXPECT_EQ(base64_decode(in).value(), out) << in;
  EXPECT_EQ(base64_decode("/+8A").value(), std::string("\xff\xef\x00", 3));
  for (const char* bad : {"Zg=", "Zg=a", "Z===", "=Zg=", "Zm9v\n", "Zg==Zg==", "Zm9*"})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

}  // namespace
