// VLAN hopping, over the whole input space that matters: two bridges joined by a trunk, an
// attacker on the first, receivers of every mode on both. For every attacker port mode ×
// inter-switch trunk × tag stack (none, one, two or three tags; TPID 0x8100 or 0x88a8 and VID
// 10, 20, 30 or 0 at every position) the frame must:
//   - enter the VLAN A that the reference below (written from 802.1Q-2018 §6.9 and §8.6.1, not
//     from bridge/vlan.cc) says, or be delivered nowhere if the reference says "drop";
//   - be delivered only at ports that are members of A, and there be read as VLAN A: tagged with
//     an outer C-tag of VID A where A leaves tagged, or untagged on an access/native-A port and
//     then not starting with any TPID (else the receiver, or the next switch, reads that tag);
//   - be delivered at exactly the member ports that can take it: everywhere in A when nothing
//     but the classified tag was in front, only where A leaves tagged when more tags follow.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

#include "bridge/bridge.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using packet::TagHeader;

namespace {

constexpr uint16_t kC = 0x8100, kS = 0x88a8;

// A port mode as text for the bridge, and what that text means, spelled out for the reference.
enum class Admit { kAll, kTagged, kUntagged };
struct Mode {
  const char* text;
  VlanId untagged;          // PVID and the VLAN leaving untagged; 0 = none
  std::set<VlanId> tagged;  // VLANs sent tagged (the other members)
  Admit admit;              // acceptable frame types in effect
  bool member(VlanId v) const { return v != 0 && (v == untagged || tagged.count(v)); }
};

const Mode kAttackers[] = {
    {"access 10", 10, {}, Admit::kUntagged},
    {"access 10 admit all", 10, {}, Admit::kAll},  // its own tag is accepted (and removed)
    {"access 10 admit tagged", 10, {}, Admit::kTagged},
    {"trunk 10,20 native 10", 10, {20}, Admit::kAll},
    {"trunk 10,20", 0, {10, 20}, Admit::kTagged},
    {"trunk 10,20 admit all", 0, {10, 20}, Admit::kAll},
    {"trunk 10,20 native 20", 20, {10}, Admit::kAll},
};
const Mode kTrunks[] = {
    {"trunk 10,20 native 10", 10, {20}, Admit::kAll},
    {"trunk 10,20 native 20", 20, {10}, Admit::kAll},
    {"trunk 10,20", 0, {10, 20}, Admit::kTagged},
};
// Receivers: ports 3, 4, … on both bridges. Egress does not depend on admission.
const Mode kReceivers[] = {
    {"access 10", 10, {}, Admit::kUntagged},
    {"access 20", 20, {}, Admit::kUntagged},
    {"access 30", 30, {}, Admit::kUntagged},
    {"trunk 10,20 native 10", 10, {20}, Admit::kAll},
    {"trunk 10,20 native 20", 20, {10}, Admit::kAll},
    {"trunk 10,20", 0, {10, 20}, Admit::kTagged},
    {"trunk 10,20,30", 0, {10, 20, 30}, Admit::kTagged},
};
// One tag of a stack: TPID × VID.
const TagHeader kTagChoices[] = {
    {kC, 0, false, 10}, {kC, 0, false, 20}, {kC, 0, false, 30}, {kC, 0, false, 0},
    {kS, 0, false, 10}, {kS, 0, false, 20}, {kS, 0, false, 30}, {kS, 0, false, 0},
};
constexpr size_t kMaxTags = 3;

// Every stack of 0..kMaxTags tags drawn from kTagChoices: 1 + 8 + 64 + 512.
std::vector<std::vector<TagHeader>> all_stacks() {
  std::vector<std::vector<TagHeader>> out = {{}};
  for (size_t begin = 0, depth = 1; depth <= kMaxTags; ++depth) {
    size_t end = out.size();
    for (size_t i = begin; i < end; ++i) {
      for (const TagHeader& t : kTagChoices) {
        auto s = out[i];
        s.push_back(t);
        out.push_back(s);
      }
    }
    begin = end;
  }
  return out;
}

// The reference: which VLAN a frame enters at `port`, and how many tags the bridge takes off
// it (the C-tag it classified on, or a priority tag). nullopt: the bridge must drop it.
struct Entry {
  VlanId vlan;
  size_t popped;
};
std::optional<Entry> reference_entry(const Mode& port, const std::vector<TagHeader>& stack) {
  if (!stack.empty() && stack[0].tpid == kC && stack[0].vid != 0) {  // VLAN-tagged
    if (port.admit == Admit::kUntagged || !port.member(stack[0].vid)) return std::nullopt;
    return Entry{stack[0].vid, 1};
  }
  if (port.untagged == 0) return std::nullopt;  // no PVID
  if (!stack.empty() && stack[0].tpid == kS) {  // S-tag: neither untagged nor VLAN-tagged
    if (port.admit != Admit::kAll) return std::nullopt;
    return Entry{port.untagged, 0};
  }
  if (port.admit == Admit::kTagged) return std::nullopt;  // untagged or priority-tagged
  return Entry{port.untagged, stack.empty() ? 0u : 1u};
}

// How a receiver on `port` reads a delivered frame: the VLAN, or nullopt if it cannot be read as
// one of the port's VLANs, or if it would be read by a tag the sender chose.
std::optional<VlanId> receiver_reads(const Mode& port, const packet::Frame& f) {
  uint16_t type = load_be16(f.data() + 12);
  if (type == kC) {
    VlanId v = load_be16(f.data() + 14) & 0xfff;
    return port.tagged.count(v) ? std::optional(v) : std::nullopt;
  }
  if (type == kS) return std::nullopt;  // an untagged receiver must never see a tag in front
  return port.untagged ? std::optional(port.untagged) : std::nullopt;
}

std::string describe(const std::vector<TagHeader>& stack) {
  if (stack.empty()) return "untagged";
  std::string s;
  for (auto& t : stack) s += fmt::format("{}{} ", t.tpid == kC ? "C" : "S", t.vid);
  s.pop_back();
  return s;
}

PortConfig config(const Mode& m) {
  std::vector<std::string> words;
  std::string text = m.text;
  for (size_t pos = 0; pos < text.size();) {
    size_t sp = std::min(text.find(' ', pos), text.size());
    words.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  auto c = PortConfig::parse(words);
  EXPECT_TRUE(c.ok()) << m.text;
  return *c;
}

constexpr PortNo kAttackerPort = 1, kTrunkPort = 2, kFirstReceiver = 3;
using Where = std::pair<int, PortNo>;  // (bridge 1 or 2, port)

class TwoBridges {
 public:
  TwoBridges(const Mode& attacker, const Mode& trunk) {
    for (Bridge* b : {&b1_, &b2_}) {
      for (VlanId v : {10, 20, 30}) EXPECT_TRUE(b->create_vlan(v).ok());
      add(*b, kTrunkPort, trunk);
      for (size_t i = 0; i < std::size(kReceivers); ++i) {
        add(*b, kFirstReceiver + static_cast<PortNo>(i), kReceivers[i]);
      }
    }
    add(b1_, kAttackerPort, attacker);
  }
  // The attacker sends one frame; what came out where (bridge 1's trunk output went to bridge 2).
  std::map<Where, std::vector<packet::Frame>> send(packet::Frame f) {
    std::map<Where, std::vector<packet::Frame>> out;
    std::vector<packet::Frame> in, across;
    in.push_back(std::move(f));
    b1_.ingress(kAttackerPort, in, now_);
    b1_.drain([&](PortNo p, std::vector<packet::Frame>& fs) {
      for (auto& x : fs) (p == kTrunkPort ? across : out[{1, p}]).push_back(std::move(x));
    });
    b2_.ingress(kTrunkPort, across, now_);
    b2_.drain([&](PortNo p, std::vector<packet::Frame>& fs) {
      for (auto& x : fs) out[{2, p}].push_back(std::move(x));
    });
    return out;
  }

 private:
  static void add(Bridge& b, PortNo p, const Mode& m) {
    EXPECT_TRUE(b.add_port(p, config(m)).ok()) << m.text;
    EXPECT_TRUE(b.set_active(p, true).ok());
  }
  Bridge b1_{"sw1"}, b2_{"sw2"};
  TimePoint now_{std::chrono::seconds(1)};
};

// The frame as the reference expects it at a receiver: the classified tag replaced by a C-tag of
// VLAN A where A leaves tagged, the rest of the stack as it came.
packet::Frame expected_frame(const std::vector<TagHeader>& rest, std::optional<VlanId> push) {
  std::vector<TagHeader> s;
  if (push) s.push_back({kC, 0, false, *push});
  s.insert(s.end(), rest.begin(), rest.end());
  return test::frame_with_tags(packet::MacAddress::broadcast(), test::mac(1), s);
}

class VlanHopping : public ::testing::TestWithParam<std::tuple<size_t, size_t>> {};

TEST_P(VlanHopping, FramesStayInTheVlanTheyEntered) {
  const Mode& attacker = kAttackers[std::get<0>(GetParam())];
  const Mode& trunk = kTrunks[std::get<1>(GetParam())];
  TwoBridges net(attacker, trunk);
  size_t delivered_somewhere = 0, dropped = 0;
  for (const auto& stack : all_stacks()) {
    const std::string where_from = fmt::format("attacker '{}', trunk '{}', frame {}", attacker.text,
                                               trunk.text, describe(stack));
    auto out =
        net.send(test::frame_with_tags(packet::MacAddress::broadcast(), test::mac(1), stack));
    auto entry = reference_entry(attacker, stack);
    if (!entry) {
      EXPECT_TRUE(out.empty()) << where_from << ": must be dropped, was delivered";
      ++dropped;
      continue;
    }
    const VlanId a = entry->vlan;
    const std::vector<TagHeader> rest(stack.begin() + static_cast<long>(entry->popped),
                                      stack.end());
    // Where it can go: a member port of A takes it if A leaves there tagged, or if nothing is in
    // front once the classified tag is gone. Bridge 2 sees it only if the trunk took it.
    auto takes = [&](const Mode& m) { return m.member(a) && (m.tagged.count(a) || rest.empty()); };
    std::set<Where> expected;
    for (int b : {1, 2}) {
      if (b == 2 && !takes(trunk)) break;
      for (size_t i = 0; i < std::size(kReceivers); ++i) {
        if (takes(kReceivers[i])) expected.insert({b, kFirstReceiver + static_cast<PortNo>(i)});
      }
    }
    std::set<Where> got;
    for (auto& [w, frames] : out) {
      const Mode& rx = kReceivers[w.second - kFirstReceiver];
      const std::string at = fmt::format("{} (VLAN {}) delivered at sw{} port {} '{}'", where_from,
                                         a, w.first, w.second, rx.text);
      got.insert(w);
      ASSERT_EQ(frames.size(), 1u) << at;
      // The property: only members of A, and read there as A.
      EXPECT_TRUE(rx.member(a)) << at << ": not a member of VLAN " << a;
      EXPECT_EQ(receiver_reads(rx, frames[0]), std::optional<VlanId>(a)) << at;
      // And byte for byte what the reference expects.
      auto want = expected_frame(rest, rx.tagged.count(a) ? std::optional(a) : std::nullopt);
      EXPECT_TRUE(std::ranges::equal(frames[0].bytes(), want.bytes())) << at;
    }
    EXPECT_EQ(got, expected) << where_from << " (VLAN " << a << ")";
    if (!got.empty()) ++delivered_somewhere;
  }
  // The enumeration reached both outcomes (a broken setup that drops everything cannot pass).
  EXPECT_GT(delivered_somewhere, 0u);
  EXPECT_GT(dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(AttackerModeTimesTrunk, VlanHopping,
                         ::testing::Combine(::testing::Range<size_t>(0, std::size(kAttackers)),
                                            ::testing::Range<size_t>(0, std::size(kTrunks))),
                         [](const ::testing::TestParamInfo<VlanHopping::ParamType>& info) {
                           std::string name =
                               std::string(kAttackers[std::get<0>(info.param)].text) + "__" +
                               kTrunks[std::get<1>(info.param)].text;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(VlanHoppingSpace, EnumeratesEveryStack) {
  auto stacks = all_stacks();
  EXPECT_EQ(stacks.size(), 1u + 8 + 64 + 512);
  EXPECT_EQ(std::set(stacks.begin(), stacks.end(),
                     [](auto& x, auto& y) { return describe(x) < describe(y); })
                .size(),
            stacks.size());
}

}  // namespace
