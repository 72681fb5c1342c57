// What the `http` step takes from a server's answer (lab/probe.hh parse_http_response): the
// status code and the body cut to Content-Length; anything that is not a whole HTTP/1.x response
// fails with a message and is never counted as an answer.
#include <gtest/gtest.h>

#include "lab/probe.hh"

using vnet::lab::parse_http_response;

namespace {

TEST(HttpAnswer, StatusAndBody) {
  auto a = parse_http_response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nr2\n");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "r2\n");
}

TEST(HttpAnswer, BodyCutToContentLengthAnyCase) {
  auto a = parse_http_response(
      "HTTP/1.1 503 Service Unavailable\r\ncontent-LENGTH:  5 \r\n\r\nsorry and more");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 503);
  EXPECT_EQ(a->body, "sorry");
}

TEST(HttpAnswer, StatusLineWithoutReason) {
  auto a = parse_http_response("HTTP/1.1 204\r\n\r\n");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 204);
  EXPECT_EQ(a->body, "");
}

TEST(HttpAnswer, MalformedAnswersFail) {
  for (const char* bad : {
           "",                                                    // nothing
           "vnet lab test service\n",                             // not HTTP
           "HTTP/1.0 200 OK\r\nServer: x\r\n",                    // headers never end
           "HTTP/2 200 OK\r\n\r\n",                               // not HTTP/1.x
           "HTTP/1.0 099 Low\r\n\r\n",                            // status below 100
           "HTTP/1.0 600 High\r\n\r\n",                           // status above 599
           "HTTP/1.0 2000 OK\r\n\r\n",                            // four digits
           "HTTP/1.0 abc OK\r\n\r\n",                             // not a number
           "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort",  // body shorter than announced
           "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",       // negative length
       }) {
    auto a = parse_http_response(bad);
    EXPECT_FALSE(a.ok()) << "accepted: " << bad;
    if (!a.ok()) {
      EXPECT_EQ(a.error().code, EBADMSG) << bad;
    }
  }
}

}  // namespace
