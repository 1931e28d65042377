// Snapshot chunks stored by bulk ingestion (ChangeLog::AppendSnapshotChunkAsync): gathered into
// one ingestion, invisible until it is ingested, ordered with the source's other appends and
// with other sources' WAL appends, table state sorted, and crash-safe (a child process killed
// just before and just after IngestExternalFiles, and at random instants).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
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

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;
using testing::ToChunk;

// A snapshot row of db.<table> keyed by the string `key`, as a snapshot reader encodes it.
EncodedEvent SnapshotRow(const std::string& table, const std::string& key) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_READ);
  e.add_key_columns("k");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("k");
  f->mutable_value()->set_string(key);
  f = e.mutable_after()->add_fields();
  f->set_name("payload");
  f->mutable_value()->set_string(std::string(60, 'p'));
  EncodedEvent out;
  out.row_key = EncodeRowKey(e.key_columns(), e.after());
  out.body = e.SerializeAsString();
  out.table = "db." + table;
  out.op = v1::OP_READ;
  return out;
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "k%09llu", static_cast<unsigned long long>(i));
  return buf;
}

v1::SourceInfo ChunkInfo(const std::string& table) { return testing::MakeChunkInfo(table); }

// Collects the callbacks of AppendSnapshotChunkAsync.
struct Calls {
  std::mutex mu;
  std::condition_variable cv;
  int written = 0;
  std::vector<absl::StatusOr<LogOffset>> done;

  absl::AnyInvocable<void()> Written() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu);
      ++written;
      cv.notify_all();
    };
  }
  AppendCallback Done() {
    return [this](absl::StatusOr<LogOffset> r) {
      std::lock_guard<std::mutex> lock(mu);
      done.push_back(std::move(r));
      cv.notify_all();
    };
  }
  void WaitWritten(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return written >= n; });
  }
  void WaitDone(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done.size() >= n; });
  }
  size_t DoneCount() {
    std::lock_guard<std::mutex> lock(mu);
    return done.size();
  }
};

void AddChunk(ChangeLog& log, SourceId id, const std::string& table, std::vector<EncodedEvent> rows,
              const std::string& checkpoint, bool now, Calls& calls) {
  log.AppendSnapshotChunkAsync(id, ToChunk(rows), ChunkInfo(table), MakeCheckpoint(checkpoint),
                               now, calls.Written(), calls.Done());
}

std::vector<EncodedEvent> Rows(const std::string& table, uint64_t from, uint64_t n) {
  std::vector<EncodedEvent> out;
  for (uint64_t i = 0; i < n; ++i) out.push_back(SnapshotRow(table, Key(from + i)));
  return out;
}

// Every stored record of `id`: (offset, table, parsed event), checking contiguity from 1.
std::vector<v1::ChangeEvent> ReadAll(const ChangeLog& log, SourceId id) {
  std::vector<v1::ChangeEvent> out;
  LogOffset next(1);
  for (;;) {
    auto r = log.Read(id, next, ReadLimits{100000, size_t{64} << 20}, [&](const StoredRecord& rec) {
      v1::ChangeEvent e;
      EXPECT_TRUE(e.ParseFromArray(rec.view.event.data(), static_cast<int>(rec.view.event.size())));
      EXPECT_EQ(e.offset(), rec.offset.value());
      EXPECT_EQ(rec.offset.value(), out.size() + 1);
      out.push_back(std::move(e));
    });
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || *r == next) break;
    next = *r;
  }
  return out;
}

// The table state of `id` as row key -> offset that wrote it.
std::map<std::string, uint64_t> State(const ChangeLog& log, SourceId id) {
  std::map<std::string, uint64_t> out;
  auto view = log.OpenTableState(id);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return out;
  std::string cursor;
  do {
    auto next =
        (*view)->Read("", cursor, ReadLimits{100000, size_t{64} << 20}, [&](const TableRow& row) {
          LogOffset at;
          auto e = StateRowEvent(row.value, &at);
          EXPECT_TRUE(e.ok()) << e.status();
          out[std::string(row.table) + "/" + e->after().fields(0).value().string()] = at.value();
        });
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) break;
    cursor = *next;
  } while (!cursor.empty());
  return out;
}

