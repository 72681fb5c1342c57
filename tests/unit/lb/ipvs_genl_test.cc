// IPVS over generic netlink (lb/ipvs_genl.hh): the exact bytes keepalived's requests carry
// (include/uapi/linux/ip_vs.h: nested service and destination attributes, the port in network
// order, ip_vs_flags with a full mask), the controller's family lookup, and dump messages read
// back — including malformed ones, which fail with EBADMSG, and the kernel's errors, which keep
// their errno.
#include "lb/ipvs_genl.hh"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>

#include <cstring>
#include <vector>

using namespace vnet::lb::ipvs;

namespace {

std::vector<uint8_t> hex(const char* s) {
  std::vector<uint8_t> out;
  for (const char* p = s; *p;) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(p, 2), nullptr, 16)));
    p += 2;
  }
  return out;
}

Addr v4(const char* a) {
  Addr out{};
  inet_pton(AF_INET, a, out.data());
  return out;
}

Service web() {
  Service s;
  s.addr = v4("10.0.0.1");
  s.port = 80;
  s.scheduler = "wlc";
  return s;
}

std::vector<uint8_t> built(Cmd cmd, const Service* s, const Dest* d, uint16_t family = 0x20,
                           uint32_t seq = 7) {
  std::vector<uint8_t> buf(kMaxRequest);
  auto n = build(buf, family, seq, cmd, s, d);
  EXPECT_TRUE(n.ok()) << n.error().message;
  buf.resize(n.ok() ? *n : 0);
  return buf;
}

TEST(IpvsGenl, NewServiceGoldenBytes) {
  Service s = web();
  EXPECT_EQ(built(Cmd::kNewService, &s, nullptr),
            hex("68000000 2000 0500 07000000 00000000"  // nlmsghdr: len 104, family, REQUEST|ACK
                "01010000"                              // genl: NEW_SERVICE, version 1
                "54000180"                              // SERVICE, nested
                "06000100 02000000"                     // AF_INET
                "06000200 06000000"                     // TCP
                "14000300 0a000001 00000000 00000000 00000000"  // 10.0.0.1
                "06000400 00500000"                             // port 80, network order
                "08000600 776c6300"                             // "wlc"
                "0c000700 00000000 ffffffff"                    // flags 0, mask all
                "08000800 00000000"                             // timeout 0
                "08000900 ffffffff"));                          // netmask /32
}

TEST(IpvsGenl, NewDestGoldenBytes) {
  Service s = web();
  Dest d;
  d.addr = v4("10.0.1.2");
  d.port = 8080;
  d.weight = 3;
  EXPECT_EQ(built(Cmd::kNewDest, &s, &d),
            hex("8c000000 2000 0500 07000000 00000000"
                "05010000"  // NEW_DEST
                "30000180 06000100 02000000 06000200 06000000"
                "14000300 0a000001 00000000 00000000 00000000 06000400 00500000"
                "48000280"                                      // DEST, nested
                "14000100 0a000102 00000000 00000000 00000000"  // 10.0.1.2
                "06000200 1f900000"                             // 8080
                "08000300 00000000"                             // masquerading
                "08000400 03000000"                             // weight 3
                "08000500 00000000 08000600 00000000"           // thresholds
                "06000b00 02000000"));                          // AF_INET
}

TEST(IpvsGenl, KeysOnlyForDeletesAndFwmarkServices) {
  Service s;
  s.fwmark = 5;
  s.protocol = 0;
  s.scheduler = "rr";
  auto del = built(Cmd::kDelService, &s, nullptr);
  EXPECT_EQ(del, hex("28000000 2000 0500 07000000 00000000 03010000"
                     "14000180 06000100 02000000 08000500 05000000"));
  auto flush = built(Cmd::kFlush, nullptr, nullptr);
  EXPECT_EQ(flush, hex("14000000 2000 0500 07000000 00000000 11010000"));
  auto dump = built(Cmd::kGetService, nullptr, nullptr);
  EXPECT_EQ(dump[6] | dump[7] << 8, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
}

TEST(IpvsGenl, RefusesWhatTheKernelWouldMisread) {
  std::vector<uint8_t> buf(kMaxRequest);
  Service s = web();
  s.scheduler = "a-scheduler-name";  // 16 characters: no room for the NUL
  EXPECT_EQ(build(buf, 0x20, 1, Cmd::kNewService, &s).error().code, EINVAL);
  EXPECT_EQ(build(buf, 0x20, 1, Cmd::kNewDest, &s, nullptr).error().code, EINVAL);
  EXPECT_EQ(build(buf, 0x20, 1, Cmd::kDelService).error().code, EINVAL);
  std::vector<uint8_t> small(64);
  EXPECT_EQ(build(small, 0x20, 1, Cmd::kFlush).error().code, EINVAL);
}

TEST(IpvsGenl, FamilyLookup) {
  std::vector<uint8_t> buf(kMaxRequest);
  size_t n = build_get_family(buf, 9, kFamilyName);
  buf.resize(n);
  EXPECT_EQ(buf, hex("20000000 1000 0100 09000000 00000000 03010000 09000200 49505653 00000000"));
  // The controller's answer: CTRL_ATTR_FAMILY_ID 0x23.
  std::vector<uint8_t> ans(256);
  nlmsghdr* nlh = mnl_nlmsg_put_header(ans.data());
  nlh->nlmsg_type = GENL_ID_CTRL;
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = CTRL_CMD_NEWFAMILY;
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "IPVS");
  mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x23);
  auto id = parse_family_id({ans.data(), nlh->nlmsg_len});
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, 0x23);
  // No ip_vs module: the controller answers ENOENT.
  std::vector<uint8_t> err(64, 0);
  nlh = mnl_nlmsg_put_header(err.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  e->error = -ENOENT;
  EXPECT_EQ(parse_family_id({err.data(), nlh->nlmsg_len}).error().code, ENOENT);
}

