// Table-state rows stored as references to their snapshot records (storage/state_reference.h):
// the pure codec, reads that resolve them to the bytes the WAL path stores, retention that gives
// a still-referenced row its full value before it removes the record (in batches, crash-safe),
// and rows that later events overwrite, move, delete or clear.
#include "storage/state_reference.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/change_log.h"
#include "storage/table_state.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::IdRow;
using testing::MakeCheckpoint;
using testing::MakeRowEvent;
using testing::TempDir;
using testing::ToChunk;

TEST(StateReferenceCodec, RoundTripsAndResolvesToTheWalValue) {
  for (uint64_t offset : {uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 40}) {
    const std::string ref = StateReference(LogOffset(offset));
    EXPECT_TRUE(IsStateReference(ref));
    auto decoded = DecodeStateReference(ref);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->value(), offset);
  }
  EXPECT_FALSE(IsStateReference(""));
  EXPECT_FALSE(IsStateReference("\x08\x01"));
  EXPECT_EQ(DecodeStateReference(std::string("\x00\x81", 2)).status().code(),
            absl::StatusCode::kDataLoss);  // truncated varint
  EXPECT_EQ(DecodeStateReference(std::string("\x00\x01\x02", 3)).status().code(),
            absl::StatusCode::kDataLoss);  // trailing byte
  EXPECT_EQ(DecodeStateReference(std::string("\x00\x00", 2)).status().code(),
            absl::StatusCode::kDataLoss);  // offset 0

  // The record's event: offset 300, transaction_index 5, last_in_transaction, ingest ts, then a
  // body (op r, a key column) and an overlay. The resolved row is offset + body + overlay.
  v1::ChangeEvent body;
  body.set_op(v1::OP_READ);
  body.add_key_columns("id");
  v1::ChangeEvent overlay;
  overlay.mutable_source()->set_position("0/1");
  v1::ChangeEvent assigned;
  assigned.set_offset(300);
  assigned.set_transaction_index(5);
  assigned.set_last_in_transaction(true);
  assigned.set_ingest_ts_micros(1'700'000'000'000'000);
  const std::string event =
      assigned.SerializeAsString() + body.SerializeAsString() + overlay.SerializeAsString();
  std::string out;
  ASSERT_TRUE(ResolveStateReference(LogOffset(300), event, out).ok());
  v1::ChangeEvent offset_only;
  offset_only.set_offset(300);
  EXPECT_EQ(out, offset_only.SerializeAsString() + body.SerializeAsString() +
                     overlay.SerializeAsString());
  // The first event of a transaction has no index and is not last.
  v1::ChangeEvent first;
  first.set_offset(7);
  first.set_ingest_ts_micros(9);
  ASSERT_TRUE(
      ResolveStateReference(LogOffset(7), first.SerializeAsString() + body.SerializeAsString(), out)
          .ok());
  offset_only.set_offset(7);
  EXPECT_EQ(out, offset_only.SerializeAsString() + body.SerializeAsString());
  // Another offset's record, or one without the assigned fields, is data loss.
  EXPECT_EQ(ResolveStateReference(LogOffset(301), event, out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResolveStateReference(LogOffset(300), body.SerializeAsString(), out).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResolveStateReference(LogOffset(300), std::string("\x08\xac\x02", 3), out).code(),
            absl::StatusCode::kDataLoss);
}

// Retention's row key of a stored event equals EncodeRowKey of the parsed event: with the log's
// assigned fields in front and a source overlay behind, with `after` in two pieces (they merge),
// and none for an event without a key or without its key column; malformed bytes are DataLoss.
TEST(StateReferenceCodec, RowKeyOfEncodedEventMatchesTheParsedEvent) {
  v1::ChangeEvent e;
  e.set_offset(12);
  e.set_op(v1::OP_READ);
  e.mutable_source()->set_table("t");
  e.add_key_columns("name");
  e.add_key_columns("id");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(-5);
  v1::ChangeEvent second;  // a second `after` occurrence, merged into the first
  f = second.mutable_after()->add_fields();
  f->set_name("name");
  f->mutable_value()->set_string("n\0x");
  v1::ChangeEvent overlay;
  overlay.mutable_source()->set_position("0/1");
  const std::string bytes =
      e.SerializeAsString() + second.SerializeAsString() + overlay.SerializeAsString();
  v1::ChangeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  v1::Row after;
  auto key = RowKeyOfEncodedEvent(bytes, after);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ(**key, *EncodeRowKey(parsed.key_columns(), parsed.after()));
  // Without the second piece the key column "name" is missing: no key, as EncodeRowKey says.
  auto partial = RowKeyOfEncodedEvent(e.SerializeAsString(), after);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  auto none = RowKeyOfEncodedEvent(overlay.SerializeAsString(), after);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(RowKeyOfEncodedEvent(bytes.substr(0, bytes.size() - 1), after).status().code(),
            absl::StatusCode::kDataLoss);
}

// A snapshot row of db.<table>, as a snapshot reader encodes it.
EncodedEvent SnapshotRow(const std::string& table, int64_t id) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_READ);
  e.add_key_columns("id");
  *e.mutable_after() = IdRow(id, absl::StrCat("snapshot row ", id, std::string(40, 's')));
  EncodedEvent out;
  out.row_key = EncodeRowKey(e.key_columns(), e.after());
  out.body = e.SerializeAsString();
  out.table = "db." + table;
  out.op = v1::OP_READ;
  return out;
}

