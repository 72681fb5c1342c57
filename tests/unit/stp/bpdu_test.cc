#include "stp/bpdu.hh"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <ostream>
#include <string>
#include <vector>

#include "base/byte_io.hh"

using namespace vnet;
using namespace vnet::stp;

namespace vnet::stp {
// Readable failures: gtest prints a Bpdu as its one-line summary.
void PrintTo(const Bpdu& bpdu, std::ostream* os) { *os << to_string(bpdu); }
}  // namespace vnet::stp

namespace {

packet::MacAddress mac(const char* text) { return *packet::MacAddress::parse(text); }

std::vector<uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<uint8_t> v;
  for (int x : list) v.push_back(static_cast<uint8_t>(x));
  return v;
}

std::string error_of(const Result<Bpdu>& r) {
  EXPECT_FALSE(r.ok()) << "decoded " << (r.ok() ? to_string(*r) : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, EBADMSG) << r.error().message;
  return r.error().message;
}

// The example of the golden tests: bridge 8000.020000000002 port 128.2, one hop from the root
// 8000.020000000001 (priorities with system ID extension 1, as in VLAN 1 of a PVST bridge).
Bpdu config_example() {
  Bpdu b;
  b.version = 0;
  b.type = BpduType::kConfig;
  b.flags.topology_change = true;
  b.flags.topology_change_ack = true;
  b.root = BridgeId::make(0x8000, 1, mac("02:00:00:00:00:01"));
  b.root_path_cost = 4;
  b.bridge = BridgeId::make(0x8000, 1, mac("02:00:00:00:00:02"));
  b.port = PortId::make(0x80, 2);
  b.times = {.message_age = 1 * 256,
             .max_age = 20 * 256,
             .hello_time = 2 * 256,
             .forward_delay = 15 * 256};
  return b;
}

// §9.3.1, Figure 9-1, written out octet by octet.
const std::vector<uint8_t> kConfigGolden = bytes({
    0x00, 0x00,                                      // 1–2   Protocol Identifier
    0x00,                                            // 3     Protocol Version Identifier: 0
    0x00,                                            // 4     BPDU Type: Configuration
    0x81,                                            // 5     Flags: TCA (bit 8), TC (bit 1)
    0x80, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // 6–13  Root Identifier
    0x00, 0x00, 0x00, 0x04,                          // 14–17 Root Path Cost: 4
    0x80, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // 18–25 Bridge Identifier
    0x80, 0x02,                                      // 26–27 Port Identifier: 128.2
    0x01, 0x00,                                      // 28–29 Message Age: 1 s
    0x14, 0x00,                                      // 30–31 Max Age: 20 s
    0x02, 0x00,                                      // 32–33 Hello Time: 2 s
    0x0f, 0x00,                                      // 34–35 Forward Delay: 15 s
});

Bpdu rst_example() {
  Bpdu b = config_example();
  b.version = 2;
  b.type = BpduType::kRst;
  b.flags = {.topology_change = true,
             .proposal = true,
             .role = BpduRole::kDesignated,
             .learning = true,
             .forwarding = false,
             .agreement = true,
             .topology_change_ack = false};
  b.root = BridgeId::make(0x1000, 0, mac("02:00:00:00:00:0a"));
  b.root_path_cost = 20000;
  b.bridge = BridgeId::make(0x7000, 10, mac("02:00:00:00:00:0b"));
  b.port = PortId::make(0x90, 0x123);
  b.times = {.message_age = 3 * 256 + 128,
             .max_age = 6 * 256,
             .hello_time = 1 * 256,
             .forward_delay = 4 * 256};
  return b;
}

// §9.3.3, Figure 9-3.
const std::vector<uint8_t> kRstGolden = bytes({
    0x00, 0x00,                                      // 1–2   Protocol Identifier
    0x02,                                            // 3     Protocol Version Identifier: 2
    0x02,                                            // 4     BPDU Type: RST
    0x5f,                                            // 5     Flags: agreement 0x40, learning
                                                     //       0x10, role 11 designated 0x0c,
                                                     //       proposal 0x02, TC 0x01
    0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,  // 6–13  Root Identifier: 4096 / 0 / MAC
    0x00, 0x00, 0x4e, 0x20,                          // 14–17 Root Path Cost: 20000
    0x70, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,  // 18–25 Bridge Identifier: 28672 / 10
    0x91, 0x23,                                      // 26–27 Port Identifier: 144.291
    0x03, 0x80,                                      // 28–29 Message Age: 3.5 s
    0x06, 0x00,                                      // 30–31 Max Age: 6 s
    0x01, 0x00,                                      // 32–33 Hello Time: 1 s
    0x04, 0x00,                                      // 34–35 Forward Delay: 4 s
    0x00,                                            // 36    Version 1 Length: 0
});