ChangeLogOptions Options(size_t rows) {
  ChangeLogOptions o;
  o.sync = false;
  o.ingest_rows = rows;
  o.ingest_max_delay_ms = 600'000;  // only the size or ingest_now ingests, unless a test says
  return o;
}

// Opens a log in `dir` (ingestions of 1,000 rows) with the source "src".
void OpenWithSource(const TempDir& dir, std::unique_ptr<ChangeLog>& log, SourceId& id) {
  auto opened = ChangeLog::Open(dir.path(), Options(1000));
  ASSERT_TRUE(opened.ok()) << opened.status();
  log = *std::move(opened);
  auto registered = log->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(registered.ok()) << registered.status();
  id = *registered;
}

TEST(Ingest, ChunksAreGatheredAndInvisibleUntilIngested) {
  TempDir dir;
  struct Observer : AppendObserver {
    std::atomic<uint64_t> events{0};
    void OnDurable(std::span<const DurableAppend> a) override {
      for (const auto& d : a) events += d.events;
    }
  } observer;
  ChangeLogOptions o = Options(250);
  o.observer = &observer;
  auto log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  std::atomic<int> notified{0};
  auto waiter = (*log)->NotifyAfter(*id, LogOffset(0), [&] { ++notified; });
  ASSERT_NE(waiter, nullptr);
  Calls calls;
  AddChunk(**log, *id, "t", Rows("t", 0, 100), "c1", false, calls);
  AddChunk(**log, *id, "t", Rows("t", 100, 100), "c2", false, calls);
  calls.WaitWritten(2);
  // Written into the ingestion's files, but not ingested: readers see nothing yet.
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), 0u);
  EXPECT_EQ(calls.DoneCount(), 0u);
  EXPECT_EQ(notified.load(), 0);
  EXPECT_FALSE(std::filesystem::is_empty(dir.path() + "/ingest"));
  AddChunk(**log, *id, "t", Rows("t", 200, 100), "c3", false, calls);  // 300 >= 250: ingests
  calls.WaitDone(3);
  EXPECT_EQ(*calls.done[0], LogOffset(100));
  EXPECT_EQ(*calls.done[1], LogOffset(200));
  EXPECT_EQ(*calls.done[2], LogOffset(300));
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), 300u);
  EXPECT_EQ((*log)->Checkpoint(*id)->position_text(), "c3");
  EXPECT_EQ(notified.load(), 1);
  EXPECT_EQ(observer.events.load(), 300u);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/ingest"));
  std::vector<v1::ChangeEvent> events = ReadAll(**log, *id);
  ASSERT_EQ(events.size(), 300u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].op(), v1::OP_READ);
    EXPECT_EQ(events[i].source().table(), "t");
    EXPECT_TRUE(events[i].source().snapshot());
    EXPECT_EQ(events[i].after().fields(0).value().string(), Key(i));
    EXPECT_EQ(events[i].transaction_index(), i % 100);
    EXPECT_EQ(events[i].last_in_transaction(), i % 100 == 99);
  }
  std::map<std::string, uint64_t> state = State(**log, *id);
  ASSERT_EQ(state.size(), 300u);
  EXPECT_EQ(state["db.t/" + Key(0)], 1u);
  EXPECT_EQ(state["db.t/" + Key(299)], 300u);
}

