#include "storage/change_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

std::vector<v1::ChangeEvent> Txn(const std::string& table, int first_id, int n,
                                 int64_t commit_ts = 0) {
  std::vector<v1::ChangeEvent> events;
  for (int i = 0; i < n; ++i) events.push_back(MakeEvent(table, first_id + i, commit_ts));
  return events;
}

std::vector<v1::ChangeEvent> ReadAll(ChangeLog& log, SourceId id, LogOffset from,
                                     ReadLimits limits = {}) {
  std::vector<v1::ChangeEvent> out;
  auto next = log.Read(id, from, limits, [&](const StoredRecord& r) {
    v1::ChangeEvent e;
    EXPECT_TRUE(e.ParseFromArray(r.view.event.data(), static_cast<int>(r.view.event.size())));
    EXPECT_EQ(e.offset(), r.offset.value());
    out.push_back(std::move(e));
  });
  EXPECT_TRUE(next.ok()) << next.status();
  return out;
}

TEST(ChangeLog, AppendAssignsOffsetsAndTransactionBoundaries) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());

  auto last = (*log)->Append(*id, Txn("orders", 1, 3), MakeCheckpoint("binlog.000001:100"));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, LogOffset(3));
  last = (*log)->Append(*id, Txn("orders", 4, 2), MakeCheckpoint("binlog.000001:200"));
  EXPECT_EQ(*last, LogOffset(5));

  auto events = ReadAll(**log, *id, LogOffset(1));
  ASSERT_EQ(events.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(events[i].offset(), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(events[0].transaction_index(), 0u);
  EXPECT_FALSE(events[0].last_in_transaction());
  EXPECT_EQ(events[2].transaction_index(), 2u);
  EXPECT_TRUE(events[2].last_in_transaction());
  EXPECT_EQ(events[3].transaction_index(), 0u);
  EXPECT_TRUE(events[4].last_in_transaction());
  EXPECT_GT(events[0].ingest_ts_micros(), 0);

  auto bounds = (*log)->Bounds(*id);
  ASSERT_TRUE(bounds.ok());
  EXPECT_EQ(bounds->first, LogOffset(1));
  EXPECT_EQ(bounds->last, LogOffset(5));
  EXPECT_GT(bounds->stored_bytes, 0u);
  EXPECT_EQ((*log)->Checkpoint(*id)->position_text(), "binlog.000001:200");
}

TEST(ChangeLog, CheckpointOnlyAppendKeepsOffsets) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(log->Append(id, Txn("t", 1, 2), MakeCheckpoint("a")).ok());
  auto last = log->Append(id, {}, MakeCheckpoint("heartbeat"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, LogOffset(2));
  EXPECT_EQ(log->Checkpoint(id)->position_text(), "heartbeat");
}

TEST(ChangeLog, ReopenKeepsEventsCheckpointAndSources) {
  TempDir dir;
  {
    auto log = *ChangeLog::Open(dir.path());
    auto a = *log->RegisterSource("a", v1::SOURCE_KIND_MYSQL);
    auto b = *log->RegisterSource("b", v1::SOURCE_KIND_POSTGRES);
    ASSERT_TRUE(log->Append(a, Txn("t", 1, 4), MakeCheckpoint("a-1")).ok());
    ASSERT_TRUE(log->Append(b, Txn("t", 1, 1), MakeCheckpoint("0/16B3748")).ok());
  }
  auto log = *ChangeLog::Open(dir.path());
  auto a = log->FindSource("a");
  auto b = log->FindSource("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(log->Bounds(*a)->last, LogOffset(4));
  EXPECT_EQ(log->Bounds(*b)->last, LogOffset(1));
  EXPECT_EQ(log->Checkpoint(*b)->position_text(), "0/16B3748");
  // Offsets continue after reopen and are never reused.
  EXPECT_EQ(*log->Append(*a, Txn("t", 5, 1), MakeCheckpoint("a-2")), LogOffset(5));
  // Registering an existing name with another kind is refused.
  auto wrong = log->RegisterSource("a", v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  // A new source gets a fresh id.
  auto c = *log->RegisterSource("c", v1::SOURCE_KIND_MYSQL);
  EXPECT_NE(c, *a);
  EXPECT_NE(c, *b);
}

TEST(ChangeLog, UnknownSourceNamesKnownOnes) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  ASSERT_TRUE(log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL).ok());
  auto s = log->FindSource("nope");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("known sources: shop"), std::string::npos) << s.status();
}

TEST(ChangeLog, RangeReadsRespectLimitsAndStartAnywhere) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  for (int t = 0; t < 10; ++t) {
    ASSERT_TRUE(log->Append(id, Txn("t", t * 10, 10), MakeCheckpoint("x")).ok());
  }
  auto mid = ReadAll(*log, id, LogOffset(37), ReadLimits{.max_events = 5});
  ASSERT_EQ(mid.size(), 5u);
  EXPECT_EQ(mid.front().offset(), 37u);
  EXPECT_EQ(mid.back().offset(), 41u);
  auto tail = ReadAll(*log, id, LogOffset(95));
  ASSERT_EQ(tail.size(), 6u);
  EXPECT_EQ(tail.back().offset(), 100u);
  // Past the end: nothing, and the next offset is unchanged.
  auto next = log->Read(id, LogOffset(101), {}, [](const StoredRecord&) { FAIL(); });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, LogOffset(101));
  // Byte limit: stops after the record that crosses it.
  size_t n = 0;
  next = log->Read(id, LogOffset(1), ReadLimits{.max_events = 1000, .max_bytes = 1},
                   [&](const StoredRecord&) { ++n; });
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(*next, LogOffset(2));
}