v1::SourceInfo ChunkInfo(const std::string& table) {
  v1::SourceInfo info = testing::MakeChunkInfo(table);
  info.set_position("0/AB");  // an overlay every row of the chunk carries
  return info;
}

// Stores `chunks` chunks of `per_chunk` rows of db.<table> (ids from `first_id`), by bulk
// ingestion when `bulk`, else by the WAL (AppendEncodedAsync).
void StoreSnapshot(ChangeLog& log, SourceId id, const std::string& table, int64_t first_id,
                   int chunks, int per_chunk, bool bulk) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<absl::StatusOr<LogOffset>> done;
  auto callback = [&](absl::StatusOr<LogOffset> r) {
    std::lock_guard<std::mutex> lock(mu);
    done.push_back(std::move(r));
    cv.notify_all();
  };
  for (int c = 0; c < chunks; ++c) {
    std::vector<EncodedEvent> rows;
    for (int i = 0; i < per_chunk; ++i)
      rows.push_back(SnapshotRow(table, first_id + c * per_chunk + i));
    if (bulk) {
      log.AppendSnapshotChunkAsync(id, ToChunk(rows), ChunkInfo(table),
                                   MakeCheckpoint(absl::StrCat("c", c)), c + 1 == chunks, nullptr,
                                   callback);
    } else {
      log.AppendEncodedAsync(id, std::move(rows), ChunkInfo(table),
                             MakeCheckpoint(absl::StrCat("c", c)), callback);
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done.size() == static_cast<size_t>(chunks); });
  for (const auto& r : done) ASSERT_TRUE(r.ok()) << r.status();
}

// Every table-state row of `id` as (table + row key) -> value bytes, read in pages of 7 rows
// (so a page starts with a fresh reader mid-table).
std::map<std::string, std::string> StateBytes(const TableStateView& view) {
  std::map<std::string, std::string> out;
  std::string cursor;
  do {
    auto more = view.Read("", cursor, ReadLimits{7, size_t{1} << 20}, [&](const TableRow& row) {
      out[absl::StrCat(std::string(row.table), "/", std::string(row.row_key))] =
          std::string(row.value);
    });
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok()) break;
    cursor = *more;
  } while (!cursor.empty());
  return out;
}

