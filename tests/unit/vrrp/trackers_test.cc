// Trackers as a pure function: (configuration, observed state) → (priority, fault), as a table.
#include "vrrp/trackers.hh"

#include <gtest/gtest.h>

namespace vnet::vrrp {
namespace {

struct Row {
  const char* what;
  TrackerConfig config;
  Observed observed;
  Effective want;
};

TrackerConfig cfg(int prio, std::vector<TrackedWeight> interfaces,
                  std::vector<TrackedWeight> scripts) {
  return {prio, "eth0", std::move(interfaces), std::move(scripts)};
}

TEST(Trackers, TableOfConfigAndObservationsToPriorityAndFault) {
  const Row rows[] = {
      {"nothing tracked", cfg(100, {}, {}), {}, {100, false}},
      {"own interface down", cfg(100, {}, {}), {{"eth0"}, {}}, {100, true}},
      {"weight 0 interface up", cfg(100, {{"eth1", 0}}, {}), {}, {100, false}},
      {"weight 0 interface down", cfg(100, {{"eth1", 0}}, {}), {{"eth1"}, {}}, {100, true}},
      {"positive interface weight, up", cfg(100, {{"eth1", 20}}, {}), {}, {120, false}},
      {"positive interface weight, down",
       cfg(100, {{"eth1", 20}}, {}),
       {{"eth1"}, {}},
       {100, false}},
      {"negative interface weight, up", cfg(100, {{"eth1", -30}}, {}), {}, {100, false}},
      {"negative interface weight, down",
       cfg(100, {{"eth1", -30}}, {}),
       {{"eth1"}, {}},
       {70, false}},
      {"weight 0 script failing", cfg(100, {}, {{"chk", 0}}), {{}, {"chk"}}, {100, true}},
      {"weight 0 script ok", cfg(100, {}, {{"chk", 0}}), {}, {100, false}},
      {"positive script weight, ok", cfg(100, {}, {{"chk", 50}}), {}, {150, false}},
      {"positive script weight, failing", cfg(100, {}, {{"chk", 50}}), {{}, {"chk"}}, {100, false}},
      {"negative script weight, ok", cfg(100, {}, {{"chk", -50}}), {}, {100, false}},
      {"negative script weight, failing", cfg(100, {}, {{"chk", -50}}), {{}, {"chk"}}, {50, false}},
      {"weights add up",
       cfg(100, {{"eth1", -30}, {"eth2", 10}}, {{"a", -20}, {"b", 5}}),
       {{"eth1"}, {"a"}},
       {65, false}},
      {"clamped at 254", cfg(250, {{"eth1", 20}}, {}), {}, {254, false}},
      {"clamped at 1", cfg(20, {}, {{"chk", -100}}), {{}, {"chk"}}, {1, false}},
      {"owner keeps 255", cfg(255, {{"eth1", -30}}, {}), {{"eth1"}, {}}, {255, false}},
      {"owner can still fault", cfg(255, {{"eth1", 0}}, {}), {{"eth1"}, {}}, {255, true}},
      {"fault and weights together",
       cfg(100, {{"eth1", 0}}, {{"chk", -10}}),
       {{"eth1"}, {"chk"}},
       {90, true}},
      {"an unrelated link down", cfg(100, {{"eth1", 0}}, {}), {{"eth9"}, {}}, {100, false}},
  };
  for (auto& r : rows) {
    EXPECT_EQ(evaluate(r.config, r.observed), r.want) << r.what;
  }
}

TEST(Trackers, TrackScriptWeightOverridesTheScriptsOwn) {
  InstanceConfig in;
  in.priority = 90;
  in.interface = "eth0";
  in.track_interfaces = {{"eth1", 5}};
  in.track_scripts = {{"a", std::nullopt}, {"b", -7}};
  ScriptConfig a, b;
  a.name = "a";
  a.weight = 12;
  b.name = "b";
  b.weight = 30;
  auto t = tracker_config(in, {a, b});
  EXPECT_EQ(t.priority, 90);
  EXPECT_EQ(t.interface, "eth0");
  EXPECT_EQ(t.interfaces, (std::vector<TrackedWeight>{{"eth1", 5}}));
  EXPECT_EQ(t.scripts, (std::vector<TrackedWeight>{{"a", 12}, {"b", -7}}));
}

TEST(Trackers, ScriptHealthFallsAndRisesAfterConsecutiveResults) {
  ScriptHealth h(2, 3);
  EXPECT_TRUE(h.ok());
  EXPECT_FALSE(h.on_result(false));
  EXPECT_FALSE(h.on_result(true)) << "a success resets the streak";
  EXPECT_FALSE(h.on_result(false));
  EXPECT_TRUE(h.on_result(false));
  EXPECT_FALSE(h.ok());
  EXPECT_FALSE(h.on_result(true));
  EXPECT_FALSE(h.on_result(true));
  EXPECT_TRUE(h.on_result(true));
  EXPECT_TRUE(h.ok());
}

}  // namespace
}  // namespace vnet::vrrp