TEST(Ingest, AChunkWhoseCommitInfoNamesNoTableIsRefused) {
  // The chunk's table (record headers, table-state keys) comes from its commit info alone.
  TempDir dir;
  std::unique_ptr<ChangeLog> log;
  SourceId id;
  OpenWithSource(dir, log, id);
  Calls calls;
  v1::SourceInfo no_table = ChunkInfo("t");
  no_table.clear_table();
  v1::SourceInfo no_database = ChunkInfo("t");  // would be stored as table ".t"
  no_database.clear_database();
  int n = 0;
  for (const v1::SourceInfo& info : {no_table, no_database}) {
    log->AppendSnapshotChunkAsync(id, ToChunk(Rows("t", 0, 3)), info, MakeCheckpoint("c1"), true,
                                  calls.Written(), calls.Done());
    ++n;
    calls.WaitWritten(n);  // the window is freed too
    calls.WaitDone(static_cast<size_t>(n));
    EXPECT_EQ(calls.done.back().status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(calls.done.back().status().message().find("name its table"), std::string::npos);
  }
  EXPECT_EQ(log->Bounds(id)->last.value(), 0u);
}

TEST(Ingest, TableStateKeysOutOfByteOrderAndRepeatedAreSorted) {
  TempDir dir;
  std::unique_ptr<ChangeLog> log;
  SourceId id;
  OpenWithSource(dir, log, id);
  Calls calls;
  // Table a's keys ascend (written straight to the file), table b's descend (a collation whose
  // order is not the bytes': held and merged), and the key k5 of table a comes twice in one
  // ingestion: the later row wins over the one already in the file.
  std::vector<EncodedEvent> a;
  for (int i = 0; i <= 9; ++i) a.push_back(SnapshotRow("a", "k" + std::to_string(i)));
  AddChunk(*log, id, "a", std::move(a), "c1", false, calls);
  std::vector<EncodedEvent> b;
  for (int i = 4; i >= 0; --i) b.push_back(SnapshotRow("b", "k" + std::to_string(i)));
  AddChunk(*log, id, "b", std::move(b), "c2", false, calls);
  std::vector<EncodedEvent> again;
  again.push_back(SnapshotRow("a", "k5"));
  AddChunk(*log, id, "a", std::move(again), "c3", true, calls);
  calls.WaitDone(3);
  for (auto& r : calls.done) ASSERT_TRUE(r.ok()) << r.status();
  std::map<std::string, uint64_t> state = State(*log, id);
  ASSERT_EQ(state.size(), 15u);
  EXPECT_EQ(state["db.a/k0"], 1u);
  EXPECT_EQ(state["db.a/k9"], 10u);
  EXPECT_EQ(state["db.b/k4"], 11u);
  EXPECT_EQ(state["db.b/k0"], 15u);
  EXPECT_EQ(state["db.a/k5"], 16u);
  EXPECT_EQ(ReadAll(*log, id).size(), 16u);
}

TEST(Ingest, OrderedWithTheSourcesOtherAppendsAndOtherSourcesWal) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path(), Options(1'000'000));
  ASSERT_TRUE(log.ok()) << log.status();
  auto a = (*log)->RegisterSource("a", v1::SOURCE_KIND_MYSQL);
  auto b = (*log)->RegisterSource("b", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(a.ok() && b.ok());
  Calls calls;
  AddChunk(**log, *a, "t", Rows("t", 0, 50), "a1", false, calls);
  AddChunk(**log, *a, "t", Rows("t", 50, 50), "a2", false, calls);
  calls.WaitWritten(2);
  // Another source's WAL appends commit while a's ingestion is open.
  for (int i = 0; i < 5; ++i) {
    auto r = (*log)->Append(*b, {MakeEvent("u", i)}, MakeCheckpoint("b" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->value(), static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ((*log)->Bounds(*a)->last.value(), 0u);
  // An ordinary append of a: the ingestion goes first, the append follows it.
  auto r = (*log)->Append(*a, {MakeEvent("t", 1000, 0, v1::OP_UPDATE)}, MakeCheckpoint("a3"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), 101u);
  ASSERT_EQ(calls.DoneCount(), 2u);
  EXPECT_EQ(*calls.done[1], LogOffset(100));
  // And more chunks after it continue the offsets.
  AddChunk(**log, *a, "t", Rows("t", 100, 10), "a4", true, calls);
  calls.WaitDone(3);
  EXPECT_EQ(*calls.done[2], LogOffset(111));
  std::vector<v1::ChangeEvent> events = ReadAll(**log, *a);
  ASSERT_EQ(events.size(), 111u);
  EXPECT_EQ(events[100].op(), v1::OP_UPDATE);
  EXPECT_EQ(events[110].after().fields(0).value().string(), Key(109));
  EXPECT_EQ(ReadAll(**log, *b).size(), 5u);
  EXPECT_EQ(State(**log, *a).size(), 111u);
  // Everything survives a reopen, and the WAL continues after the ingested rows.
  log->reset();
  log = ChangeLog::Open(dir.path(), Options(1'000'000));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Bounds(*a)->last.value(), 111u);
  EXPECT_EQ((*log)->Checkpoint(*a)->position_text(), "a4");
  EXPECT_EQ((*log)->Bounds(*b)->last.value(), 5u);
  r = (*log)->Append(*a, {MakeEvent("t", 2000)}, MakeCheckpoint("a5"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), 112u);
  EXPECT_EQ(ReadAll(**log, *a).size(), 112u);
  EXPECT_EQ((*log)->Checkpoint(*a)->position_text(), "a5");
}

// An ingestion that fails on the ingesting thread (its files vanish before IngestExternalFiles)
// leaves the log's end where it was; after DiscardAllStaged (the source's next session) the next
// ingestion starts right after that end, not after the failed one's offsets (a gap readers would
// stop at for good).
TEST(Ingest, AFailedIngestionLeavesNoGapForTheNextOne) {
  TempDir dir;
  ChangeLogOptions o = Options(1'000'000);
  std::atomic<bool> fail_next{true};
  const std::string ingest_dir = dir.path() + "/ingest";
  o.around_ingest_for_testing = [&](bool ingested) {
    if (ingested || !fail_next.exchange(false)) return;
    for (const auto& f : std::filesystem::directory_iterator(ingest_dir)) {
      std::filesystem::remove(f.path());
    }
  };
  auto log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  Calls calls;
  AddChunk(**log, *id, "t", Rows("t", 0, 100), "c1", true, calls);
  calls.WaitDone(1);
  EXPECT_FALSE(calls.done[0].ok());
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), 0u);
  ASSERT_TRUE((*log)->DiscardAllStaged(*id).ok());
  AddChunk(**log, *id, "t", Rows("t", 0, 100), "c1", true, calls);
  calls.WaitDone(2);
  ASSERT_TRUE(calls.done[1].ok()) << calls.done[1].status();
  EXPECT_EQ(*calls.done[1], LogOffset(100));
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), 100u);
  EXPECT_EQ(ReadAll(**log, *id).size(), 100u);
}

