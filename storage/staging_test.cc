#include <gtest/gtest.h>

#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

std::vector<v1::ChangeEvent> Events(int first_id, int n, const std::string& table = "t") {
  std::vector<v1::ChangeEvent> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeEvent(table, first_id + i));
  return out;
}

std::vector<v1::ChangeEvent> ReadAll(ChangeLog& log, SourceId id) {
  std::vector<v1::ChangeEvent> out;
  auto r = log.Read(id, LogOffset(1), ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
                    [&](const StoredRecord& rec) {
                      v1::ChangeEvent e;
                      EXPECT_TRUE(e.ParseFromArray(rec.view.event.data(),
                                                   static_cast<int>(rec.view.event.size())));
                      out.push_back(std::move(e));
                    });
  EXPECT_TRUE(r.ok()) << r.status();
  return out;
}

v1::SourceInfo CommitInfo() {
  v1::SourceInfo info;
  info.set_commit_ts_micros(1'700'000'000'000'000);
  info.set_position("0/ABC");
  info.set_txid("777");
  return info;
}

TEST(Staging, PublishesStagedEventsThenTailAsOneTransaction) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  ASSERT_TRUE(log->Append(id, {MakeEvent("t", -1, 1'600'000'000'000'000)},
                          MakeCheckpoint("before"))
                  .ok());  // offset 1
  for (int chunk = 0; chunk < 3; ++chunk) {
    ASSERT_TRUE(log->Stage(id, 42, Events(chunk * 1000, 1000)).ok());
  }
  // Staged events are invisible.
  EXPECT_EQ(log->Bounds(id)->last, LogOffset(1));
  auto last = log->AppendStaged(id, 42, Events(3000, 2), CommitInfo(), MakeCheckpoint("0/ABC"));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, LogOffset(3003));
  auto events = ReadAll(*log, id);
  ASSERT_EQ(events.size(), 3003u);
  for (size_t i = 1; i < events.size(); ++i) {
    const auto& e = events[i];
    ASSERT_EQ(e.offset(), i + 1);
    ASSERT_EQ(e.transaction_index(), i - 1);
    ASSERT_EQ(e.last_in_transaction(), i == 3002) << i;
    ASSERT_EQ(e.after().fields(0).value().int64(), static_cast<int64_t>(i - 1));
    // Commit-time fields are merged in; the staged event's own fields are kept.
    ASSERT_EQ(e.source().commit_ts_micros(), 1'700'000'000'000'000);
    ASSERT_EQ(e.source().position(), "0/ABC");
    ASSERT_EQ(e.source().txid(), "777");
    ASSERT_EQ(e.source().table(), "t");
    ASSERT_EQ(e.source().database(), "db");
  }
  EXPECT_EQ(log->Checkpoint(id)->position_text(), "0/ABC");
  EXPECT_EQ(*log->OffsetForTime(id, 1'700'000'000'000'000), LogOffset(2));
  // The stage is gone: reusing the id starts empty.
  ASSERT_TRUE(log->Stage(id, 42, Events(9000, 1)).ok());
  ASSERT_TRUE(log->AppendStaged(id, 42, {}, CommitInfo(), MakeCheckpoint("x")).ok());
  events = ReadAll(*log, id);
  ASSERT_EQ(events.size(), 3004u);
  EXPECT_EQ(events.back().after().fields(0).value().int64(), 9000);
  EXPECT_EQ(events.back().transaction_index(), 0u);
  EXPECT_TRUE(events.back().last_in_transaction());
}

TEST(Staging, InterleavedStagesPublishInCommitOrder) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  ASSERT_TRUE(log->Stage(id, 1, Events(100, 2, "a")).ok());
  ASSERT_TRUE(log->Stage(id, 2, Events(200, 2, "b")).ok());
  ASSERT_TRUE(log->Stage(id, 1, Events(102, 2, "a")).ok());
  ASSERT_TRUE(log->AppendStaged(id, 2, {}, v1::SourceInfo(), MakeCheckpoint("b")).ok());
  ASSERT_TRUE(log->AppendStaged(id, 1, {}, v1::SourceInfo(), MakeCheckpoint("a")).ok());
  auto events = ReadAll(*log, id);
  ASSERT_EQ(events.size(), 6u);
  std::vector<int64_t> ids;
  for (const auto& e : events) ids.push_back(e.after().fields(0).value().int64());
  EXPECT_EQ(ids, (std::vector<int64_t>{200, 201, 100, 101, 102, 103}));
  EXPECT_TRUE(events[1].last_in_transaction());
  EXPECT_EQ(events[2].transaction_index(), 0u);
  EXPECT_TRUE(events[5].last_in_transaction());
}

TEST(Staging, DiscardedStagesNeverAppear) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  ASSERT_TRUE(log->Stage(id, 7, Events(0, 50)).ok());
  ASSERT_TRUE(log->DiscardStaged(id, 7).ok());
  ASSERT_TRUE(log->Stage(id, 8, Events(0, 50)).ok());
  ASSERT_TRUE(log->Stage(id, 9, Events(0, 50)).ok());
  ASSERT_TRUE(log->DiscardAllStaged(id).ok());
  for (uint64_t stage : {7, 8, 9}) {
    ASSERT_TRUE(log->AppendStaged(id, stage, Events(1000 + static_cast<int>(stage), 1),
                                  v1::SourceInfo(), MakeCheckpoint("x"))
                    .ok());
  }
  auto events = ReadAll(*log, id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].after().fields(0).value().int64(), 1007);
  EXPECT_EQ(events[2].after().fields(0).value().int64(), 1009);
}

TEST(Staging, TruncateKeepsThePrefix) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  ASSERT_TRUE(log->Stage(id, 3, Events(0, 10)).ok());
  ASSERT_TRUE(log->TruncateStage(id, 3, 4).ok());  // a subtransaction from event 4 on aborted
  ASSERT_TRUE(log->Stage(id, 3, Events(100, 2)).ok());
  ASSERT_TRUE(log->AppendStaged(id, 3, {}, v1::SourceInfo(), MakeCheckpoint("x")).ok());
  std::vector<int64_t> ids;
  for (const auto& e : ReadAll(*log, id)) ids.push_back(e.after().fields(0).value().int64());
  EXPECT_EQ(ids, (std::vector<int64_t>{0, 1, 2, 3, 100, 101}));
}