// §9.3.2, Figure 9-2.
const std::vector<uint8_t> kTcnGolden = bytes({
    0x00, 0x00,  // 1–2 Protocol Identifier
    0x00,        // 3   Protocol Version Identifier: 0
    0x80,        // 4   BPDU Type: Topology Change Notification
});

Bpdu tcn() {
  Bpdu b;
  b.type = BpduType::kTcn;
  return b;
}

// --- identifiers --------------------------------------------------------------------------------

TEST(BpduIds, BridgeIdPacksPrioritySystemIdAndMac) {
  BridgeId id = BridgeId::make(0x7000, 10, mac("02:00:00:00:00:0b"));
  EXPECT_EQ(id.value, 0x700a'0200'0000'000bULL);
  EXPECT_EQ(id.priority(), 0x7000);
  EXPECT_EQ(id.system_id(), 10);
  EXPECT_EQ(id.mac(), mac("02:00:00:00:00:0b"));
  EXPECT_EQ(to_string(id), "700a.02000000000b");
  // Bits outside their field do not leak into the neighbour field (§9.2.5: 4 + 12 + 48 bits).
  BridgeId odd = BridgeId::make(0x8fff, 0xf001, mac("ff:ff:ff:ff:ff:ff"));
  EXPECT_EQ(odd.priority(), 0x8000);
  EXPECT_EQ(odd.system_id(), 1);
}

TEST(BpduIds, BridgeIdOrderIsPriorityThenSystemIdThenMac) {
  // §9.2.5 / §17.6: the numerically lower identifier is the better one.
  auto low_mac = mac("02:00:00:00:00:01");
  auto high_mac = mac("fe:ff:ff:ff:ff:ff");
  EXPECT_LT(BridgeId::make(0x1000, 0, high_mac), BridgeId::make(0x2000, 0, low_mac));
  EXPECT_LT(BridgeId::make(0x1000, 1, high_mac), BridgeId::make(0x1000, 2, low_mac));
  EXPECT_LT(BridgeId::make(0x1000, 1, low_mac), BridgeId::make(0x1000, 1, high_mac));
}

TEST(BpduIds, PortIdPacksPriorityAndNumber) {
  PortId p = PortId::make(0x90, 0x123);
  EXPECT_EQ(p.value, 0x9123);
  EXPECT_EQ(p.priority(), 0x90);
  EXPECT_EQ(p.number(), 0x123);
  EXPECT_EQ(to_string(p), "144.291");
  EXPECT_LT(PortId::make(0x10, 4095), PortId::make(0x20, 1));  // priority first (§9.2.7)
}

TEST(BpduIds, TimesAndNames) {
  EXPECT_EQ(format_time(20 * 256), "20.0 s");
  EXPECT_EQ(format_time(3 * 256 + 128), "3.5 s");
  EXPECT_EQ(format_time(20 * 256 - 5), "19.98046875 s");
  EXPECT_EQ(format_time(0), "0.0 s");
  EXPECT_EQ(format_time(0xffff), "255.99609375 s");
  EXPECT_EQ(seconds(2 * 256), 2);
  EXPECT_EQ(seconds(2 * 256 + 127), 2);
  EXPECT_EQ(seconds(2 * 256 + 128), 3);
  EXPECT_EQ(to_wire(15), 15 * 256);
  EXPECT_STREQ(bpdu_role_name(BpduRole::kUnknown), "Unknown");
  EXPECT_STREQ(bpdu_role_name(BpduRole::kAlternateOrBackup), "Alternate/Backup");
  EXPECT_STREQ(bpdu_role_name(BpduRole::kRoot), "Root");
  EXPECT_STREQ(bpdu_role_name(BpduRole::kDesignated), "Designated");
  EXPECT_EQ(to_string(tcn()), "TCN v0");
  EXPECT_EQ(to_string(config_example()),
            "Config v0 flags TC,TCA root 8001.020000000001 cost 4 bridge 8001.020000000002 port "
            "128.2 age 1.0 s max-age 20.0 s hello 2.0 s forward-delay 15.0 s");
  EXPECT_EQ(to_string(rst_example()),
            "RST v2 role Designated flags TC,proposal,learning,agreement root 1000.02000000000a "
            "cost 20000 bridge 700a.02000000000b port 144.291 age 3.5 s max-age 6.0 s hello 1.0 s "
            "forward-delay 4.0 s");
}

// --- golden bytes and round trips ---------------------------------------------------------------

TEST(BpduCodec, ConfigGoldenBytes) {
  EXPECT_EQ(encode_bpdu(config_example()), kConfigGolden);
  auto d = decode_bpdu(kConfigGolden);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, config_example());
}