// An ingestion opened while the handed one is in flight continues its offsets; when the handed
// one fails and the source starts a new session (DiscardAllStaged), the new session's first
// chunk does not join that open ingestion (it would start past the log's end and fail as a bug):
// the open one's chunks are dropped (ABORTED) and the new chunk is stored right after the end.
TEST(Ingest, ANewSessionsChunkDoesNotJoinAnIngestionContinuingAFailedOne) {
  TempDir dir;
  ChangeLogOptions o = Options(1'000'000);
  o.ingest_max_delay_ms = 600'000;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> fail_next{true};
  const std::string ingest_dir = dir.path() + "/ingest";
  o.around_ingest_for_testing = [&](bool ingested) {
    if (ingested || !fail_next.exchange(false)) return;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    for (const auto& f : std::filesystem::directory_iterator(ingest_dir)) {
      if (f.path().filename().string().rfind("1-", 0) == 0) std::filesystem::remove(f.path());
    }
  };
  auto log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  Calls calls;
  AddChunk(**log, *id, "t", Rows("t", 0, 100), "c1", true, calls);     // handed, held
  AddChunk(**log, *id, "t", Rows("t", 100, 100), "c2", false, calls);  // opened meanwhile
  calls.WaitWritten(2);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  calls.WaitDone(1);
  EXPECT_FALSE(calls.done[0].ok());
  ASSERT_TRUE((*log)->DiscardAllStaged(*id).ok());  // the source's new session
  AddChunk(**log, *id, "t", Rows("t", 0, 100), "c1", true, calls);
  calls.WaitDone(3);
  EXPECT_EQ(calls.done[1].status().code(), absl::StatusCode::kAborted) << calls.done[1].status();
  ASSERT_TRUE(calls.done[2].ok()) << calls.done[2].status();
  EXPECT_EQ(*calls.done[2], LogOffset(100));
  EXPECT_EQ(ReadAll(**log, *id).size(), 100u);
  EXPECT_EQ((*log)->Checkpoint(*id)->position_text(), "c1");
}

