// ChangeLogOptions::observer sees every durable append: events per table run, bytes, commit time.
#include "storage/append_observer.h"

#include <gtest/gtest.h>

#include <mutex>

#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

struct Seen {
  std::string source;
  uint64_t events = 0;
  uint64_t bytes = 0;
  int64_t commit_ts = 0;
  int64_t latency = -1;
  std::vector<std::pair<std::string, uint64_t>> tables;
};

class RecordingObserver final : public AppendObserver {
 public:
  void OnDurable(std::span<const DurableAppend> appends) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const DurableAppend& a : appends) {
      Seen s{std::string(a.source_name), a.events,         a.bytes,
             a.commit_ts_micros,         a.latency_micros, {}};
      for (const TableEvents& t : a.tables) s.tables.emplace_back(t.table, t.events);
      seen_.push_back(std::move(s));
    }
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;
};

TEST(AppendObserver, SeesEveryDurableAppendWithTableRunsAndBytes) {
  TempDir dir;
  RecordingObserver observer;
  ChangeLogOptions options;
  options.sync = false;
  options.observer = &observer;
  auto log = ChangeLog::Open(dir.path(), options);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());

  std::vector<v1::ChangeEvent> txn = {MakeEvent("a", 1, 1'000'000), MakeEvent("a", 2, 1'000'000),
                                      MakeEvent("b", 3, 1'000'000), MakeEvent("a", 4, 1'000'000)};
  ASSERT_TRUE((*log)->Append(*id, txn, MakeCheckpoint("p1")).ok());
  ASSERT_TRUE((*log)->Append(*id, {}, MakeCheckpoint("p2")).ok());  // checkpoint only
  // A staged transaction: its staged events and its tail are counted too.
  ASSERT_TRUE((*log)->Stage(*id, 9, {MakeEvent("c", 5), MakeEvent("c", 6)}).ok());
  v1::SourceInfo info;
  info.set_commit_ts_micros(2'000'000);
  ASSERT_TRUE((*log)->AppendStaged(*id, 9, {MakeEvent("d", 7)}, info, MakeCheckpoint("p3")).ok());

  std::vector<Seen> seen = observer.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].source, "shop");
  EXPECT_EQ(seen[0].events, 4u);
  EXPECT_EQ(seen[0].commit_ts, 1'000'000);
  EXPECT_GE(seen[0].latency, 0);
  using Runs = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(seen[0].tables, (Runs{{"db.a", 2}, {"db.b", 1}, {"db.a", 1}}));
  EXPECT_EQ(seen[1].events, 0u);
  EXPECT_EQ(seen[1].bytes, 0u);
  EXPECT_TRUE(seen[1].tables.empty());
  EXPECT_EQ(seen[2].events, 3u);
  EXPECT_EQ(seen[2].commit_ts, 2'000'000);
  EXPECT_EQ(seen[2].tables, (Runs{{"db.c", 2}, {"db.d", 1}}));
  // The reported bytes add up to what the log stores.
  auto bounds = (*log)->Bounds(*id);
  ASSERT_TRUE(bounds.ok());
  EXPECT_EQ(seen[0].bytes + seen[1].bytes + seen[2].bytes, bounds->stored_bytes);
  EXPECT_GT(seen[0].bytes, 0u);
}

TEST(AppendObserver, AppendsThatNeverReachTheWriterAreNotReported) {
  TempDir dir;
  RecordingObserver observer;
  ChangeLogOptions options;
  options.sync = false;
  options.observer = &observer;
  auto log = ChangeLog::Open(dir.path(), options);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  auto missing = (*log)->Append(SourceId(999), {MakeEvent("a", 1)}, MakeCheckpoint("x"));
  EXPECT_FALSE(missing.ok());
  ASSERT_TRUE((*log)->Append(*id, {MakeEvent("a", 1)}, MakeCheckpoint("p")).ok());
  std::vector<Seen> seen = observer.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].events, 1u);
}

// The size metric: RocksDB writes SST files when it flushes, which reopening does (the WAL is
// replayed into L0 files).
TEST(ChangeLogSize, LiveSstBytesCountsFlushedData) {
  TempDir dir;
  {
    auto log = ChangeLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = (*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
    ASSERT_TRUE(id.ok());
    std::vector<v1::ChangeEvent> events;
    for (int i = 0; i < 1000; ++i) events.push_back(MakeEvent("a", i));
    ASSERT_TRUE((*log)->Append(*id, std::move(events), MakeCheckpoint("p")).ok());
  }
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->FindSource("shop");
  ASSERT_TRUE(id.ok());
  auto bounds = (*log)->Bounds(*id);
  ASSERT_TRUE(bounds.ok());
  ASSERT_EQ(bounds->last.value(), 1000u);
  // Compressed on disk, so not equal to the record bytes; but there, and bounded by them.
  EXPECT_GT((*log)->LiveSstBytes(), 0u);
  EXPECT_LT((*log)->LiveSstBytes(), 4 * bounds->stored_bytes + (64 << 10));
}

}  // namespace
}  // namespace sluice::storage