TEST(BpduCodec, RstGoldenBytes) {
  EXPECT_EQ(encode_bpdu(rst_example()), kRstGolden);
  auto d = decode_bpdu(kRstGolden);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, rst_example());
}

TEST(BpduCodec, TcnGoldenBytes) {
  EXPECT_EQ(encode_bpdu(tcn()), kTcnGolden);
  auto d = decode_bpdu(kTcnGolden);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, tcn());
}

TEST(BpduCodec, SizesByType) {
  EXPECT_EQ(encode_bpdu(config_example()).size(), kConfigBpduSize);
  EXPECT_EQ(encode_bpdu(rst_example()).size(), kRstBpduSize);
  EXPECT_EQ(encode_bpdu(tcn()).size(), kTcnBpduSize);
}

// Each RST flag is its own bit (§9.3.3): set alone, it encodes to exactly that bit and decodes
// back to exactly that flag.
TEST(BpduCodec, EachRstFlagIsItsOwnBit) {
  struct Case {
    const char* name;
    void (*set)(BpduFlags&);
    uint8_t octet;
  };
  const Case cases[] = {
      {"topology change", [](BpduFlags& f) { f.topology_change = true; }, 0x01},
      {"proposal", [](BpduFlags& f) { f.proposal = true; }, 0x02},
      {"role alternate/backup", [](BpduFlags& f) { f.role = BpduRole::kAlternateOrBackup; }, 0x04},
      {"role root", [](BpduFlags& f) { f.role = BpduRole::kRoot; }, 0x08},
      {"role designated", [](BpduFlags& f) { f.role = BpduRole::kDesignated; }, 0x0c},
      {"learning", [](BpduFlags& f) { f.learning = true; }, 0x10},
      {"forwarding", [](BpduFlags& f) { f.forwarding = true; }, 0x20},
      {"agreement", [](BpduFlags& f) { f.agreement = true; }, 0x40},
      {"topology change ack", [](BpduFlags& f) { f.topology_change_ack = true; }, 0x80},
  };
  for (const Case& c : cases) {
    Bpdu b = rst_example();
    b.flags = {};
    c.set(b.flags);
    auto wire = encode_bpdu(b);
    ASSERT_EQ(wire.size(), kRstBpduSize);
    EXPECT_EQ(wire[4], c.octet) << c.name;
    auto d = decode_bpdu(wire);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.error().message;
    EXPECT_EQ(d->flags, b.flags) << c.name;
  }
}

TEST(BpduCodec, FlagsThatAConfigBpduLacksAreNotEncoded) {
  // §9.3.1: a Configuration BPDU has only TC (bit 1) and TCA (bit 8).
  Bpdu b = config_example();
  b.flags = {.topology_change = false,
             .proposal = true,
             .role = BpduRole::kDesignated,
             .learning = true,
             .forwarding = true,
             .agreement = true,
             .topology_change_ack = false};
  EXPECT_EQ(encode_bpdu(b)[4], 0x00);
  b.flags.topology_change = true;
  EXPECT_EQ(encode_bpdu(b)[4], 0x01);
  b.flags.topology_change_ack = true;
  EXPECT_EQ(encode_bpdu(b)[4], 0x81);
  // ...and bits 2–7 of a received Configuration BPDU are not read as RST flags.
  auto wire = kConfigGolden;
  wire[4] = 0xff;
  auto d = decode_bpdu(wire);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->flags, (BpduFlags{.topology_change = true, .topology_change_ack = true}));
}

