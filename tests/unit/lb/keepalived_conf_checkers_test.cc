// keepalived.conf's SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK keywords.
#include <gtest/gtest.h>

#include <string>

#include "lb/keepalived_conf.hh"
#include "lb/nft_ruleset.hh"

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (auto& x : v) {
    if (x.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string all(const std::vector<std::string>& v) {
  std::string out;
  for (auto& x : v) out += x + "\n";
  return out;
}

const char* kChecks = R"(virtual_server 10.0.0.1 25 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.1.0.1 25 {
        weight 4
        SMTP_CHECK {
            helo_name lb1.example
            connect_timeout 2
        }
        SMTP_CHECK {
        }
        DNS_CHECK {
            type aaaa
            name example.org
            connect_port 53
        }
        DNS_CHECK {
        }
        UDP_CHECK {
            connect_port 7
            payload 50 49 4e 47
            require_reply 50 4f 4e 4x
            min_reply_length 4
            max_reply_length 64
        }
        UDP_CHECK {
            connect_port 9
        }
        PING_CHECK {
            retry 2
        }
        FILE_CHECK {
            track_file maint
        }
        FILE_CHECK {
            track_file maint
            weight -10 reverse
        }
    }
}

track_file maint {
    file /run/lb/maint
    weight 0
}
)";

KeepalivedFullConfig parse(const std::string& text) {
  auto c = parse_keepalived_conf_full(text, "k.conf");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? *c : KeepalivedFullConfig{};
}

TEST(LbKeepalivedConfCheckers, KeywordsAndDefaults) {
  auto c = parse(kChecks);
  ASSERT_EQ(c.lb.services.size(), 1u);
  const auto& cs = c.lb.services[0].reals[0].checkers;
  ASSERT_EQ(cs.size(), 9u) << all(c.vrrp.warnings);
  EXPECT_EQ(cs[0].type, CheckerType::kSmtp);
  EXPECT_EQ(cs[0].smtp.helo_name, "lb1.example");
  EXPECT_EQ(cs[0].timing.timeout, 2s);
  EXPECT_EQ(cs[0].connect, Endpoint::parse("10.1.0.1", 25).value());  // the real server's port
  EXPECT_EQ(cs[1].smtp.helo_name, "smtpchecker.keepalived.org");

  EXPECT_EQ(cs[2].dns.type, 28);
  EXPECT_EQ(cs[2].dns.name, "example.org");
  EXPECT_EQ(cs[2].connect->port, 53);
  EXPECT_EQ(cs[3].dns.type, 6);  // SOA
  EXPECT_EQ(cs[3].dns.name, "");
  EXPECT_EQ(cs[3].timing.retry, 3u);
  EXPECT_EQ(cs[3].timing.delay_before_retry, 60s);
  EXPECT_TRUE(cs[3].timing.retry_only_up);

  EXPECT_EQ(cs[4].udp.payload, (std::vector<uint8_t>{'P', 'I', 'N', 'G'}));
  EXPECT_TRUE(cs[4].udp.require_reply);
  EXPECT_EQ(cs[4].udp.reply.data, (std::vector<uint8_t>{'P', 'O', 'N', 0x40}));
  EXPECT_EQ(cs[4].udp.reply.mask, (std::vector<uint8_t>{0, 0, 0, 0x0f}));
  EXPECT_EQ(cs[4].udp.min_reply, 4u);
  EXPECT_EQ(cs[4].udp.max_reply, 64u);
  EXPECT_FALSE(cs[4].timing.timeout_passes);
  EXPECT_TRUE(cs[5].udp.payload.empty());
  EXPECT_FALSE(cs[5].udp.require_reply);
  EXPECT_EQ(cs[5].udp.max_reply, 255u);
  EXPECT_TRUE(cs[5].timing.timeout_passes);  // silence passes without require_reply

  EXPECT_EQ(cs[6].type, CheckerType::kPing);
  EXPECT_EQ(cs[6].timing.retry, 2u);
  EXPECT_TRUE(cs[6].timing.retry_only_up);

  EXPECT_EQ(cs[7].file.path, "/run/lb/maint");
  EXPECT_EQ(cs[7].file.weight, 0);  // the track_file block's
  EXPECT_FALSE(cs[7].file.reverse);
  EXPECT_EQ(cs[7].file.real_weight, 4);
  EXPECT_EQ(cs[7].timing.delay_loop, 1s);
  EXPECT_EQ(cs[7].timing.retry, 0u);
  EXPECT_TRUE(cs[7].timing.alpha);    // out until the file is first read
  EXPECT_EQ(cs[8].file.weight, -10);  // its own
  EXPECT_TRUE(cs[8].file.reverse);

  // The datapath refuses none of them now.
  EXPECT_TRUE(nft_refusals(c.lb).empty()) << all(nft_refusals(c.lb));
}