TEST(Ingest, ASmallIngestionIsIngestedAfterItsDelayAndAtClose) {
  TempDir dir;
  ChangeLogOptions o = Options(1'000'000);
  o.ingest_max_delay_ms = 100;
  auto log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  Calls calls;
  AddChunk(**log, *id, "t", Rows("t", 0, 10), "c1", false, calls);
  calls.WaitDone(1);  // no size reached, no ingest_now: the delay ingests it
  EXPECT_EQ(*calls.done[0], LogOffset(10));
  o.ingest_max_delay_ms = 600'000;
  log->reset();
  log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  AddChunk(**log, *id, "t", Rows("t", 10, 10), "c2", false, calls);
  calls.WaitWritten(2);
  log->reset();  // closing ingests what is open
  ASSERT_EQ(calls.DoneCount(), 2u);
  EXPECT_EQ(*calls.done[1], LogOffset(20));
  log = ChangeLog::Open(dir.path(), o);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), 20u);
  EXPECT_EQ((*log)->Checkpoint(*id)->position_text(), "c2");
}

// Every stored byte of a source: its log records (flags, op, table, event) and its table-state
// rows (table, row key, value), in order.
std::vector<std::string> StoredBytes(const ChangeLog& log, SourceId id) {
  std::vector<std::string> out;
  LogOffset next(1);
  for (;;) {
    auto r = log.Read(id, next, ReadLimits{100000, size_t{64} << 20}, [&](const StoredRecord& rec) {
      out.push_back(absl::StrCat("log ", rec.offset.value(), " ", rec.view.flags, " ", rec.view.op,
                                 " ", std::string(rec.view.table), " ",
                                 std::string(rec.view.event)));
    });
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || *r == next) break;
    next = *r;
  }
  auto view = log.OpenTableState(id);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return out;
  std::string cursor;
  do {
    auto more =
        (*view)->Read("", cursor, ReadLimits{100000, size_t{64} << 20}, [&](const TableRow& row) {
          out.push_back(absl::StrCat("state ", std::string(row.table), " ",
                                     std::string(row.row_key), " ", std::string(row.value)));
        });
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok()) break;
    cursor = *more;
  } while (!cursor.empty());
  return out;
}