TEST(BpduCodec, TcnEncodesNothingButItsType) {
  Bpdu b = config_example();  // every field set...
  b.type = BpduType::kTcn;    // ...but a TCN carries none of them
  EXPECT_EQ(encode_bpdu(b), kTcnGolden);
}

TEST(BpduCodec, RstIsNeverWrittenBelowVersion2) {
  Bpdu b = rst_example();
  b.version = 0;
  auto wire = encode_bpdu(b);
  EXPECT_EQ(wire[2], 2);
  auto d = decode_bpdu(wire);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->type, BpduType::kRst);
}

TEST(BpduCodec, TrailingOctetsAreIgnored) {
  auto config = kConfigGolden;
  config.insert(config.end(), {0xde, 0xad});
  auto d = decode_bpdu(config);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, config_example());

  // A TCN is its four octets; whatever follows (here a whole Configuration BPDU body) is not read.
  auto tcn_long = kConfigGolden;
  tcn_long[3] = 0x80;
  d = decode_bpdu(tcn_long);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, tcn());
}

TEST(BpduCodec, LaterVersionsAreReadAsRstAndKeepTheirVersion) {
  // §9.3.4 c: version 3 (MSTP) and later with type 0x02 are RST BPDUs; an MST BPDU's CIST fields
  // are the RST fields, its MST part (from octet 37 on) is not read.
  auto wire = kRstGolden;
  wire[2] = 3;
  wire.resize(102, 0x55);
  wire[35] = 0;  // Version 1 Length
  auto d = decode_bpdu(wire);
  ASSERT_TRUE(d.ok()) << d.error().message;
  Bpdu want = rst_example();
  want.version = 3;
  EXPECT_EQ(*d, want);
  // Re-encoding keeps the version it was received with.
  EXPECT_EQ(encode_bpdu(*d)[2], 3);

  wire = kRstGolden;
  wire[2] = 0xff;
  d = decode_bpdu(wire);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->type, BpduType::kRst);
  EXPECT_EQ(d->version, 0xff);
}

TEST(BpduCodec, ConfigAndTcnOfAnyVersionAreAccepted) {
  // §9.3.4 a and b look only at the type for STP BPDUs; the version is kept as received.
  auto config = kConfigGolden;
  config[2] = 2;
  auto d = decode_bpdu(config);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->type, BpduType::kConfig);
  EXPECT_EQ(d->version, 2);
  EXPECT_EQ(encode_bpdu(*d), config);
}

TEST(BpduCodec, RstVersion1LengthIsNotChecked) {
  auto wire = kRstGolden;
  wire[35] = 0x40;
  auto d = decode_bpdu(wire);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, rst_example());
}

TEST(BpduCodec, RstMessageAgeIsLeftToTheEngine) {
  // Only a Configuration BPDU is invalid with message age >= max age (§9.3.4 a); for RST the
  // engine ages such information out at once (§17.21.23).
  Bpdu b = rst_example();
  b.times.message_age = b.times.max_age;
  auto d = decode_bpdu(encode_bpdu(b));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, b);
}

// --- errors -------------------------------------------------------------------------------------

TEST(BpduCodec, TruncatedAtEveryBoundary) {
  for (size_t n = 0; n < kTcnBpduSize; ++n) {
    std::span<const uint8_t> cut(kConfigGolden.data(), n);
    EXPECT_EQ(error_of(decode_bpdu(cut)),
              fmt::format(
                  "BPDU truncated: need 4 octets (protocol identifier, version, type), have {}", n))
        << n;
  }
  for (size_t n = kTcnBpduSize; n < kConfigBpduSize; ++n) {
    std::span<const uint8_t> cut(kConfigGolden.data(), n);
    EXPECT_EQ(error_of(decode_bpdu(cut)),
              fmt::format("BPDU truncated: a Configuration BPDU needs 35 octets, have {}", n))
        << n;
  }
  for (size_t n = kTcnBpduSize; n < kRstBpduSize; ++n) {
    std::span<const uint8_t> cut(kRstGolden.data(), n);
    EXPECT_EQ(error_of(decode_bpdu(cut)),
              fmt::format("BPDU truncated: an RST BPDU needs 36 octets, have {}", n))
        << n;
  }
  EXPECT_TRUE(decode_bpdu(std::span(kConfigGolden.data(), kConfigBpduSize)).ok());
  EXPECT_TRUE(decode_bpdu(std::span(kRstGolden.data(), kRstBpduSize)).ok());
  EXPECT_TRUE(decode_bpdu(std::span(kTcnGolden.data(), kTcnBpduSize)).ok());
}