// What keepalived repairs (warnings, the repair made) and what it cannot read (errors).
TEST(LbKeepalivedConfCheckers, Messages) {
  auto c = parse(R"(virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.1.0.1 80 {
        DNS_CHECK {
            type PTR
            name a..b
        }
        UDP_CHECK {
            min_reply_length 10
            max_reply_length 5
        }
        FILE_CHECK {
            track_file nowhere
        }
        FILE_CHECK {
        }
        PING_CHECK {
        }
    }
}
vrrp_track_file old {
    file /tmp/old
}
)");
  const auto& w = c.vrrp.warnings;
  EXPECT_TRUE(has(w, "k.conf:5: Unknown DNS check type PTR - ignoring")) << all(w);
  EXPECT_TRUE(has(w, "k.conf:6: DNS_CHECK name 'a..b' has empty label - ignoring")) << all(w);
  EXPECT_TRUE(has(w,
                  "k.conf:8: UDP_CHECK min_reply length 10 > max_reply_length 5 - will "
                  "always fail"))
      << all(w);
  EXPECT_TRUE(has(w, "k.conf:12: track_file nowhere not found - FILE_CHECK ignored")) << all(w);
  EXPECT_TRUE(has(w, "k.conf:15: FILE_CHECK has no track_file specified - ignoring")) << all(w);
  EXPECT_TRUE(has(w, "\"vrrp_track_file\" is deprecated")) << all(w);
  const auto& cs = c.lb.services[0].reals[0].checkers;
  ASSERT_EQ(cs.size(), 3u);  // DNS, UDP, PING; both FILE_CHECKs dropped
  EXPECT_EQ(cs[0].dns.type, 6);
  EXPECT_EQ(cs[0].dns.name, "");

  for (auto [block, why] : std::vector<std::pair<std::string, std::string>>{
           {"UDP_CHECK {\n payload 0g\n }",
            "k.conf:5: Invalid hex string for UDP_CHECK payload "
            "(invalid hex digit 'g' at offset 1)"},
           {"UDP_CHECK {\n payload\n }", "k.conf:5: UDP_CHECK payload requires a payload"},
           {"UDP_CHECK {\n max_reply_length 70000\n }",
            "k.conf:5: UDP_CHECK max length 70000 not valid - must be between 0 & 65535"},
           {"DNS_CHECK {\n name " + std::string(70, 'x') + ".org\n }",
            "label 'xxxxxxxxxxxxxxxx...' longer than 63 octets"},
           {"SMTP_CHECK {\n helo_name\n }", "k.conf:5: SMTP_CHECK helo name missing"},
           {"FILE_CHECK {\n track_file t\n weight 70000\n }",
            "weight for track file must be in [-65535..65535]"},
       }) {
    std::string text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.0.1 80 {\n" +
                       block + "\n }\n}\ntrack_file t {\n file /tmp/t\n}\n";
    auto r = parse_keepalived_conf_full(text, "k.conf");
    ASSERT_FALSE(r) << block;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

// The deprecated host { } blocks of SMTP_CHECK: one checker per host, plus the checker's own
// connection when it names one (check_smtp.c smtp_check_end_handler()).
TEST(LbKeepalivedConfCheckers, SmtpHostBlocks) {
  auto c = parse(R"(virtual_server 10.0.0.1 25 {
    protocol TCP
    real_server 10.1.0.1 25 {
        SMTP_CHECK {
            helo_name me
            host {
                connect_ip 10.1.0.9
                connect_port 2525
            }
            host {
                connect_ip 10.1.0.8
            }
        }
        SMTP_CHECK {
            connect_port 587
            host {
                connect_ip 10.1.0.7
            }
        }
    }
}
)");
  const auto& cs = c.lb.services[0].reals[0].checkers;
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].connect, Endpoint::parse("10.1.0.9", 2525).value());
  EXPECT_EQ(cs[0].smtp.helo_name, "me");
  EXPECT_EQ(cs[1].connect, Endpoint::parse("10.1.0.8", 25).value());
  EXPECT_EQ(cs[2].connect, Endpoint::parse("10.1.0.1", 587).value());
  EXPECT_EQ(cs[3].connect, Endpoint::parse("10.1.0.7", 25).value());
  EXPECT_TRUE(has(c.vrrp.warnings, "The SMTP_CHECK host block is deprecated"));
}

}  // namespace