TEST(Staging, StageSurvivesReopenUntilDiscarded) {
  TempDir dir;
  {
    auto log = *ChangeLog::Open(dir.path());
    auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
    ASSERT_TRUE(log->Stage(id, 5, Events(0, 10)).ok());
  }
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->FindSource("pg");
  // Staging continues after what is there (sequence numbers are recovered).
  ASSERT_TRUE(log->Stage(id, 5, Events(10, 5)).ok());
  ASSERT_TRUE(log->AppendStaged(id, 5, {}, v1::SourceInfo(), MakeCheckpoint("x")).ok());
  auto events = ReadAll(*log, id);
  ASSERT_EQ(events.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(events[i].after().fields(0).value().int64(), i);
}

TEST(Staging, LargeStagedTransactionSpansManyChunks) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  constexpr int kEvents = 200'000;  // well over one 4 MiB chunk
  for (int i = 0; i < kEvents; i += 5000) ASSERT_TRUE(log->Stage(id, 1, Events(i, 5000)).ok());
  ASSERT_TRUE(log->AppendStaged(id, 1, {}, CommitInfo(), MakeCheckpoint("x")).ok());
  auto b = *log->Bounds(id);
  EXPECT_EQ(b.last, LogOffset(kEvents));
  uint64_t n = 0;
  ASSERT_TRUE(log->Read(id, LogOffset(1), ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
                        [&](const StoredRecord& r) {
                          ASSERT_EQ(r.offset.value(), ++n);
                          ASSERT_EQ((r.view.flags & kFlagLastInTxn) != 0, n == kEvents);
                        })
                  .ok());
  EXPECT_EQ(n, static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace sluice::storage