TEST(BpduCodec, WrongProtocolIdentifier) {
  auto wire = kConfigGolden;
  wire[1] = 0x01;
  EXPECT_EQ(error_of(decode_bpdu(wire)), "BPDU protocol identifier 0x0001: expected 0x0000");
  wire = kTcnGolden;
  wire[0] = 0x80;
  EXPECT_EQ(error_of(decode_bpdu(wire)), "BPDU protocol identifier 0x8000: expected 0x0000");
}

TEST(BpduCodec, UnknownTypeForTheVersion) {
  auto wire = kConfigGolden;
  wire[3] = 0x03;
  EXPECT_EQ(error_of(decode_bpdu(wire)),
            "BPDU type 0x03 for version 0: expected 0x00 (Configuration) or 0x80 (TCN); RST "
            "BPDUs (0x02) need version 2 or later");
  wire = kRstGolden;
  wire[3] = 0x03;
  EXPECT_EQ(error_of(decode_bpdu(wire)),
            "BPDU type 0x03 for version 2: expected 0x00 (Configuration), 0x02 (RST) or 0x80 "
            "(TCN)");
  // An RST type needs version 2 (§9.3.4 c); version 0 and 1 are STP.
  for (uint8_t version : {0, 1}) {
    wire = kRstGolden;
    wire[2] = version;
    EXPECT_EQ(error_of(decode_bpdu(wire)),
              fmt::format("BPDU type 0x02 for version {}: expected 0x00 (Configuration) or 0x80 "
                          "(TCN); RST BPDUs (0x02) need version 2 or later",
                          version));
  }
}

TEST(BpduCodec, ConfigMessageAgeMustBeBelowMaxAge) {
  Bpdu b = config_example();
  b.times.message_age = b.times.max_age;
  EXPECT_EQ(error_of(decode_bpdu(encode_bpdu(b))),
            "Configuration BPDU message age 20.0 s is not below max age 20.0 s");
  b.times.message_age = b.times.max_age + 1;
  EXPECT_EQ(error_of(decode_bpdu(encode_bpdu(b))),
            "Configuration BPDU message age 20.00390625 s is not below max age 20.0 s");
  b.times.message_age = b.times.max_age - 1;  // 1/256 s younger: valid
  auto d = decode_bpdu(encode_bpdu(b));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, b);
}

// --- frames -------------------------------------------------------------------------------------

const packet::MacAddress kSource = mac("02:00:00:00:00:02");

std::vector<uint8_t> frame_header(uint16_t length) {
  std::vector<uint8_t> f = bytes({0x01, 0x80, 0xc2, 0x00, 0x00, 0x00,  // destination
                                  0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // source
                                  length >> 8, length & 0xff,          // 802.3 length
                                  0x42, 0x42, 0x03});                  // LLC DSAP, SSAP, UI
  return f;
}

TEST(BpduFrame, ConfigGoldenFrame) {
  std::vector<uint8_t> want = frame_header(38);  // LLC 3 + BPDU 35
  want.insert(want.end(), kConfigGolden.begin(), kConfigGolden.end());
  want.resize(60, 0x00);  // padded to the minimum frame size, without FCS
  EXPECT_EQ(encode_bpdu_frame(kSource, config_example()), want);
  auto d = decode_bpdu_frame(want);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, config_example());
}

TEST(BpduFrame, RoundTripsEveryType) {
  for (const Bpdu& b : {config_example(), rst_example(), tcn()}) {
    auto f = encode_bpdu_frame(kSource, b);
    EXPECT_EQ(f.size(), 60u);
    EXPECT_EQ(packet::MacAddress({f[6], f[7], f[8], f[9], f[10], f[11]}), kSource);
    EXPECT_EQ(load_be16(&f[12]), 3 + encode_bpdu(b).size());
    auto d = decode_bpdu_frame(f);
    ASSERT_TRUE(d.ok()) << to_string(b) << ": " << d.error().message;
    EXPECT_EQ(*d, b);
  }
}

TEST(BpduFrame, UnpaddedFrameIsAccepted) {
  // Linux and veth send BPDUs unpadded: 14 + 3 + 35 octets.
  std::vector<uint8_t> f = frame_header(38);
  f.insert(f.end(), kConfigGolden.begin(), kConfigGolden.end());
  auto d = decode_bpdu_frame(f);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, config_example());
}

