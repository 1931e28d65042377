// A transaction of 2,000,000 events goes through staging and is published as one transaction
// while RSS stays bounded: memory must not track the transaction's size.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice {
namespace {

TEST(BigTransaction, TwoMillionEventsThroughStagingWithBoundedMemory) {
  constexpr int kEvents = 2'000'000;
  constexpr int kChunk = 10'000;
  storage::testing::TempDir dir;
  auto log = *storage::ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("big", v1::SOURCE_KIND_MYSQL);
  const uint64_t rss_start = storage::testing::RssBytes();
  uint64_t rss_peak = rss_start;
  for (int i = 0; i < kEvents; i += kChunk) {
    std::vector<v1::ChangeEvent> chunk;
    chunk.reserve(kChunk);
    for (int k = i; k < i + kChunk; ++k) {
      auto e = storage::testing::MakeEvent("orders", k);
      e.mutable_after()->add_fields()->mutable_value()->set_string(std::string(100, 'p'));
      chunk.push_back(std::move(e));
    }
    ASSERT_TRUE(log->Stage(id, 1, std::move(chunk)).ok());
    rss_peak = std::max(rss_peak, storage::testing::RssBytes());
  }
  const uint64_t rss_staged = storage::testing::RssBytes();
  v1::SourceInfo commit;
  commit.set_commit_ts_micros(1'700'000'000'000'000);
  auto last = log->AppendStaged(id, 1, {}, commit, storage::testing::MakeCheckpoint("end"));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, LogOffset(kEvents));
  rss_peak = std::max(rss_peak, storage::testing::RssBytes());
  const auto bounds = *log->Bounds(id);
  std::printf("stored %.1f MiB in one transaction; RSS MiB: start %.1f, staged %.1f, peak %.1f\n",
              bounds.stored_bytes / 1048576.0, rss_start / 1048576.0, rss_staged / 1048576.0,
              rss_peak / 1048576.0);
  // The transaction is ~300 MiB; memtables (2 x 32 MiB for each of the log and the stage) and
  // one 4 MiB publish chunk are what may remain in memory.
  EXPECT_LT(rss_peak - rss_start, uint64_t{256} << 20);
  EXPECT_GT(bounds.stored_bytes, uint64_t{256} << 20) << "the test must store more than the bound";
}

}  // namespace
}  // namespace sluice
