// GtidSet: text parsing and canonical formatting, Add/Contains, and the COM_BINLOG_DUMP_GTID
// encoding (hand-built bytes, and a round trip through the independent PREVIOUS_GTIDS decoder).
#include "protocol/mysql/gtid_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <span>

namespace sluice::mysql {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr std::string_view kB = "4f22fb58-82db-22f2-af44-d91bba53a673";

Uuid U(std::string_view text) {
  absl::StatusOr<Uuid> u = ParseUuid(text);
  EXPECT_TRUE(u.ok()) << u.status();
  return u.ok() ? *u : Uuid{};
}

GtidSet P(std::string_view text) {
  absl::StatusOr<GtidSet> s = GtidSet::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : GtidSet();
}

std::string Str(std::string_view s) { return std::string(s); }

std::string Le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

const std::string kUuidABytes("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62",
                              16);

TEST(GtidSetTest, ParsesAndFormatsCanonically) {
  EXPECT_EQ(P("").ToString(), "");
  EXPECT_TRUE(P(" \n ").empty());
  EXPECT_EQ(P(Str(kA) + ":1-5:7").ToString(), Str(kA) + ":1-5:7");
  // Upper case, whitespace and newlines (as @@gtid_executed prints), unsorted and overlapping
  // intervals, the same uuid twice, uuids out of order, empty elements.
  std::string messy = "  4F22FB58-82DB-22F2-AF44-D91BBA53A673 : 9 ,\n" + Str(kA) +
                      ":7:3-4:1-2 ,, " + Str(kA) + ":5:10-12";
  EXPECT_EQ(P(messy).ToString(), Str(kA) + ":1-5:7:10-12," + Str(kB) + ":9");
}

TEST(GtidSetTest, ParsesTags) {
  GtidSet s = P(Str(kA) + ":1-5:Tag_1:1-3:7:other:2," + Str(kA) + ":tag_1:4");
  EXPECT_TRUE(s.has_tags());
  EXPECT_EQ(s.ToString(), Str(kA) + ":1-5:other:2:tag_1:1-4:7");
  EXPECT_TRUE(s.Contains(U(kA), "TAG_1", 4));
  EXPECT_FALSE(s.Contains(U(kA), "tag_1", 5));
  EXPECT_FALSE(s.Contains(U(kA), "", 6));
  // A uuid with only tagged GTIDs.
  EXPECT_EQ(P(Str(kB) + ":t:1").ToString(), Str(kB) + ":t:1");
  // The canonical text parses back to the same set.
  EXPECT_EQ(P(s.ToString()), s);
}

TEST(GtidSetTest, RejectsMalformedText) {
  struct Case {
    std::string text;
    std::string error;
  };
  std::vector<Case> cases = {
      {"3e11fa47-71ca-11e1-9e33-c80aa94295:1", "expected a uuid"},
      {"3e11fa4771ca11e19e33c80aa9429562:1", "expected a uuid"},
      {Str(kA), "expected ':' and an interval"},
      {Str(kA) + ":", "expected an interval or a tag"},
      {Str(kA) + ":0", "GNO 0 is not valid"},
      {Str(kA) + ":5-3", "interval 5-3 ends before it starts"},
      {Str(kA) + ":1-9223372036854775807", "exceeds the maximum"},
      {Str(kA) + ":99999999999999999999", "exceeds the maximum"},
      {Str(kA) + ":1-", "expected a number"},
      {Str(kA) + ":tag", "tag 'tag' has no interval"},
      {Str(kA) + ":a:b:1", "tag 'a' has no interval"},
      {Str(kA) + ":1tag", "expected ',' or ':'"},
      {Str(kA) + ":" + std::string(33, 't') + ":1", "is not valid"},
      {Str(kA) + ":1 " + Str(kB) + ":1", "expected ',' or ':'"},
      {Str(kA) + ":1;", "expected ',' or ':'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<GtidSet> s = GtidSet::Parse(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.status().message(), HasSubstr(c.error)) << c.text;
    EXPECT_THAT(s.status().message(), HasSubstr("at offset")) << c.text;
  }
}

TEST(GtidSetTest, AddMergesAndContains) {
  GtidSet s;
  Uuid a = U(kA);
  for (int64_t gno : {1, 2, 3, 10, 5, 4, 12}) ASSERT_TRUE(s.Add(a, "", gno).ok());
  EXPECT_EQ(s.ToString(), Str(kA) + ":1-5:10:12");
  ASSERT_TRUE(s.Add(a, "", 11).ok());
  EXPECT_EQ(s.ToString(), Str(kA) + ":1-5:10-12");
  ASSERT_EQ(s.entries().at({a, ""}).size(), 2u);
  ASSERT_TRUE(s.AddRange(a, "", 3, 20).ok());
  EXPECT_EQ(s.ToString(), Str(kA) + ":1-20");
  EXPECT_TRUE(s.Contains(a, "", 1));
  EXPECT_TRUE(s.Contains(a, "", 20));
  EXPECT_FALSE(s.Contains(a, "", 21));
  EXPECT_FALSE(s.Contains(a, "", 0));
  EXPECT_FALSE(s.Contains(U(kB), "", 1));

  EXPECT_EQ(s.Add(a, "", 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Add(a, "", GtidSet::kMaxGno + 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Add(a, "9lives", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Add(a, "has-dash", 1).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.Add(a, "", GtidSet::kMaxGno).ok());
  EXPECT_TRUE(s.Contains(a, "", GtidSet::kMaxGno));
}

TEST(GtidSetTest, ContainsAllAndAddAll) {
  GtidSet big = P(Str(kA) + ":1-100:t:1-5," + Str(kB) + ":1-3");
  EXPECT_TRUE(big.ContainsAll(P(Str(kA) + ":2-50:t:5," + Str(kB) + ":3")));
  EXPECT_TRUE(big.ContainsAll(GtidSet()));
  EXPECT_FALSE(big.ContainsAll(P(Str(kA) + ":100-101")));
  EXPECT_FALSE(big.ContainsAll(P(Str(kA) + ":u:1")));
  GtidSet u = P(Str(kA) + ":101-102");
  u.AddAll(big);
  EXPECT_EQ(u.ToString(), Str(kA) + ":1-102:t:1-5," + Str(kB) + ":1-3");
}

TEST(GtidSetTest, EncodesUntaggedSets) {
  EXPECT_EQ(GtidSet().Encode(), Le64(0));
  std::string want = Le64(1) + kUuidABytes + Le64(2) + Le64(1) + Le64(6) + Le64(7) + Le64(8);
  EXPECT_EQ(P(Str(kA) + ":1-5:7").Encode(), want);
}

TEST(GtidSetTest, EncodesTaggedSets) {
  // (1 << 56) | (n_sids << 8) | 1, then each (uuid, tag) with its tag as length*2 and bytes.
  std::string want = std::string("\x01\x02\x00\x00\x00\x00\x00\x01", 8) + kUuidABytes +
                     std::string(1, '\0') + Le64(1) + Le64(1) + Le64(6) + kUuidABytes + "\x06" +
                     "tag" + Le64(1) + Le64(1) + Le64(4);
  EXPECT_EQ(P(Str(kA) + ":1-5:TAG:1-3").Encode(), want);
}

TEST(GtidSetTest, EncodingRoundTripsThroughThePreviousGtidsDecoder) {
  for (std::string text : {Str(kA) + ":1-5:7:10-12," + Str(kB) + ":9",
                           Str(kA) + ":1-5:alpha:1-3:7:beta:2," + Str(kB) + ":z:1"}) {
    GtidSet s = P(text);
    std::string bytes = s.Encode();
    absl::StatusOr<PreviousGtids> decoded = DecodePreviousGtids(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    absl::StatusOr<GtidSet> back = GtidSet::FromPreviousGtids(*decoded);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, s) << text;
    EXPECT_EQ(back->ToString(), text);
  }
}

TEST(GtidSetTest, FromPreviousGtidsRejectsBadIntervals) {
  PreviousGtids p;
  p.entries.push_back(GtidSetEntry{U(kA), "", {GtidInterval{5, 5}}});
  EXPECT_EQ(GtidSet::FromPreviousGtids(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GtidSetTest, ParseUuid) {
  EXPECT_EQ(UuidToString(U("3E11FA47-71CA-11E1-9E33-C80AA9429562")), Str(kA));
  EXPECT_FALSE(ParseUuid("3e11fa47-71ca-11e1-9e33-c80aa942956g").ok());
  EXPECT_FALSE(ParseUuid("3e11fa47-71ca-11e1-9e33c-80aa9429562").ok());
  EXPECT_FALSE(ParseUuid("").ok());
}

}  // namespace
}  // namespace sluice::mysql
