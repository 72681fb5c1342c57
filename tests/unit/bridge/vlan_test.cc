// VLAN classification as pure functions: the acceptable-frame-types and member-set table of
// every port mode against every kind of outer tag, and the egress rule.
#include "bridge/vlan.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::bridge;
using packet::TagHeader;

namespace {

constexpr uint16_t kC = 0x8100, kS = 0x88a8, kIpv4 = 0x0800;

packet::TagStack stack(std::vector<TagHeader> tags) {
  packet::TagStack s;
  for (auto& t : tags) s.tags[s.depth++] = t;
  s.ether_type = kIpv4;
  s.ether_type_offset = static_cast<uint16_t>(12 + 4 * s.depth);
  return s;
}

PortConfig mode(const std::string& text) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    if (sp == std::string::npos) sp = text.size();
    words.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  auto c = PortConfig::parse(words);
  EXPECT_TRUE(c.ok()) << text << ": " << c.error().message;
  return c.ok() ? *c : PortConfig{};
}

// What classify_ingress answered, as text: "VID" or "VID pop" (pcp noted when non-zero), or the
// drop reason's name.
std::string ingress(const std::string& port, const packet::TagStack& tags) {
  IngressDecision d = classify_ingress(mode(port), tags);
  if (!d.admitted) return std::string(drop_reason_name(d.drop));
  std::string s = std::to_string(d.vid);
  if (d.pop_outer) s += " pop";
  if (d.pcp) s += " pcp" + std::to_string(d.pcp);
  return s;
}

const auto kUntagged = stack({});
const auto kPriority = stack({{kC, 5, false, 0}});
const auto kC10 = stack({{kC, 3, false, 10}});
const auto kC30 = stack({{kC, 0, false, 30}});
const auto kC4095 = stack({{kC, 0, false, 4095}});
const auto kS10 = stack({{kS, 0, false, 10}});

struct Row {
  const char* port;
  const packet::TagStack* frame;
  const char* frame_name;
  const char* expect;
};

// IEEE 802.1Q-2018 §6.9 acceptable frame types with the defaults of each mode, then the member
// set (§8.6.2). Frames without a classifiable C-tag take the PVID.
const Row kIngress[] = {
    // access: default admits untagged and priority-tagged only
    {"access 10", &kUntagged, "untagged", "10"},
    {"access 10", &kPriority, "priority", "10 pop pcp5"},
    {"access 10", &kC10, "C10", "frame_type_not_admitted"},
    {"access 10", &kC30, "C30", "frame_type_not_admitted"},
    {"access 10", &kS10, "S10", "frame_type_not_admitted"},
    {"access 10", &kC4095, "C4095", "reserved_vid"},
    // access admitting all: its own tag is accepted, any other is not a member
    {"access 10 admit all", &kUntagged, "untagged", "10"},
    {"access 10 admit all", &kPriority, "priority", "10 pop pcp5"},
    {"access 10 admit all", &kC10, "C10", "10 pop pcp3"},
    {"access 10 admit all", &kC30, "C30", "vlan_not_member"},
    {"access 10 admit all", &kS10, "S10", "10"},
    // access admitting tagged only
    {"access 10 admit tagged", &kUntagged, "untagged", "frame_type_not_admitted"},
    {"access 10 admit tagged", &kPriority, "priority", "frame_type_not_admitted"},
    {"access 10 admit tagged", &kC10, "C10", "10 pop pcp3"},
    {"access 10 admit tagged", &kS10, "S10", "frame_type_not_admitted"},
    // trunk with native: default admits all
    {"trunk 10,20 native 20", &kUntagged, "untagged", "20"},
    {"trunk 10,20 native 20", &kPriority, "priority", "20 pop pcp5"},
    {"trunk 10,20 native 20", &kC10, "C10", "10 pop pcp3"},
    {"trunk 10,20 native 20", &kC30, "C30", "vlan_not_member"},
    {"trunk 10,20 native 20", &kS10, "S10", "20"},
    {"trunk 10,20 native 20", &kC4095, "C4095", "reserved_vid"},
    {"trunk 10,20 native 20 admit tagged", &kUntagged, "untagged", "frame_type_not_admitted"},
    {"trunk 10,20 native 20 admit tagged", &kC10, "C10", "10 pop pcp3"},
    {"trunk 10,20 native 20 admit tagged", &kS10, "S10", "frame_type_not_admitted"},
    {"trunk 10,20 native 20 admit untagged", &kUntagged, "untagged", "20"},
    {"trunk 10,20 native 20 admit untagged", &kPriority, "priority", "20 pop pcp5"},
    {"trunk 10,20 native 20 admit untagged", &kC10, "C10", "frame_type_not_admitted"},
    {"trunk 10,20 native 20 admit untagged", &kS10, "S10", "frame_type_not_admitted"},
    // trunk without native: no PVID, default admits tagged only
    {"trunk 10,20", &kUntagged, "untagged", "untagged_not_allowed"},
    {"trunk 10,20", &kPriority, "priority", "untagged_not_allowed"},
    {"trunk 10,20", &kC10, "C10", "10 pop pcp3"},
    {"trunk 10,20", &kC30, "C30", "vlan_not_member"},
    {"trunk 10,20", &kS10, "S10", "untagged_not_allowed"},
    {"trunk 10,20 admit all", &kS10, "S10", "untagged_not_allowed"},
};