TEST(BpduFrame, LengthFieldBoundsWhatIsRead) {
  // The length says 3 + 20: the BPDU is truncated even though padding follows it.
  auto f = encode_bpdu_frame(kSource, config_example());
  store_be16(&f[12], 3 + 20);
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU truncated: a Configuration BPDU needs 35 octets, have 20");
  // The length says more than the frame holds.
  f = encode_bpdu_frame(kSource, config_example());
  store_be16(&f[12], 60 - 14 + 1);
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame truncated: the length field says 47 octets follow the header, have 46");
  // The length does not cover the LLC header.
  store_be16(&f[12], 2);
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame length field 2 does not cover the LLC header: expected at least 3");
  // A length of exactly 1500 is still a length.
  f = encode_bpdu_frame(kSource, config_example());
  store_be16(&f[12], 1500);
  f.resize(14 + 1500, 0);
  EXPECT_TRUE(decode_bpdu_frame(f).ok());
}

TEST(BpduFrame, EtherTypeInsteadOfLength) {
  auto f = encode_bpdu_frame(kSource, config_example());
  store_be16(&f[12], 0x0800);
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame length field 0x0800 is an EtherType: expected an IEEE 802.3 length of at "
            "most 1500");
  store_be16(&f[12], 0x8100);  // a VLAN tag: BPDUs are untagged
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame length field 0x8100 is an EtherType: expected an IEEE 802.3 length of at "
            "most 1500");
  store_be16(&f[12], 1501);  // neither a length nor an EtherType
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame length field 1501 (0x05dd): expected an IEEE 802.3 length of at most "
            "1500");
}

TEST(BpduFrame, WrongLlc) {
  auto f = encode_bpdu_frame(kSource, config_example());
  f[14] = 0xaa;  // SNAP
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame LLC DSAP 0xaa: expected 0x42 (Spanning Tree)");
  f = encode_bpdu_frame(kSource, config_example());
  f[15] = 0x43;  // the response bit
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame LLC SSAP 0x43: expected 0x42 (Spanning Tree)");
  f = encode_bpdu_frame(kSource, config_example());
  f[16] = 0x13;
  EXPECT_EQ(error_of(decode_bpdu_frame(f)), "BPDU frame LLC control 0x13: expected 0x03 (UI)");
}

TEST(BpduFrame, WrongDestination) {
  auto f = encode_bpdu_frame(kSource, config_example());
  f[5] = 0x08;  // the Provider Bridge Group Address is not ours
  EXPECT_EQ(error_of(decode_bpdu_frame(f)),
            "BPDU frame destination 01:80:c2:00:00:08: expected 01:80:c2:00:00:00 (Bridge Group "
            "Address)");
  f[0] = 0xff;
  f[5] = 0x00;
  EXPECT_FALSE(decode_bpdu_frame(f).ok());
}

TEST(BpduFrame, TruncatedHeaders) {
  auto f = encode_bpdu_frame(kSource, tcn());
  for (size_t n = 0; n < 17; ++n) {
    EXPECT_EQ(
        error_of(decode_bpdu_frame(std::span(f.data(), n))),
        fmt::format("BPDU frame truncated: need 17 octets (Ethernet header and LLC), have {}", n))
        << n;
  }
}

// Every single-octet change of a valid frame is either rejected with EBADMSG or decodes to a BPDU
// that survives a re-encode: no octet value is read in a way the encoder cannot reproduce.
TEST(BpduFrame, EveryOctetValueAtEveryPosition) {
  for (const Bpdu& b : {config_example(), rst_example(), tcn()}) {
    const auto good = encode_bpdu_frame(kSource, b);
    int decoded = 0;
    for (size_t pos = 0; pos < good.size(); ++pos) {
      for (int v = 0; v < 256; ++v) {
        auto f = good;
        f[pos] = static_cast<uint8_t>(v);
        auto d = decode_bpdu_frame(f);
        if (!d.ok()) {
          ASSERT_EQ(d.error().code, EBADMSG);
          continue;
        }
        ++decoded;
        auto again = decode_bpdu_frame(encode_bpdu_frame(kSource, *d));
        ASSERT_TRUE(again.ok()) << pos << "=" << v << ": " << again.error().message;
        ASSERT_EQ(*again, *d) << pos << "=" << v;
      }
    }
    EXPECT_GT(decoded, 1000) << to_string(b);  // most of the fields take any value
  }
}