TEST(ChangeLog, RecordsCarryTableAndOpForFilters) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  std::vector<v1::ChangeEvent> txn;
  txn.push_back(MakeEvent("orders", 1, 0, v1::OP_UPDATE));
  txn.push_back(MakeEvent("items", 2, 0, v1::OP_DELETE));
  ASSERT_TRUE(log->Append(id, std::move(txn), MakeCheckpoint("x")).ok());
  std::vector<std::pair<std::string, int>> seen;
  ASSERT_TRUE(log->Read(id, LogOffset(1), {},
                        [&](const StoredRecord& r) {
                          seen.emplace_back(std::string(r.view.table), r.view.op);
                          EXPECT_EQ((r.view.flags & kFlagFirstInTxn) != 0,
                                    r.offset == LogOffset(1));
                          EXPECT_EQ((r.view.flags & kFlagLastInTxn) != 0, r.offset == LogOffset(2));
                        })
                  .ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(std::string("db.orders"), static_cast<int>(v1::OP_UPDATE)));
  EXPECT_EQ(seen[1], std::make_pair(std::string("db.items"), static_cast<int>(v1::OP_DELETE)));
}

TEST(ChangeLog, OffsetForTimeFindsFirstTransactionAtOrAfter) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(log->Append(id, Txn("t", 1, 2, 1000), MakeCheckpoint("a")).ok());  // 1..2
  ASSERT_TRUE(log->Append(id, Txn("t", 3, 2, 2000), MakeCheckpoint("b")).ok());  // 3..4
  ASSERT_TRUE(
      log->Append(id, Txn("t", 5, 2, 1500), MakeCheckpoint("c")).ok());  // 5..6, clock went back
  ASSERT_TRUE(log->Append(id, Txn("t", 7, 2, 3000), MakeCheckpoint("d")).ok());  // 7..8
  EXPECT_EQ(*log->OffsetForTime(id, 0), LogOffset(1));
  EXPECT_EQ(*log->OffsetForTime(id, 1000), LogOffset(1));
  EXPECT_EQ(*log->OffsetForTime(id, 1001), LogOffset(3));
  EXPECT_EQ(*log->OffsetForTime(id, 2000), LogOffset(3));
  // 1500 < running max 2000: the step back does not create an earlier entry.
  EXPECT_EQ(*log->OffsetForTime(id, 2500), LogOffset(7));
  EXPECT_EQ(*log->OffsetForTime(id, 3001), LogOffset(9));  // none: the next offset
}

TEST(ChangeLog, TailingReaderIsWokenByAppend) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  auto waiter = log->NotifyAfter(id, LogOffset(0), [&] {
    std::lock_guard<std::mutex> lock(mu);
    woken = true;
    cv.notify_all();
  });
  ASSERT_NE(waiter, nullptr) << "nothing was appended yet, so it must wait";
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(woken);
  }
  std::thread appender(
      [&] { ASSERT_TRUE(log->Append(id, Txn("t", 1, 1), MakeCheckpoint("x")).ok()); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return woken; }));
  }
  appender.join();
  // Already past: returns nullptr and does not call.
  EXPECT_EQ(log->NotifyAfter(id, LogOffset(0), [] { FAIL() << "must not be called"; }), nullptr);
}

TEST(ChangeLog, CancelledWaiterIsNotCalled) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  std::atomic<int> calls{0};
  auto waiter = log->NotifyAfter(id, LogOffset(0), [&] { ++calls; });
  ASSERT_NE(waiter, nullptr);
  waiter.reset();
  ASSERT_TRUE(log->Append(id, Txn("t", 1, 1), MakeCheckpoint("x")).ok());
  EXPECT_EQ(calls.load(), 0);
}

TEST(ChangeLog, ConcurrentAsyncAppendsAreGroupedAndOrdered) {
  TempDir dir;
  auto log = *ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  constexpr int kTxns = 2000;
  std::atomic<int> done{0};
  std::vector<uint64_t> last_offsets(kTxns);
  for (int t = 0; t < kTxns; ++t) {
    log->AppendAsync(id, Txn("t", t * 3, 3), MakeCheckpoint("cp-" + std::to_string(t)),
                     [&, t](absl::StatusOr<LogOffset> r) {
                       ASSERT_TRUE(r.ok()) << r.status();
                       last_offsets[t] = r->value();
                       ++done;
                     });
  }
  // Append() after the async ones is ordered after them.
  ASSERT_TRUE(log->Append(id, {}, MakeCheckpoint("final")).ok());
  EXPECT_EQ(done.load(), kTxns);
  for (int t = 0; t < kTxns; ++t) EXPECT_EQ(last_offsets[t], static_cast<uint64_t>(t * 3 + 3));
  auto events =
      ReadAll(*log, id, LogOffset(1), ReadLimits{.max_events = 100000, .max_bytes = 1 << 30});
  ASSERT_EQ(events.size(), static_cast<size_t>(kTxns * 3));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].after().fields(0).value().int64(), static_cast<int64_t>(i));
  }
  EXPECT_EQ(log->Checkpoint(id)->position_text(), "final");
}

TEST(ChangeLog, UnwritableDataDirIsAClearError) {
  if (geteuid() == 0) {
    // root ignores permissions; use a path under a regular file instead.
    TempDir dir;
    std::string file = dir.path() + "/file";
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    auto log = ChangeLog::Open(file + "/data");
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(log.status().message().find("cannot open data dir"), std::string::npos);
    return;
  }
  auto log = ChangeLog::Open("/proc/sluice-not-writable");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("cannot open data dir"), std::string::npos);
}

TEST(ChangeLog, SecondOpenOfSameDirIsRefused) {
  TempDir dir;
  auto first = ChangeLog::Open(dir.path());
  ASSERT_TRUE(first.ok());
  auto second = ChangeLog::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another sluiced"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace sluice::storage
