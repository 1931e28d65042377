#include "protocol/postgres/copy_text.h"

#include <gtest/gtest.h>

namespace sluice::postgres {
namespace {

using Values = std::vector<std::optional<std::string_view>>;

TEST(CopyTextRowTest, SplitsColumnsAndNulls) {
  CopyTextRow row;
  ASSERT_TRUE(row.Parse("1\tname-1\t\\N\t\n", 4).ok());
  EXPECT_EQ(row.values(), (Values{"1", "name-1", std::nullopt, ""}));
}

TEST(CopyTextRowTest, Unescapes) {
  CopyTextRow row;
  ASSERT_TRUE(row.Parse("a\\tb\\nc\\\\d\\r\\b\\f\\v\t\\101\\x41\\x4a2\\q\t\\\\N\n", 3).ok());
  EXPECT_EQ(row.values(), (Values{"a\tb\nc\\d\r\b\f\v", "AAJ2q", "\\N"}));
}

// A backslash escapes whatever byte follows it, a raw tab too (COPY never writes one, but the
// split must not take it for a separator); plain and escaped columns mix in one row.
TEST(CopyTextRowTest, BackslashBeforeARawTabEscapesIt) {
  CopyTextRow row;
  ASSERT_TRUE(row.Parse("a\\\tb\\\t\tplain\t\\\\\t\\N\n", 4).ok());
  EXPECT_EQ(row.values(), (Values{"a\tb\t", "plain", "\\", std::nullopt}));
  ASSERT_TRUE(row.Parse("x\\\t", 1).ok());
  EXPECT_EQ(row.values(), (Values{"x\t"}));
  EXPECT_FALSE(row.Parse("x\t\\", 2).ok());  // the second column ends with a lone backslash
  EXPECT_FALSE(row.Parse("x\\\t", 2).ok());  // one column: its tab is escaped
}

TEST(CopyTextRowTest, ValuesStayValidForTheWholeRow) {
  CopyTextRow row;
  std::string line;
  for (int i = 0; i < 50; ++i) line += (i ? "\t" : "") + std::string(40, 'x') + "\\\\";
  ASSERT_TRUE(row.Parse(line + "\n", 50).ok());
  for (const auto& v : row.values()) EXPECT_EQ(*v, std::string(40, 'x') + "\\");
}

TEST(CopyTextRowTest, WrongColumnCountIsAnError) {
  CopyTextRow row;
  EXPECT_FALSE(row.Parse("1\t2\n", 3).ok());
  EXPECT_FALSE(row.Parse("1\t2\t3\n", 2).ok());
  EXPECT_FALSE(row.Parse("1\\", 1).ok());
  EXPECT_TRUE(row.Parse("\n", 0).ok());
}

}  // namespace
}  // namespace sluice::postgres
