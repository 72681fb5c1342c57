#include "lb/smtp_check.hh"

#include <gtest/gtest.h>

using namespace vnet::lb;

namespace {

// The whole dialog, as a server speaks it: exactly HELO then QUIT go out, success at QUIT's reply.
TEST(SmtpDialog, GreetingHeloQuit) {
  SmtpDialog d("lb1.example");
  EXPECT_EQ(d.waiting_for(), "the greeting");
  auto s = d.feed("220 mail.example ESMTP Postfix\r\n");
  EXPECT_EQ(s.send, "HELO lb1.example\r\n");
  EXPECT_FALSE(s.done);
  EXPECT_EQ(d.waiting_for(), "the HELO reply");
  s = d.feed("250 mail.example\r\n");
  EXPECT_EQ(s.send, "QUIT\r\n");
  EXPECT_FALSE(s.done);
  s = d.feed("221 2.0.0 Bye\r\n");
  EXPECT_TRUE(s.done);
  EXPECT_FALSE(s.failure);
  EXPECT_TRUE(s.send.empty());
  EXPECT_TRUE(d.done());
  // Nothing more is said or judged after the end.
  s = d.feed("500 what\r\n");
  EXPECT_FALSE(s.done);
  EXPECT_TRUE(s.send.empty());
}

TEST(SmtpDialog, DefaultHeloNameIsKeepalivedsAndBareLfAndCodeAloneAreLines) {
  SmtpDialog d{std::string(kSmtpDefaultHelo)};
  EXPECT_EQ(d.feed("220\n").send, "HELO smtpchecker.keepalived.org\r\n");
  EXPECT_EQ(d.feed("250\n").send, "QUIT\r\n");
  EXPECT_TRUE(d.feed("221\n").done);
}

// Replies split anywhere across reads give the same dialog.
TEST(SmtpDialog, ByteByByte) {
  std::string server = "220 x\r\n250-x\r\n250-PIPELINING\r\n250 8BITMIME\r\n221 bye\r\n";
  SmtpDialog d("h");
  std::string sent;
  bool done = false;
  for (char c : server) {
    auto s = d.feed(std::string_view(&c, 1));
    sent += s.send;
    if (s.done) {
      EXPECT_FALSE(s.failure) << *s.failure;
      done = true;
    }
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(sent, "HELO h\r\nQUIT\r\n");
}

// A multi-line greeting (RFC 5321 §4.2.1) is read to its last line; HELO goes out once.
TEST(SmtpDialog, MultiLineGreeting) {
  SmtpDialog d("h");
  auto s = d.feed("220-mail.example first\r\n220-second\r\n");
  EXPECT_TRUE(s.send.empty());
  EXPECT_FALSE(s.done);
  s = d.feed("220 last\r\n");
  EXPECT_EQ(s.send, "HELO h\r\n");
}

TEST(SmtpDialog, WrongCodesFail) {
  struct Case {
    std::string input, why;
  };
  for (auto& c : std::vector<Case>{
           {"554 no service\r\n", "greeting 554 (expected 220)"},
           {"421 busy\r\n", "greeting 421 (expected 220)"},
           {"220 ok\r\n550 no\r\n", "HELO reply 550 (expected 250)"},
           {"220 ok\r\n220 again\r\n", "HELO reply 220 (expected 250)"},
           {"220-a\r\n250 b\r\n", "reply lines with codes 220 and 250 in one reply"},
       }) {
    SmtpDialog d("h");
    auto s = d.feed(c.input);
    ASSERT_TRUE(s.done) << c.input;
    ASSERT_TRUE(s.failure) << c.input;
    EXPECT_EQ(*s.failure, c.why);
  }
}

TEST(SmtpDialog, GarbageFails) {
  for (std::string bad :
       std::vector<std::string>{"HTTP/1.1 400 Bad Request\r\n", "22 short\r\n", "220x\r\n", "\r\n",
                                std::string("\x16\x03\x01\x00\x05\n", 6), "2a0 x\n"}) {
    SmtpDialog d("h");
    auto s = d.feed(bad);
    ASSERT_TRUE(s.done) << bad;
    ASSERT_TRUE(s.failure) << bad;
    EXPECT_NE(s.failure->find("malformed reply line"), std::string::npos) << *s.failure;
    EXPECT_NE(s.failure->find("the greeting"), std::string::npos) << *s.failure;
  }
}

// A server that never ends its line cannot make the checker buffer without bound.
TEST(SmtpDialog, OverlongLineFailsAtTheLimit) {
  SmtpDialog d("h");
  auto s = d.feed(std::string(kMaxSmtpLine - 1, '2'));
  EXPECT_FALSE(s.done);
  s = d.feed("2");
  ASSERT_TRUE(s.done);
  EXPECT_EQ(*s.failure, "reply line longer than 512 bytes");
  // A 512-octet line with its CRLF is still a line.
  SmtpDialog ok("h");
  std::string line = "220 " + std::string(kMaxSmtpLine - 6, 'a') + "\r\n";
  ASSERT_EQ(line.size(), kMaxSmtpLine);
  EXPECT_EQ(ok.feed(line).send, "HELO h\r\n");
  SmtpDialog over("h");
  EXPECT_TRUE(over.feed("220 " + std::string(kMaxSmtpLine - 5, 'a') + "\r\n").failure);
}

}  // namespace
