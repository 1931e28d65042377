#include "server/pipeline/source_head.h"

#include "server/pipeline/source_support.h"

#include "gtest/gtest.h"

namespace sluice::pipeline {
namespace {

BinlogPosition At(std::string file, uint64_t offset) {
  return BinlogPosition{std::move(file), offset};
}

const std::vector<BinlogFileSize> kFiles = {
    {"bin.000001", 1000}, {"bin.000002", 2000}, {"bin.000003", 3000}, {"bin.000004", 400}};

TEST(BinlogBytesBehind, SameFileIsTheDifference) {
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 100), At("bin.000004", 400), kFiles), 300u);
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 400), At("bin.000004", 400), kFiles), 0u);
  // A stored position past the head (the head moved back?) is not negative.
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 500), At("bin.000004", 400), kFiles), 0u);
}

TEST(BinlogBytesBehind, AcrossFilesAddsTheRestOfTheFirstTheMiddleAndTheHeadOffset) {
  // 1000-900 in the first, 2000 + 3000 in between, 250 in the head file.
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000001", 900), At("bin.000004", 250), kFiles),
            100u + 2000u + 3000u + 250u);
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000003", 3000), At("bin.000004", 4), kFiles), 4u);
}

TEST(BinlogBytesBehind, PurgedOrUnknownFilesAreErrors) {
  auto purged = BinlogBytesBehind(At("bin.000000", 4), At("bin.000004", 4), kFiles);
  EXPECT_TRUE(absl::IsNotFound(purged.status()));
  EXPECT_NE(purged.status().message().find("bin.000000"), std::string_view::npos);
  EXPECT_TRUE(absl::IsNotFound(
      BinlogBytesBehind(At("bin.000001", 4), At("bin.000009", 4), kFiles).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      BinlogBytesBehind(At("bin.000003", 4), At("bin.000001", 4), kFiles).status()));
}

TEST(WalBytesBehind, IsTheDifferenceAndNeverNegative) {
  EXPECT_EQ(WalBytesBehind(Lsn(0x1000), Lsn(0x1800)), 0x800u);
  EXPECT_EQ(WalBytesBehind(Lsn(0x1800), Lsn(0x1000)), 0u);
}

TEST(IsRowEventType, MysqlAndMariadbNames) {
  for (const char* t : {"Write_rows", "Update_rows", "Delete_rows", "Write_rows_v1",
                        "Update_rows_compressed_v1", "Update_rows_partial"}) {
    EXPECT_TRUE(IsRowEventType(t)) << t;
  }
  for (const char* t : {"Table_map", "Query", "Xid", "Gtid", "Rotate", "Annotate_rows"}) {
    EXPECT_FALSE(IsRowEventType(t)) << t;
  }
}

// The events of tracked appends count as in flight until their callback, failed or not.
TEST(AppendTracker, CountsEventsInFlightUntilDurableOrFailed) {
  SourceRegistry registry;
  std::shared_ptr<std::atomic<int64_t>> in_flight = registry.InFlightEvents("s");
  EXPECT_EQ(registry.InFlightEvents("s"), in_flight) << "one counter per source";
  AppendTracker tracker(in_flight);
  storage::AppendCallback first = tracker.Track({}, 5);
  storage::AppendCallback second = tracker.Track({}, 3);
  storage::AppendCallback checkpoint_only = tracker.Track();
  EXPECT_EQ(in_flight->load(), 8);
  std::move(first)(LogOffset(5));
  EXPECT_EQ(in_flight->load(), 3);
  std::move(second)(absl::UnavailableError("append failed"));
  EXPECT_EQ(in_flight->load(), 0);
  std::move(checkpoint_only)(LogOffset(5));
  EXPECT_EQ(in_flight->load(), 0);
  EXPECT_EQ(tracker.pending(), 0);
  EXPECT_TRUE(absl::IsUnavailable(tracker.error()));
}

}  // namespace
}  // namespace sluice::pipeline
