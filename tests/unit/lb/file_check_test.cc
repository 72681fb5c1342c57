#include "lb/file_check.hh"

#include <gtest/gtest.h>

using namespace vnet::lb;

namespace {

// As C strtol(buf, NULL, 0) reads the file's first 127 octets (track_file.c process_track_file()).
TEST(FileCheck, ValueAsStrtol) {
  EXPECT_EQ(track_file_value("1"), 1);
  EXPECT_EQ(track_file_value("1\n"), 1);
  EXPECT_EQ(track_file_value("  -5 trailing"), -5);
  EXPECT_EQ(track_file_value("0x10"), 16);
  EXPECT_EQ(track_file_value("010"), 8);
  EXPECT_EQ(track_file_value(""), 0);
  EXPECT_EQ(track_file_value("up"), 0);
  EXPECT_EQ(track_file_value(std::string("\0"
                                         "7",
                                         2)),
            0);
  EXPECT_EQ(track_file_value("2147483648"), 2147483648);  // INT32_MAX + 1 is kept
  EXPECT_FALSE(track_file_value("2147483649"));
  EXPECT_FALSE(track_file_value("-2147483649"));
  EXPECT_FALSE(track_file_value("99999999999999999999999"));
  EXPECT_EQ(track_file_value(std::string(127, ' ') + "5"), 0);  // past the 127 octets read
}

FileCheck rule(int weight, bool reverse, int real_weight = 10) {
  FileCheck f;
  f.weight = weight;
  f.reverse = reverse;
  f.real_weight = real_weight;
  return f;
}

// process_update_checker_track_file_status(), by table.
TEST(FileCheck, StateByWeight) {
  struct Case {
    int64_t value;
    int weight;
    bool reverse;
    bool up;
    std::optional<int> weight_out;
  };
  for (auto c : std::vector<Case>{
           {0, 0, false, true, std::nullopt},
           {1, 0, false, false, std::nullopt},
           {-3, 0, false, false, std::nullopt},
           {0, 0, true, false, std::nullopt},
           {1, 0, true, true, std::nullopt},
           {0, 1, false, true, std::nullopt},
           {5, 1, false, true, 15},
           {-4, 2, false, true, 2},
           {-20, 1, false, true, 0},  // clamped at 0, still up
           {-65535, 1, false, true, 0},
           {-65536, 1, false, false, std::nullopt},  // IPVS_WEIGHT_FAULT: down
           {65536, 1, true, false, std::nullopt},
           {-1, 65535, true, true, 65535},
           {1, 65535, true, true, 0},
           {2, 65535, true, false, std::nullopt},
           {2147483648, -254, false, false, std::nullopt},
       }) {
    auto st = file_check_state(c.value, rule(c.weight, c.reverse));
    EXPECT_EQ(st.up, c.up) << c.value << " × " << c.weight << (c.reverse ? " reverse" : "");
    EXPECT_EQ(st.weight, c.weight_out) << c.value << " × " << c.weight;
  }
}

}  // namespace
