#pragma once
// Shared by the impairment engine's unit tests: a start time and a settings parser that fails
// the test on bad words.
#include <gtest/gtest.h>

#include <string_view>

#include "impair/settings.hh"

namespace vnet::impair::test {

inline const TimePoint kT0{std::chrono::seconds(1000)};

inline Settings parse(std::string_view text) {
  auto s = parse_settings(text);
  EXPECT_TRUE(s.ok()) << text << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : Settings{};
}

}  // namespace vnet::impair::test
