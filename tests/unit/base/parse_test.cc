// Strict number, duration and file parsing: garbage is an error, never 0.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "base/file.hh"
#include "base/parse.hh"

namespace vnet {
namespace {

using namespace std::chrono_literals;

TEST(ParseInt, AcceptsWholeNumbersInRange) {
  EXPECT_EQ(*parse_int("0", 0, 10), 0);
  EXPECT_EQ(*parse_int("10", 0, 10), 10);
  EXPECT_EQ(*parse_int("-254", -254, 254), -254);
  EXPECT_EQ(*parse_int("9223372036854775807", 0, INT64_MAX), INT64_MAX);
  EXPECT_EQ(*parse_int("-9223372036854775808", INT64_MIN, 0), INT64_MIN);
}

TEST(ParseInt, RefusesEverythingElseWithTheText) {
  for (const char* bad : {"", "abc", "1a", " 1", "1 ", "+1", "1.0", "0x10", "1e3", "-", "--1", "11",
                          "-1", "99999999999999999999", "9223372036854775808"}) {
    auto r = parse_int(bad, 0, 10);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, fmt::format("'{}': expected a whole number from 0 to 10", bad));
  }
}

TEST(ParseInt, TypedVariant) {
  auto r = parse_int_as<uint16_t>("65535", 1, 65535);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 65535);
  EXPECT_FALSE(parse_int_as<uint16_t>("0", 1, 65535));
}

TEST(ParseReal, DecimalsOnly) {
  EXPECT_DOUBLE_EQ(*parse_real("0.5", 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(*parse_real("3", 0, 10), 3.0);
  EXPECT_DOUBLE_EQ(*parse_real("-1.25", -2, 0), -1.25);
  for (const char* bad : {"", ".", "1.2.3", "nan", "inf", "1e3", "0x1", "abc", "11"}) {
    EXPECT_FALSE(parse_real(bad, 0, 10)) << bad;
  }
  EXPECT_EQ(parse_real("abc", 0, 10).error().message, "'abc': expected a number from 0 to 10");
  EXPECT_EQ(parse_real("2", 0, 1.5).error().message, "'2': expected a number from 0 to 1.5");
}

// One bit-rate parser for impairment rates and probe bit rates: tc(8)'s units, a unit required,
// the caller's ceiling.
TEST(ParseBitrate, TcUnitsAndTheCallersCeiling) {
  EXPECT_EQ(parse_bitrate("10mbit", 1000000000).value(), 10000000u);
  EXPECT_EQ(parse_bitrate("1.5kbps", 1000000000).value(), 12000u);
  EXPECT_EQ(parse_bitrate("1tbit", 1000000000000).value(), 1000000000000u);
  EXPECT_FALSE(parse_bitrate("10", 1000000000).ok());
  EXPECT_FALSE(parse_bitrate("10mb", 1000000000).ok());
  EXPECT_FALSE(parse_bitrate("0bit", 1000000000).ok());
  EXPECT_FALSE(parse_bitrate("2gbit", 1000000000).ok());
  EXPECT_NE(parse_bitrate("x", 1000).error().message.find("'x'"), std::string::npos);
}

TEST(ParseDuration, UnitsAndBareNumbers) {
  EXPECT_EQ(*parse_duration("500ms", 0s, 600s), 500ms);
  EXPECT_EQ(*parse_duration("1.5s", 0s, 600s), 1500ms);
  EXPECT_EQ(*parse_duration("20us", 0s, 600s), 20us);
  EXPECT_EQ(*parse_duration("2m", 0s, 600s), 120s);
  EXPECT_EQ(*parse_duration("0.01", 0s, 600s, DurationUnit::kSeconds), 10ms);
  EXPECT_EQ(*parse_duration("3", 0s, 600s, DurationUnit::kMilliseconds), 3ms);
}

TEST(ParseDuration, RefusesGarbageMissingUnitsAndRange) {
  for (const char* bad : {"", "s", "5x", "5 s", "1.2.3s", "reach", "abc", "5", "601s", "-1s"}) {
    EXPECT_FALSE(parse_duration(bad, 0s, 600s)) << bad;
  }
  EXPECT_EQ(parse_duration("5x", 10ms, 600s).error().message,
            "'5x': expected a duration like 500ms or 1.5s from 10ms to 600s");
}

TEST(FormatDuration, ShortestExactText) {
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(20us), "20us");
  EXPECT_EQ(format_duration(3s), "3s");
}

class ReadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vnet-file-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(ReadFile, ReadsRegularFiles) {
  std::ofstream(dir_ + "/a.conf") << "hello\n";
  auto r = read_regular_file(dir_ + "/a.conf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "hello\n");
}

TEST_F(ReadFile, RefusesDevicesDirectoriesFifosAndMissingFiles) {
  auto zero = read_regular_file("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/dev/zero: not a regular file (a character device)");
  EXPECT_FALSE(read_regular_file(dir_));
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  auto fifo = read_regular_file(dir_ + "/fifo");  // must not block waiting for a writer
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().message.find("a FIFO"), std::string::npos);
  auto missing = read_regular_file(dir_ + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(ReadFile, RefusesFilesOverTheLimit) {
  std::ofstream(dir_ + "/big") << std::string(2000, 'x');
  auto r = read_regular_file(dir_ + "/big", 1024);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EFBIG);
  EXPECT_EQ(r.error().message, dir_ + "/big: larger than 1 KiB");
  EXPECT_TRUE(read_regular_file(dir_ + "/big", 2000));
}

}  // namespace
}  // namespace vnet
