#include <gtest/gtest.h>

#include <atomic>

#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

constexpr int kTxnSize = 10;

// 10 transactions of 10 events; transaction t commits at (t + 1) * 1000 micros.
void Fill(ChangeLog& log, SourceId id) {
  for (int t = 0; t < 10; ++t) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < kTxnSize; ++i)
      txn.push_back(MakeEvent("t", t * kTxnSize + i, (t + 1) * 1000));
    ASSERT_TRUE(log.Append(id, std::move(txn), MakeCheckpoint("cp")).ok());
  }
}

TEST(Retention, BySizeTrimsWholeTransactionsFromTheFront) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  Fill(*log, id);
  auto before = *log->Bounds(id);
  auto trim = log->ApplyRetention(id, RetentionPolicy{.max_bytes = before.stored_bytes / 2});
  ASSERT_TRUE(trim.ok()) << trim.status();
  auto after = *log->Bounds(id);
  EXPECT_LE(after.stored_bytes, before.stored_bytes / 2);
  EXPECT_GT(after.first, LogOffset(1));
  EXPECT_EQ((after.first.value() - 1) % kTxnSize, 0u) << "cut must be at a transaction start";
  EXPECT_EQ(trim->first_after, after.first);
  EXPECT_EQ(trim->events_removed, after.first.value() - 1);
  EXPECT_EQ(before.stored_bytes - trim->bytes_removed, after.stored_bytes);
  EXPECT_EQ(after.last, LogOffset(100));

  // A reader asking for a trimmed offset gets OUT_OF_RANGE naming the earliest offset.
  auto r = log->Read(id, LogOffset(1), {}, [](const StoredRecord&) {});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("earliest available offset is " +
                                      std::to_string(after.first.value())),
            std::string::npos)
      << r.status();
  // Reading from the earliest offset works and sees everything after it.
  size_t n = 0;
  ASSERT_TRUE(
      log->Read(id, after.first, ReadLimits{.max_events = 1000}, [&](const StoredRecord&) { ++n; })
          .ok());
  EXPECT_EQ(n, 100 - after.first.value() + 1);
}

TEST(Retention, ByAgeUsesCommitTime) {
  TempDir dir;
  std::atomic<int64_t> now{10'000};
  ChangeLogOptions options;
  options.clock = [&] { return now.load(); };
  auto log = *ChangeLog::Open(dir.path(), options);
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  Fill(*log, id);
  // Keep what committed in the last 6500 micros: commit times >= 3500, i.e. txns 3.. (4000+).
  auto trim = log->ApplyRetention(id, RetentionPolicy{.max_age_micros = 6'500});
  ASSERT_TRUE(trim.ok()) << trim.status();
  EXPECT_EQ(log->Bounds(id)->first, LogOffset(3 * kTxnSize + 1));
  // Time lookups below the cut land on the earliest stored offset.
  EXPECT_EQ(*log->OffsetForTime(id, 0), LogOffset(3 * kTxnSize + 1));
  EXPECT_EQ(*log->OffsetForTime(id, 5000), LogOffset(4 * kTxnSize + 1));
  // Applying the same policy again removes nothing.
  auto again = log->ApplyRetention(id, RetentionPolicy{.max_age_micros = 6'500});
  EXPECT_EQ(again->events_removed, 0u);
}

TEST(Retention, TrimmingEverythingLeavesAnEmptyLogThatContinues) {
  TempDir dir;
  std::atomic<int64_t> now{1'000'000};
  ChangeLogOptions options;
  options.clock = [&] { return now.load(); };
  {
    auto log = *ChangeLog::Open(dir.path(), options);
    auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    Fill(*log, id);
    auto trim = log->ApplyRetention(id, RetentionPolicy{.max_age_micros = 1});
    ASSERT_TRUE(trim.ok()) << trim.status();
    auto b = *log->Bounds(id);
    EXPECT_EQ(b.first, LogOffset(101));
    EXPECT_EQ(b.last, LogOffset(100));
    EXPECT_EQ(b.stored_bytes, 0u);
    EXPECT_EQ(b.event_count(), 0u);
  }
  // Reopen: the trimmed state persists and offsets are never reused.
  auto log = *ChangeLog::Open(dir.path(), options);
  auto id = *log->FindSource("s");
  EXPECT_EQ(log->Bounds(id)->first, LogOffset(101));
  auto last = log->Append(id, {MakeEvent("t", 1, 2'000'000)}, MakeCheckpoint("x"));
  EXPECT_EQ(*last, LogOffset(101));
  auto r = log->Read(id, LogOffset(100), {}, [](const StoredRecord&) {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace sluice::storage