TEST(Ingest, StoresTheSameBytesAsTheWal) {
  // The same chunks appended by the WAL (AppendEncodedAsync) and by bulk ingestion, with the
  // same clock: every log record and table-state row is the same, byte for byte. The chunks
  // cover rows written straight to the state file (ascending keys), rows held and merged
  // (descending keys), offsets and a table name long enough for two-byte varints, a row whose
  // state the log derives from its body (no row key given) and a keyless row (no state).
  std::vector<std::pair<std::string, std::vector<EncodedEvent>>> chunks;
  chunks.emplace_back("a", Rows("a", 0, 200));
  {
    std::vector<EncodedEvent> b;
    for (int i = 60; i >= 0; --i) b.push_back(SnapshotRow("b", Key(static_cast<uint64_t>(i))));
    chunks.emplace_back("b", std::move(b));
  }
  const std::string long_table(140, 'x');
  chunks.emplace_back(long_table, Rows(long_table, 0, 30));
  {
    std::vector<EncodedEvent> c = Rows("a", 500, 3);
    {  // the log computes the update from the body, which names its table
      v1::ChangeEvent e;
      ASSERT_TRUE(e.ParseFromString(c[1].body));
      e.mutable_source()->set_database("db");
      e.mutable_source()->set_table("a");
      c[1].body = e.SerializeAsString();
      c[1].row_key.reset();
    }
    c[2].row_key.emplace();  // a keyless table's row: no table state
    chunks.emplace_back("a", std::move(c));
  }
  std::vector<std::string> stored[2];
  for (int bulk = 0; bulk < 2; ++bulk) {
    TempDir dir;
    ChangeLogOptions o = Options(1'000'000);
    o.clock = [] { return int64_t{1'700'000'000'000'000}; };
    auto log = ChangeLog::Open(dir.path(), o);
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
    ASSERT_TRUE(id.ok());
    Calls calls;
    for (size_t i = 0; i < chunks.size(); ++i) {
      std::vector<EncodedEvent> rows = chunks[i].second;
      const bool last = i + 1 == chunks.size();
      if (bulk) {
        AddChunk(**log, *id, chunks[i].first, std::move(rows), absl::StrCat("c", i), last, calls);
      } else {
        (*log)->AppendEncodedAsync(*id, std::move(rows), ChunkInfo(chunks[i].first),
                                   MakeCheckpoint(absl::StrCat("c", i)), calls.Done());
      }
    }
    calls.WaitDone(chunks.size());
    for (auto& r : calls.done) ASSERT_TRUE(r.ok()) << r.status();
    stored[bulk] = StoredBytes(**log, *id);
  }
  size_t states = 0;
  for (const std::string& item : stored[0]) states += item.rfind("state ", 0) == 0;
  EXPECT_EQ(states, 200u + 61 + 30 + 2);
  EXPECT_EQ(stored[0].size() - states, 200u + 61 + 30 + 3);
  ASSERT_EQ(stored[0].size(), stored[1].size());
  for (size_t i = 0; i < stored[0].size(); ++i) {
    ASSERT_EQ(stored[0][i], stored[1][i]) << "stored item " << i;
  }
}

// The crash tests' children run in a fresh process (this binary, re-executed with
// SLUICE_INGEST_CHILD set, running only IngestChild.Main): a child forked from a process whose
// RocksDB background threads exist only in the parent would wait forever for a flush.
pid_t SpawnChild(const std::string& mode, const std::string& dir, int fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setenv("SLUICE_INGEST_CHILD", absl::StrCat(mode, ",", fd, ",", dir).c_str(), 1);
  execl("/proc/self/exe", "storage_test", "--gtest_filter=IngestChild.Main", nullptr);
  _exit(7);
}

// Waits up to a minute for `n` bytes on `fd`. False on timeout or end of file.
bool ReadWithin(int fd, void* buf, size_t n) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 60'000) != 1) return false;
  return read(fd, buf, n) == static_cast<ssize_t>(n);
}

// In the child: stores 6 chunks of 100 rows in three ingestions and stops (tells `fd`, then
// waits to be killed) inside the second one, just before IngestExternalFiles (`after` false) or
// just after it, once the writer has written the third ingestion's two chunks into their files
// meanwhile (the files of the next ingestion are written while one is being ingested). Tells
// 1, or 2 when the writer did not get to them within 20 s.
[[noreturn]] void RunStoppedIngester(const std::string& dir, int fd, bool after) {
  ChangeLogOptions o = Options(200);
  o.sync = true;
  int seen = 0;
  Calls calls;
  o.around_ingest_for_testing = [&](bool ingested) {
    if (!ingested) ++seen;
    if (seen == 2 && ingested == after) {
      std::unique_lock<std::mutex> lock(calls.mu);
      const bool next_written = calls.cv.wait_for(lock, std::chrono::seconds(20),
                                                  [&] { return calls.written >= 6; });
      lock.unlock();
      char c = next_written ? 1 : 2;
      if (write(fd, &c, 1) != 1) _exit(6);
      for (;;) pause();
    }
  };
  auto log = ChangeLog::Open(dir, o);
  if (!log.ok()) _exit(3);
  auto id = (*log)->RegisterSource("src", v1::SOURCE_KIND_MYSQL);
  if (!id.ok()) _exit(4);
  for (int c = 0; c < 6; ++c) {
    AddChunk(**log, *id, "t", Rows("t", c * 100, 100), "c" + std::to_string(c + 1), false, calls);
  }
  for (;;) pause();
}

// Kills the child inside its second ingestion, with the third one's files written. The reopened
// log holds the first ingestion (plus the second when it was ingested), whole, nothing of the
// third, and no file of the interrupted ingestions is left.
void KillInsideSecondIngestion(bool after) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = SpawnChild(after ? "after" : "before", dir.path(), fds[1]);
  ASSERT_GE(pid, 0);
  close(fds[1]);
  char c = 0;
  const bool reached = ReadWithin(fds[0], &c, 1);
  close(fds[0]);
  kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(reached) << "the child did not reach its second ingestion";
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with status " << WEXITSTATUS(wstatus);
  EXPECT_EQ(c, 1) << "the writer did not write the next ingestion's chunks while one was being "
                     "ingested";
  // The interrupted ingestions' files are there until the log is opened again.
  EXPECT_FALSE(std::filesystem::is_empty(dir.path() + "/ingest"));
  auto log = ChangeLog::Open(dir.path(), Options(200));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/ingest"));
  auto id = (*log)->FindSource("src");
  ASSERT_TRUE(id.ok());
  const uint64_t expected = after ? 400 : 200;
  EXPECT_EQ((*log)->Bounds(*id)->last.value(), expected);
  EXPECT_EQ((*log)->Checkpoint(*id)->position_text(), after ? "c4" : "c2");
  EXPECT_EQ(ReadAll(**log, *id).size(), expected);
  std::map<std::string, uint64_t> state = State(**log, *id);
  EXPECT_EQ(state.size(), expected);
  // The log continues where it stands, by the ingestion path and by the WAL.
  Calls calls;
  AddChunk(**log, *id, "t", Rows("t", expected, 100), "next", true, calls);
  calls.WaitDone(1);
  ASSERT_TRUE(calls.done[0].ok()) << calls.done[0].status();
  EXPECT_EQ(*calls.done[0], LogOffset(expected + 100));
  auto r = (*log)->Append(*id, {MakeEvent("t", 1)}, MakeCheckpoint("wal"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), expected + 101);
  EXPECT_EQ(ReadAll(**log, *id).size(), expected + 101);
}