// --- interop: the Linux kernel bridge -----------------------------------------------------------

// tests/data/linux-bridge-stp.pcap (README.md there): bridge A (priority 4096, MAC
// 02:00:00:00:0a:01, port a1 02:00:00:00:0a:11) is the root; bridge B (priority 32768, MAC
// 02:00:00:00:0b:01, port b1 02:00:00:00:0b:11) first claims the root itself, then takes A's
// and reports its second port's move to forwarding with TCNs, which A acknowledges. Every
// frame was captured on a1, so both directions are in it.
TEST(BpduInterop, LinuxBridgeCapture) {
  char err[PCAP_ERRBUF_SIZE];
  const std::string path = std::string(VNET_TEST_DATA_DIR) + "/linux-bridge-stp.pcap";
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  const auto a_port = mac("02:00:00:00:0a:11");
  const auto b_port = mac("02:00:00:00:0b:11");
  const BridgeId a = BridgeId::make(4096, 0, mac("02:00:00:00:0a:01"));
  const BridgeId b = BridgeId::make(32768, 0, mac("02:00:00:00:0b:01"));
  int frames = 0, a_config = 0, b_config = 0, tcns = 0, tc = 0, tc_ack = 0;
  bool tcn_seen = false;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++frames;
    std::span<const uint8_t> frame(data, h->caplen);
    ASSERT_GE(frame.size(), 14u);
    const packet::MacAddress src{{frame[6], frame[7], frame[8], frame[9], frame[10], frame[11]}};
    auto d = decode_bpdu_frame(frame);
    ASSERT_TRUE(d.ok()) << "frame " << frames << ": " << d.error().message;
    EXPECT_EQ(d->version, 0) << "frame " << frames;  // the kernel bridge speaks 802.1D STP only
    if (d->type == BpduType::kTcn) {
      EXPECT_EQ(src, b_port) << "frame " << frames;  // only the non-root bridge sends TCNs
      ++tcns;
      tcn_seen = true;
    } else {
      ASSERT_EQ(d->type, BpduType::kConfig) << "frame " << frames;
      // A root bridge sends its own identifier as root and bridge, cost 0, its port 1 with the
      // kernel's default port priority (32 of 63, i.e. 128 of 240), and the configured times.
      const BridgeId self = src == a_port ? a : b;
      EXPECT_TRUE(src == a_port || src == b_port) << src.to_string();
      a_config += src == a_port;
      b_config += src == b_port;
      EXPECT_EQ(d->root, self) << to_string(*d);
      EXPECT_EQ(d->bridge, self) << to_string(*d);
      EXPECT_EQ(d->root_path_cost, 0u);
      EXPECT_EQ(d->port, PortId::make(128, 1)) << to_string(*d);
      EXPECT_EQ(d->times, (BpduTimes{.message_age = 0,
                                     .max_age = to_wire(20),
                                     .hello_time = to_wire(2),
                                     .forward_delay = to_wire(2)}));
      tc += d->flags.topology_change;
      tc_ack += d->flags.topology_change_ack;
      // The root sets TCA only in answer to a TCN, so none before the first TCN.
      if (d->flags.topology_change_ack) {
        EXPECT_TRUE(tcn_seen) << "frame " << frames;
      }
    }
    // Our encoder writes the kernel's octets (the kernel does not pad: veth frames are short).
    auto ours = encode_bpdu_frame(src, *d);
    const size_t used = 14 + load_be16(&frame[12]);
    ASSERT_GE(ours.size(), used);
    EXPECT_EQ(std::vector<uint8_t>(ours.begin(), ours.begin() + static_cast<long>(used)),
              std::vector<uint8_t>(frame.begin(), frame.begin() + static_cast<long>(used)))
        << "frame " << frames;
  }
  pcap_close(p);
  EXPECT_EQ(frames, 9);
  EXPECT_EQ(a_config, 6);
  EXPECT_EQ(b_config, 1);  // before B heard of A
  EXPECT_EQ(tcns, 2);      // the second one before A's acknowledgement reached B
  EXPECT_EQ(tc, 4);
  EXPECT_EQ(tc_ack, 2);
}

}  // namespace