// A dump message as the kernel sends it: the service in full, with 64-bit counters.
std::vector<uint8_t> service_dump(const Service& s, bool with_sched = true) {
  std::vector<uint8_t> buf(1024);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = 0x20;
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = IPVS_CMD_NEW_SERVICE;
  nlattr* nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_SERVICE);
  mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_AF, s.af);
  mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PROTOCOL, s.protocol);
  mnl_attr_put(nlh, IPVS_SVC_ATTR_ADDR, 16, s.addr.data());
  mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PORT, htons(s.port));
  mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_FWMARK, 0);
  if (with_sched) mnl_attr_put_strz(nlh, IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.c_str());
  ip_vs_flags f{s.flags | IP_VS_SVC_F_HASHED, ~0u};
  mnl_attr_put(nlh, IPVS_SVC_ATTR_FLAGS, sizeof f, &f);
  mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_TIMEOUT, s.timeout);
  mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_NETMASK, s.netmask);
  nlattr* st = mnl_attr_nest_start(nlh, IPVS_SVC_ATTR_STATS64);
  mnl_attr_put_u64(nlh, IPVS_STATS_ATTR_CONNS, 12);
  mnl_attr_put_u64(nlh, IPVS_STATS_ATTR_INPKTS, 340);
  mnl_attr_put_u64(nlh, IPVS_STATS_ATTR_OUTPKTS, 300);
  mnl_attr_put_u64(nlh, IPVS_STATS_ATTR_INBYTES, 5000000000ull);
  mnl_attr_put_u64(nlh, IPVS_STATS_ATTR_OUTBYTES, 77);
  mnl_attr_nest_end(nlh, st);
  mnl_attr_nest_end(nlh, nest);
  buf.resize(nlh->nlmsg_len);
  return buf;
}

TEST(IpvsGenl, ServiceDumpReadBack) {
  Service s = web();
  s.flags = IP_VS_SVC_F_PERSISTENT;
  s.timeout = 300;
  s.netmask = htonl(0xffffff00);
  auto info = parse_service(service_dump(s));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->service, s);  // the kernel's HASHED flag is not ours
  EXPECT_EQ(info->stats.conns, 12u);
  EXPECT_EQ(info->stats.inpkts, 340u);
  EXPECT_EQ(info->stats.outpkts, 300u);
  EXPECT_EQ(info->stats.inbytes, 5000000000ull);
  EXPECT_EQ(info->stats.outbytes, 77u);
}

TEST(IpvsGenl, DestReadBackFromOwnRequest) {
  // A NEW_DEST request carries the same destination nest a GET_DEST dump does.
  Service s = web();
  Dest d;
  d.addr = v4("10.0.1.3");
  d.port = 80;
  d.fwd = Fwd::kRoute;
  d.weight = 0;
  d.u_threshold = 100;
  auto msg = built(Cmd::kNewDest, &s, &d);
  auto info = parse_dest(msg);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->dest, d);
  EXPECT_EQ(info->active, 0u);
}

TEST(IpvsGenl, MalformedDumpsFail) {
  Service s = web();
  auto good = service_dump(s);
  // Truncated: the length says more than there is.
  auto cut = good;
  cut.resize(cut.size() - 8);
  EXPECT_EQ(parse_service(cut).error().code, EBADMSG);
  // Shorter than the headers.
  EXPECT_EQ(parse_service(std::vector<uint8_t>(10)).error().code, EBADMSG);
  // No scheduler name.
  EXPECT_EQ(parse_service(service_dump(s, false)).error().code, EBADMSG);
  // A destination parser given a service message: no destination nest.
  EXPECT_EQ(parse_dest(good).error().code, EBADMSG);
  // An attribute whose length runs past the message.
  auto bad = good;
  bad[20] = 0xff;  // the service nest's length
  EXPECT_EQ(parse_service(bad).error().code, EBADMSG);
  // The kernel's error keeps its errno; an acknowledgement is no answer.
  std::vector<uint8_t> err(64, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(err.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  e->error = -EEXIST;
  EXPECT_EQ(parse_service({err.data(), nlh->nlmsg_len}).error().code, EEXIST);
  e->error = 0;
  EXPECT_EQ(parse_service({err.data(), nlh->nlmsg_len}).error().code, EBADMSG);
}

}  // namespace