TEST(IngestCrash, KilledBetweenFileCreationAndIngestionKeepsThePreviousState) {
  KillInsideSecondIngestion(false);
}

TEST(IngestCrash, KilledRightAfterIngestionKeepsTheNewState) { KillInsideSecondIngestion(true); }

// A child stores snapshot chunks of 1..150 rows by ingestion (and now and then an ordinary
// append), acknowledging each durable chunk on a pipe; it is killed at a random instant after
// its first acknowledgement, six times. Each reopened log must hold whole chunks only, offsets
// contiguous, the checkpoint naming the last stored chunk, every acknowledged chunk, and one
// table-state row per snapshot row.
[[noreturn]] void RunIngester(const std::string& dir, int ack_fd) {
  ChangeLogOptions o;
  o.ingest_rows = 400;
  o.ingest_max_delay_ms = 50;
  auto log = ChangeLog::Open(dir, o);
  if (!log.ok()) _exit(3);
  auto id = (*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  if (!id.ok()) _exit(4);
  auto cp = (*log)->Checkpoint(*id);
  uint64_t k = 0;  // chunk number; chunk k holds rows of keys [first(k), first(k) + size(k))
  uint64_t rows = 0;
  if (cp.ok() && !cp->position_text().empty()) {
    k = std::stoull(cp->position_text()) + 1;
    rows = (*log)->Bounds(*id)->last.value();
  }
  for (;; ++k) {
    const uint64_t n = (k * 2654435761u) % 150 + 1;
    v1::SourceCheckpoint checkpoint = MakeCheckpoint(std::to_string(k));
    auto ack = [ack_fd, k](absl::StatusOr<LogOffset> r) {
      if (!r.ok()) _exit(5);
      ssize_t w = write(ack_fd, &k, sizeof k);
      (void)w;
    };
    if (k % 17 == 16) {
      // An ordinary append of one snapshot-like row between the chunks.
      (*log)->AppendEncodedAsync(*id, Rows("t", rows, 1), ChunkInfo("t"), std::move(checkpoint),
                                 ack);
      rows += 1;
    } else {
      (*log)->AppendSnapshotChunkAsync(*id, ToChunk(Rows("t", rows, n)), ChunkInfo("t"),
                                       std::move(checkpoint), k % 7 == 6, nullptr, ack);
      rows += n;
    }
  }
}

uint64_t RowsBefore(uint64_t k) {
  uint64_t rows = 0;
  for (uint64_t i = 0; i < k; ++i) rows += i % 17 == 16 ? 1 : (i * 2654435761u) % 150 + 1;
  return rows;
}

TEST(IngestCrash, KillNineAtRandomInstantsLosesNothingAcknowledged) {
  TempDir dir;
  std::mt19937 rng(4242);
  for (int round = 0; round < 6; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = SpawnChild("random", dir.path(), fds[1]);
    ASSERT_GE(pid, 0);
    close(fds[1]);
    uint64_t k = 0;
    if (!ReadWithin(fds[0], &k, sizeof k)) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      FAIL() << "round " << round << ": no chunk became durable";
    }
    int64_t last_acked = static_cast<int64_t>(k);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with status " << WEXITSTATUS(wstatus);
    while (read(fds[0], &k, sizeof k) == static_cast<ssize_t>(sizeof k)) {
      last_acked = std::max<int64_t>(last_acked, static_cast<int64_t>(k));
    }
    close(fds[0]);
    auto log = ChangeLog::Open(dir.path(), Options(400));
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/ingest"));
    auto id = (*log)->FindSource("s");
    ASSERT_TRUE(id.ok());
    const uint64_t stored_chunk = std::stoull((*log)->Checkpoint(*id)->position_text());
    EXPECT_GE(static_cast<int64_t>(stored_chunk), last_acked) << "round " << round;
    const uint64_t rows = RowsBefore(stored_chunk + 1);
    EXPECT_EQ((*log)->Bounds(*id)->last.value(), rows) << "round " << round;
    std::vector<v1::ChangeEvent> events = ReadAll(**log, *id);
    ASSERT_EQ(events.size(), rows);
    for (uint64_t i = 0; i < rows; ++i) {
      ASSERT_EQ(events[i].after().fields(0).value().string(), Key(i)) << "offset " << i + 1;
    }
    EXPECT_TRUE(events.back().last_in_transaction());
    EXPECT_EQ(State(**log, *id).size(), rows) << "round " << round;
  }
}

// The child process of the crash tests; skipped unless SLUICE_INGEST_CHILD is set.
TEST(IngestChild, Main) {
  const char* spec = std::getenv("SLUICE_INGEST_CHILD");
  if (spec == nullptr) GTEST_SKIP() << "runs only as the crash tests' child";
  std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(',', 2));
  if (parts.size() != 3) _exit(8);
  const int fd = std::stoi(parts[1]);
  if (parts[0] == "random") RunIngester(parts[2], fd);
  RunStoppedIngester(parts[2], fd, parts[0] == "after");
}

}  // namespace
}  // namespace sluice::storage