std::map<std::string, std::string> StateBytes(const ChangeLog& log, SourceId id) {
  auto view = log.OpenTableState(id);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return {};
  return StateBytes(**view);
}

ChangeLogOptions SmallOptions() {
  ChangeLogOptions o;
  o.sync = false;
  o.ingest_rows = 1'000'000;
  o.ingest_max_delay_ms = 600'000;
  o.retention_batch_bytes = 2000;  // a few rows per batch
  o.clock = [] { return int64_t{1'700'000'000'000'000}; };
  return o;
}

// The same snapshot stored by the WAL and by ingestion, with the same clock, reads as the same
// table state (the ingested rows are references resolved on read), also across tables.
TEST(StateReference, IngestedSnapshotReadsAsTheWalPathsState) {
  std::map<std::string, std::string> state[2];
  for (int bulk = 0; bulk < 2; ++bulk) {
    TempDir dir;
    auto log = ChangeLog::Open(dir.path(), SmallOptions());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
    ASSERT_TRUE(id.ok());
    StoreSnapshot(**log, *id, "a", 1, 3, 40, bulk);
    StoreSnapshot(**log, *id, "b", 1000, 2, 30, bulk);
    state[bulk] = StateBytes(**log, *id);
  }
  EXPECT_EQ(state[0].size(), 180u);
  EXPECT_EQ(state[0], state[1]);
}

struct Trimmed {
  std::map<std::string, std::string> before;
  std::map<std::string, std::string> after;
  TrimResult trim;
};

// Ingests 6 chunks of 20 rows of db.t (ids 1..120), applies `changes` by the WAL, reads the
// state, trims the whole snapshot (and `changes`) away and reads it again.
Trimmed TrimSnapshot(const std::vector<v1::ChangeEvent>& changes) {
  TempDir dir;
  Trimmed out;
  auto log = ChangeLog::Open(dir.path(), SmallOptions());
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return out;
  auto id = *(*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  StoreSnapshot(**log, id, "t", 1, 6, 20, true);
  for (const v1::ChangeEvent& e : changes) {
    auto r = (*log)->Append(id, {e}, MakeCheckpoint("wal"));
    EXPECT_TRUE(r.ok()) << r.status();
  }
  // One more transaction after them, of another table.
  EXPECT_TRUE((*log)
                  ->Append(id, {MakeRowEvent("u", v1::OP_INSERT, std::nullopt, IdRow(1, "kept"))},
                           MakeCheckpoint("last"))
                  .ok());
  out.before = StateBytes(**log, id);
  auto view = (*log)->OpenTableState(id);  // opened before the trim
  EXPECT_TRUE(view.ok());
  const LogOffset last = (*log)->Bounds(id)->last;
  auto trim = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
  EXPECT_TRUE(trim.ok()) << trim.status();
  if (!trim.ok()) return out;
  out.trim = *trim;
  EXPECT_EQ(trim->first_after, LogOffset(last.value() + 1));  // everything
  out.after = StateBytes(**log, id);
  // A view opened before the trim still reads the same rows (its snapshot keeps the records).
  if (view.ok()) {
    EXPECT_EQ(StateBytes(**view), out.before);
    view->reset();
  }
  // And so does the reopened log.
  log->reset();
  log = ChangeLog::Open(dir.path(), SmallOptions());
  EXPECT_TRUE(log.ok()) << log.status();
  if (log.ok()) {
    EXPECT_EQ(StateBytes(**log, id), out.after);
    // Trimming again (nothing left to trim) changes nothing.
    auto again = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(again->state_rows_materialized, 0u);
  }
  return out;
}

TEST(StateReference, RetentionKeepsEveryReferencedRowByteIdentical) {
  Trimmed t = TrimSnapshot({});
  EXPECT_EQ(t.before.size(), 121u);
  EXPECT_EQ(t.after, t.before);
  EXPECT_EQ(t.trim.state_rows_materialized, 120u);
  EXPECT_GT(t.trim.batches, 2u) << "the trim was not split into batches";
  EXPECT_EQ(t.trim.events_removed, 121u);
}

TEST(StateReference, RetentionMaterializesOnlyRowsStillReferenced) {
  // Row 5 overwritten, row 6 deleted, row 7 moved to id 500 by a key-changing update, row 8
  // updated in place: none of them may come back as the snapshot row.
  Trimmed t = TrimSnapshot({
      MakeRowEvent("t", v1::OP_UPDATE, IdRow(5, "?"), IdRow(5, "five, updated")),
      MakeRowEvent("t", v1::OP_DELETE, IdRow(6, "?"), std::nullopt),
      MakeRowEvent("t", v1::OP_UPDATE, IdRow(7, "?"), IdRow(500, "seven moved")),
      MakeRowEvent("t", v1::OP_INSERT, std::nullopt, IdRow(8, "eight again")),
  });
  EXPECT_EQ(t.before.size(), 120u);  // 120 - 6 - 7 + 500 + u/1
  EXPECT_EQ(t.after, t.before);
  EXPECT_EQ(t.trim.state_rows_materialized, 116u);
}

TEST(StateReference, RetentionAfterATableClearRestoresNothing) {
  Trimmed t = TrimSnapshot({
      MakeRowEvent("t", v1::OP_TRUNCATE, std::nullopt, std::nullopt),
      MakeRowEvent("t", v1::OP_INSERT, std::nullopt, IdRow(3, "three after the truncate")),
  });
  EXPECT_EQ(t.before.size(), 2u);  // t/3 and u/1
  EXPECT_EQ(t.after, t.before);
  EXPECT_EQ(t.trim.state_rows_materialized, 0u);
}

// Writes, deletes and moves of snapshot rows, and re-ingested snapshots of the same keys.
void Workload(ChangeLog& log, SourceId id, int round) {
  std::mt19937 rng(round);
  for (int i = 0; i < 60; ++i) {
    const int64_t k = 1 + static_cast<int64_t>(rng() % 1000);
    switch (rng() % 4) {
      case 0:
        ASSERT_TRUE(log.Append(id,
                               {MakeRowEvent("t", v1::OP_UPDATE, IdRow(k, "?"),
                                             IdRow(k, absl::StrCat("upd ", i)))},
                               MakeCheckpoint("w"))
                        .ok());
        break;
      case 1:
        ASSERT_TRUE(log.Append(id, {MakeRowEvent("t", v1::OP_DELETE, IdRow(k, "?"), std::nullopt)},
                               MakeCheckpoint("w"))
                        .ok());
        break;
      case 2:
        ASSERT_TRUE(log.Append(id,
                               {MakeRowEvent("t", v1::OP_UPDATE, IdRow(k, "?"),
                                             IdRow(k + 5000, absl::StrCat("moved ", i)))},
                               MakeCheckpoint("w"))
                        .ok());
        break;
      case 3:
        StoreSnapshot(log, id, "t", k, 1, 10, true);  // re-ingests 10 keys
        break;
    }
  }
}

// Retention in many small batches (its scans run without the write lock) while another thread
// overwrites, deletes and moves referenced rows and ingests snapshots of the same keys: the
// state reads as that of a log that did the same appends without retention.
TEST(StateReference, RetentionConcurrentWithWritersKeepsTheState) {
  for (int round = 0; round < 3; ++round) {
    TempDir a, b;
    ChangeLogOptions o = SmallOptions();
    o.retention_batch_bytes = 300;
    auto trimmed = ChangeLog::Open(a.path(), o);
    auto plain = ChangeLog::Open(b.path(), o);
    ASSERT_TRUE(trimmed.ok() && plain.ok());
    auto ida = *(*trimmed)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
    auto idb = *(*plain)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
    StoreSnapshot(**trimmed, ida, "t", 1, 50, 20, true);
    StoreSnapshot(**plain, idb, "t", 1, 50, 20, true);
    std::atomic<bool> stop{false};
    std::thread trimmer([&] {
      while (!stop.load()) {
        auto t = (*trimmed)->ApplyRetention(ida, RetentionPolicy{.max_bytes = 1});
        ASSERT_TRUE(t.ok()) << t.status();
      }
    });
    Workload(**trimmed, ida, round);
    stop = true;
    trimmer.join();
    Workload(**plain, idb, round);
    auto final_trim = (*trimmed)->ApplyRetention(ida, RetentionPolicy{.max_bytes = 1});
    ASSERT_TRUE(final_trim.ok()) << final_trim.status();
    EXPECT_EQ((*trimmed)->Bounds(ida)->last, (*plain)->Bounds(idb)->last);
    EXPECT_TRUE(StateBytes(**trimmed, ida) == StateBytes(**plain, idb)) << "round " << round;
  }
}

// A trim of r records that hold no reference (snapshot rows stored by the WAL path) is cut
// into pieces by the bytes it scans, and one large ingested transaction's rows are
// materialized in batches of their own before the batch that removes it.
TEST(StateReference, PiecesAreBoundedByBytesScannedAndMaterialized) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path(), SmallOptions());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  StoreSnapshot(**log, id, "t", 1, 1, 2000, false);  // one WAL transaction of 2,000 rows
  auto wal = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
  ASSERT_TRUE(wal.ok()) << wal.status();
  EXPECT_EQ(wal->state_rows_materialized, 0u);
  EXPECT_EQ(wal->batches, 1u);                       // one transaction: one piece
  StoreSnapshot(**log, id, "u", 1, 10, 100, false);  // ten WAL transactions
  StoreSnapshot(**log, id, "v", 1, 1, 2000, true);   // one ingested chunk of 2,000 rows
  const auto expected = StateBytes(**log, id);
  auto trim = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
  ASSERT_TRUE(trim.ok()) << trim.status();
  EXPECT_EQ(trim->state_rows_materialized, 2000u);
  // 2,000-byte batches: the ten transactions take more than one piece, the chunk's rows many.
  EXPECT_GT(trim->batches, 12u);
  EXPECT_EQ(StateBytes(**log, id), expected);
}

// The trim holds the write lock only to write its batches: while it waits between two of them
// (in the test hook), an append from another thread completes.
TEST(StateReference, AppendsCompleteWhileATrimWaitsBetweenBatches) {
  TempDir dir;
  ChangeLogOptions o = SmallOptions();
  std::promise<void> appended;
  std::shared_future<void> appended_future = appended.get_future().share();
  std::atomic<int> batches{0};
  std::atomic<bool> in_time{false};
  o.after_retention_batch_for_testing = [&] {
    // Generous: only a trim holding the lock here would make the append wait this long.
    if (++batches == 2) {
      in_time = appended_future.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
    }
  };
  auto log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  StoreSnapshot(**log, id, "t", 1, 10, 100, true);
  std::thread trimmer([&] {
    auto t = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
    ASSERT_TRUE(t.ok()) << t.status();
  });
  while (batches.load() < 2) std::this_thread::yield();
  ASSERT_TRUE((*log)
                  ->Append(id, {MakeRowEvent("w", v1::OP_INSERT, std::nullopt, IdRow(1, "x"))},
                           MakeCheckpoint("w"))
                  .ok());
  appended.set_value();
  trimmer.join();
  EXPECT_TRUE(in_time.load());
}

// The crash test's child runs in a fresh process (this binary re-executed with
// SLUICE_STATE_REF_CHILD set, running only StateReferenceChild.Main), as in ingest_test.cc.
pid_t SpawnChild(int batches, const std::string& dir, int fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setenv("SLUICE_STATE_REF_CHILD", absl::StrCat(batches, ",", fd, ",", dir).c_str(), 1);
  execl("/proc/self/exe", "storage_test", "--gtest_filter=StateReferenceChild.Main", nullptr);
  _exit(7);
}

ChangeLogOptions SyncedOptions() {
  ChangeLogOptions o = SmallOptions();
  o.sync = true;
  return o;
}

// In the child: trims everything; after the `stop_after`th batch is
// written, tells `fd` and waits to be killed.
[[noreturn]] void RunTrimmer(const std::string& dir, int fd, int stop_after) {
  ChangeLogOptions o = SyncedOptions();
  int batches = 0;
  o.after_retention_batch_for_testing = [&] {
    if (++batches < stop_after) return;
    char c = 1;
    if (write(fd, &c, 1) != 1) _exit(6);
    for (;;) pause();
  };
  auto log = ChangeLog::Open(dir, o);
  if (!log.ok()) _exit(3);
  auto id = (*log)->FindSource("src");
  if (!id.ok()) _exit(4);
  auto trim = (*log)->ApplyRetention(*id, RetentionPolicy{.max_bytes = 1});
  if (!trim.ok()) _exit(5);
  _exit(9);  // fewer batches than asked for
}

TEST(StateReference, KilledBetweenRetentionBatchesLeavesTheStateWhole) {
  for (int stop_after : {1, 3}) {
    TempDir dir;
    std::map<std::string, std::string> expected;
    {
      auto log = ChangeLog::Open(dir.path(), SyncedOptions());
      ASSERT_TRUE(log.ok()) << log.status();
      auto id = *(*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
      StoreSnapshot(**log, id, "t", 1, 6, 20, true);
      ASSERT_TRUE((*log)
                      ->Append(id, {MakeRowEvent("t", v1::OP_DELETE, IdRow(2, "?"), std::nullopt)},
                               MakeCheckpoint("wal"))
                      .ok());
      expected = StateBytes(**log, id);
    }
    ASSERT_EQ(expected.size(), 119u);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = SpawnChild(stop_after, dir.path(), fds[1]);
    ASSERT_GE(pid, 0);
    close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    char c = 0;
    const bool reached = poll(&p, 1, 60'000) == 1 && read(fds[0], &c, 1) == 1;
    close(fds[0]);
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(reached) << "the child did not write " << stop_after << " retention batches";
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with status " << WEXITSTATUS(wstatus);
    auto log = ChangeLog::Open(dir.path(), SyncedOptions());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = *(*log)->FindSource("src");
    const LogBounds bounds = *(*log)->Bounds(id);
    // A batch may only materialize rows (a transaction holds more than a batch of them), so
    // the first batch may trim nothing; by the third, records were trimmed.
    if (stop_after >= 3) {
      EXPECT_GT(bounds.first.value(), 1u) << "stop after " << stop_after;
    }
    EXPECT_LE(bounds.first.value(), 121u) << "stop after " << stop_after;
    EXPECT_EQ((bounds.first.value() - 1) % 20, 0u) << "a batch ends at a transaction start";
    EXPECT_EQ(StateBytes(**log, id), expected) << "stop after " << stop_after;
    // The rest of the trim, in this process, keeps it whole too.
    auto trim = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
    ASSERT_TRUE(trim.ok()) << trim.status();
    EXPECT_EQ((*log)->Bounds(id)->first.value(), 122u);
    EXPECT_EQ(StateBytes(**log, id), expected) << "stop after " << stop_after;
  }
}

// The child process of the crash test; skipped unless SLUICE_STATE_REF_CHILD is set.
TEST(StateReferenceChild, Main) {
  const char* spec = std::getenv("SLUICE_STATE_REF_CHILD");
  if (spec == nullptr) GTEST_SKIP() << "runs only as the crash test's child";
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(',', 2));
  if (parts.size() != 3) _exit(8);
  RunTrimmer(parts[2], std::stoi(parts[1]), std::stoi(parts[0]));
}

}  // namespace
}  // namespace sluice::storage
