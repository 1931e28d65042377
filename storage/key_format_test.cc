#include "storage/key_format.h"

#include <gtest/gtest.h>

namespace sluice::storage {
namespace {

TEST(KeyFormat, LogKeysSortByOffsetBigEndian) {
  std::string a = LogKey(SourceId(1), LogOffset(255));
  std::string b = LogKey(SourceId(1), LogOffset(256));
  std::string c = LogKey(SourceId(2), LogOffset(1));
  EXPECT_LT(a, b);
  EXPECT_LT(b, LogKeyEnd(SourceId(1)));
  EXPECT_LE(LogKeyEnd(SourceId(1)), c);
  ASSERT_EQ(a.size(), kLogKeySize);
  EXPECT_EQ(a, std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xff", 12));
  auto d = DecodeLogKey(b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->source, SourceId(1));
  EXPECT_EQ(d->offset, LogOffset(256));
  EXPECT_FALSE(DecodeLogKey("short").has_value());
}

TEST(KeyFormat, TimeKeysSortByTimestampIncludingNegative) {
  std::string neg = TimeKey(SourceId(1), -5, LogOffset(1));
  std::string zero = TimeKey(SourceId(1), 0, LogOffset(2));
  std::string pos = TimeKey(SourceId(1), 1'700'000'000'000'000, LogOffset(3));
  EXPECT_LT(neg, zero);
  EXPECT_LT(zero, pos);
  auto d = DecodeTimeKey(neg);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->commit_ts_micros, -5);
  EXPECT_EQ(d->offset, LogOffset(1));
}

TEST(KeyFormat, StageKeysAndSourceIdCounter) {
  std::string k = StageKey(SourceId(3), 42, 7);
  EXPECT_LT(k, StageKey(SourceId(3), 42, 8));
  EXPECT_LE(StageKeyEnd(SourceId(3), 42), StageKey(SourceId(3), 43, 0));
  auto d = DecodeStageKey(k);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->source, SourceId(3));
  EXPECT_EQ(d->stage_id, 42u);
  EXPECT_EQ(d->seq, 7u);
  EXPECT_FALSE(DecodeStageKey("short").has_value());
  EXPECT_EQ(EncodeSourceIdCounter(0x01020304), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(DecodeSourceIdCounter(EncodeSourceIdCounter(77)), 77u);
  EXPECT_EQ(DecodeSourceIdCounter("ab"), 0u);
}

TEST(KeyFormat, RecordRoundTrip) {
  std::string rec;
  AppendRecord(kFlagFirstInTxn | kFlagLastInTxn, 3, "shop.orders", "EVENTBYTES", rec);
  auto v = DecodeRecord(rec);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->flags, kFlagFirstInTxn | kFlagLastInTxn);
  EXPECT_EQ(v->op, 3);
  EXPECT_EQ(v->table, "shop.orders");
  EXPECT_EQ(v->event, "EVENTBYTES");
}

TEST(KeyFormat, LongTableNameUsesMultiByteVarint) {
  std::string table(300, 't');
  std::string rec;
  AppendRecord(0, 1, table, "x", rec);
  auto v = DecodeRecord(rec);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->table, table);
  EXPECT_EQ(v->event, "x");
}

TEST(KeyFormat, MalformedRecordsAreDataLoss) {
  EXPECT_EQ(DecodeRecord("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeRecord(std::string("\x02\x00\x01\x00", 4)).status().code(),
            absl::StatusCode::kDataLoss);  // unknown version
  EXPECT_EQ(DecodeRecord(std::string("\x01\x00\x01\x09xy", 6)).status().code(),
            absl::StatusCode::kDataLoss);  // table length beyond the record
  EXPECT_EQ(DecodeRecord(std::string("\x01\x00\x01\xff\xff\xff\xff\xff\xff", 9)).status().code(),
            absl::StatusCode::kDataLoss);  // varint too long
}

TEST(KeyFormat, DescribeLogKeyIsReadable) {
  EXPECT_EQ(DescribeLogKey(LogKey(SourceId(1), LogOffset(0x4d2))),
            "log key 00000001:00000000000004d2");
  EXPECT_EQ(DescribeLogKey("\x01\x02"), "key 0102");
}

}  // namespace
}  // namespace sluice::storage