TEST(VlanIngress, AcceptableFrameTypesAndMembersPerMode) {
  for (const Row& r : kIngress) {
    EXPECT_EQ(ingress(r.port, *r.frame), r.expect) << r.port << " receiving " << r.frame_name;
  }
}

TEST(VlanIngress, LeadingTypeIsWhatFollowsTheRemovedTag) {
  auto d = classify_ingress(mode("access 10 admit all"),
                            stack({{kC, 0, false, 10}, {kC, 0, false, 20}}));
  ASSERT_TRUE(d.admitted);
  EXPECT_TRUE(d.pop_outer);
  EXPECT_EQ(d.leading_type, kC);  // the inner tag is now in front
  d = classify_ingress(mode("access 10 admit all"), kS10);
  EXPECT_FALSE(d.pop_outer);
  EXPECT_EQ(d.leading_type, kS);  // the S-tag was not classified on, so it stays in front
  d = classify_ingress(mode("access 10"), stack({{kC, 0, false, 0}, {kS, 0, false, 20}}));
  EXPECT_TRUE(d.pop_outer);
  EXPECT_EQ(d.leading_type, kS);  // a priority tag in front of an S-tag
  d = classify_ingress(mode("access 10"), kUntagged);
  EXPECT_EQ(d.leading_type, kIpv4);
}

TEST(VlanIngress, DefaultsFollowTheMode) {
  EXPECT_EQ(mode("access 10").acceptable_frames(), AcceptableFrames::kUntaggedOnly);
  EXPECT_EQ(mode("trunk 10 native 10").acceptable_frames(), AcceptableFrames::kAll);
  EXPECT_EQ(mode("trunk 10").acceptable_frames(), AcceptableFrames::kTaggedOnly);
  EXPECT_EQ(mode("trunk 10 admit all").acceptable_frames(), AcceptableFrames::kAll);
}

std::string egress(VlanId vid, const std::string& port, uint16_t leading) {
  EgressDecision e = classify_egress(vid, mode(port), leading);
  switch (e.action) {
    case EgressAction::kTag:
      return "tag";
    case EgressAction::kUntag:
      return "untag";
    case EgressAction::kDrop:
      return std::string(drop_reason_name(e.reason));
  }
  return "?";
}

TEST(VlanEgress, NeverUntaggedWhileATagIsInFront) {
  struct {
    VlanId vid;
    const char* port;
    uint16_t leading;
    const char* expect;
  } rows[] = {
      {10, "access 10", kIpv4, "untag"},
      {10, "access 10", kC, "exposed_tag"},
      {10, "access 10", kS, "exposed_tag"},
      {10, "trunk 10,20 native 10", kIpv4, "untag"},
      {10, "trunk 10,20 native 10", kC, "exposed_tag"},
      {10, "trunk 10,20 native 10", kS, "exposed_tag"},
      {20, "trunk 10,20 native 10", kIpv4, "tag"},
      {20, "trunk 10,20 native 10", kC, "tag"},  // leaves with its stack, our C-tag in front
      {20, "trunk 10,20 native 10", kS, "tag"},
      {10, "trunk 10,20", kC, "tag"},
      {30, "trunk 10,20", kIpv4, "vlan_not_member"},
      {20, "access 10", kIpv4, "vlan_not_member"},
  };
  for (auto& r : rows) {
    EXPECT_EQ(egress(r.vid, r.port, r.leading), r.expect)
        << "VLAN " << r.vid << " out of " << r.port << " starting with " << std::hex << r.leading;
  }
}

TEST(PortConfigText, AdmitRoundTripsAndBadInputIsNamed) {
  for (const char* text :
       {"access 10", "access 10 admit all", "access 10 admit tagged", "access 10 admit untagged",
        "trunk 10,20-22 native 10", "trunk 10,20-22 native 10 admit tagged", "trunk 10 admit all",
        "trunk none", "trunk none native 5", "trunk 1-4094"}) {
    PortConfig c = mode(text);
    EXPECT_EQ(c.to_string(), text);
    EXPECT_EQ(mode(c.to_string()), c) << text;
  }
  auto err = [](std::vector<std::string> w) {
    auto c = PortConfig::parse(w);
    return c.ok() ? std::string("ok") : c.error().message;
  };
  EXPECT_EQ(err({"access", "10", "admit", "some"}),
            "bad acceptable frame types 'some': expected all, tagged or untagged");
  EXPECT_EQ(err({"access", "10", "admit"}), "'admit' needs all, tagged or untagged");
  EXPECT_EQ(err({"trunk", "10", "admit", "untagged"}),
            "a trunk without a native VLAN has no VLAN for untagged frames: 'admit untagged' "
            "would admit nothing");
  EXPECT_NE(err({"access", "10", "native", "10"}).find("unexpected 'native' after '10'"),
            std::string::npos);
  EXPECT_NE(err({"trunk", "10", "admit", "all", "native", "10"}).find("unexpected 'native'"),
            std::string::npos);
  EXPECT_NE(err({"trunk", "10", "native"}), "ok");
}

}  // namespace
