#include "lb/udp_check.hh"

#include <gtest/gtest.h>

using namespace vnet::lb;

namespace {

using Bytes = std::vector<uint8_t>;

TEST(UdpCheck, HexAsKeepalivedReadsIt) {
  EXPECT_EQ(parse_hex("00ff", false)->data, (Bytes{0x00, 0xff}));
  EXPECT_EQ(parse_hex("de ad BE ef", false)->data, (Bytes{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(parse_hex("1 2 abc", false)->data, (Bytes{0x01, 0x02, 0xab, 0x0c}));
  auto w = parse_hex("4x x2 xx", true);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->data, (Bytes{0x40, 0x02, 0x00}));
  EXPECT_EQ(w->mask, (Bytes{0x0f, 0xf0, 0xff}));
  EXPECT_FALSE(parse_hex("4x", false));  // wildcards only in require_reply
  auto bad = parse_hex("00 g1", false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid hex digit 'g' at offset 3");
  EXPECT_FALSE(parse_hex("", false));
  EXPECT_FALSE(parse_hex("   ", false));
}

TEST(UdpCheck, DefaultPayloadIsKeepalivedsFiller) {
  std::string want = "keepalived check - keepalived c";
  want += 'h';
  Bytes p = default_udp_payload();
  ASSERT_EQ(p.size(), 32u);
  EXPECT_EQ(std::string(p.begin(), p.end()), want);
}

TEST(UdpCheck, ReplyMatching) {
  UdpCheck c;
  c.require_reply = true;
  c.reply = *parse_hex("50 4f 4e 47", true);  // "PONG"
  Bytes pong = {'P', 'O', 'N', 'G'};
  EXPECT_FALSE(udp_reply_problem(pong, c));
  Bytes pongs = {'P', 'O', 'N', 'G', '!', '!'};
  EXPECT_FALSE(udp_reply_problem(pongs, c));  // a longer reply: the pattern is a prefix
  Bytes ping = {'P', 'I', 'N', 'G'};
  EXPECT_EQ(udp_reply_problem(ping, c), "reply octet 1 is 0x49, expected 0x4f");
  // keepalived compares min(reply, pattern) octets: a shorter reply that agrees passes...
  Bytes po = {'P', 'O'};
  EXPECT_FALSE(udp_reply_problem(po, c));
  // ...unless min_reply_length asks for more.
  c.min_reply = 4;
  EXPECT_EQ(udp_reply_problem(po, c), "reply of 2 bytes, fewer than 4");
  c.max_reply = 5;
  EXPECT_EQ(udp_reply_problem(pongs, c), "reply of 6 bytes or more, more than 5");
  EXPECT_FALSE(udp_reply_problem(pong, c));
  // Wildcard nibbles.
  c.reply = *parse_hex("5x 4x", true);
  EXPECT_FALSE(udp_reply_problem(ping, c));
  Bytes other = {'a', 'O', 'N', 'G'};
  EXPECT_TRUE(udp_reply_problem(other, c));
  // Without a pattern only the lengths count; the default max is 255.
  UdpCheck any;
  any.require_reply = true;
  EXPECT_FALSE(udp_reply_problem(Bytes{}, any));
  EXPECT_FALSE(udp_reply_problem(Bytes(255, 1), any));
  EXPECT_TRUE(udp_reply_problem(Bytes(256, 1), any));
}

}  // namespace
