// state_read_bench: what reading the table state of an ingested snapshot costs, now that its
// rows are references to their log records (storage/state_reference.h), next to reading the
// same rows from the log (the reference) and the state of the same rows stored by the WAL
// (full values, as every state row was stored before), all in the same run. Also the cost of
// the retention that trims the whole snapshot (which gives each row its full value first).
// Usage: state_read_bench [--rows N] [--page N]
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "storage/change_log.h"
#include "storage/table_state.h"
#include "storage/test_util.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Must(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// A row like the snapshot bench's Postgres table: an int key and ~120 bytes of other columns.
storage::EncodedEvent Row(int64_t id) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_READ);
  e.add_key_columns("id");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(id);
  f = e.mutable_after()->add_fields();
  f->set_name("name");
  f->mutable_value()->set_string(absl::StrCat("name-", id, "-", std::string(30, 'n')));
  f = e.mutable_after()->add_fields();
  f->set_name("note");
  f->mutable_value()->set_string(std::string(50, static_cast<char>('a' + id % 26)));
  storage::EncodedEvent out;
  out.row_key = storage::EncodeRowKey(e.key_columns(), e.after());
  out.body = e.SerializeAsString();
  out.table = "public.bench";
  out.op = v1::OP_READ;
  return out;
}

// Stores `rows` rows in chunks of 10,000, by bulk ingestion or by the WAL.
void Store(storage::ChangeLog& log, storage::SourceId id, uint64_t rows, bool bulk) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t pending = 0;
  v1::SourceInfo info;
  info.set_name("bench");
  info.set_schema("public");
  info.set_table("bench");
  info.set_snapshot(true);
  constexpr uint64_t kChunk = 10'000;
  for (uint64_t done = 0; done < rows; done += kChunk) {
    std::vector<storage::EncodedEvent> chunk;
    for (uint64_t i = done; i < std::min(rows, done + kChunk); ++i) {
      chunk.push_back(Row(static_cast<int64_t>(i)));
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return pending < 4; });
      ++pending;
    }
    auto done_cb = [&](absl::StatusOr<LogOffset> r) {
      Must(r.status(), "append");
      std::lock_guard<std::mutex> lock(mu);
      --pending;
      cv.notify_all();
    };
    if (bulk) {
      log.AppendSnapshotChunkAsync(id, storage::testing::ToChunk(chunk), info, {},
                                   done + kChunk >= rows, nullptr, done_cb);
    } else {
      log.AppendEncodedAsync(id, std::move(chunk), info, {}, done_cb);
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
}

struct Timed {
  double wall = 0;
  double cpu = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

Timed ReadLog(const storage::ChangeLog& log, storage::SourceId id, size_t page) {
  Timed t;
  const auto start = Clock::now();
  const double cpu = ThreadCpu();
  LogOffset next(1);
  for (;;) {
    auto r = log.Read(id, next, storage::ReadLimits{page, size_t{1} << 30},
                      [&](const storage::StoredRecord& rec) {
                        ++t.rows;
                        t.bytes += rec.view.event.size();
                      });
    Must(r.status(), "read log");
    if (*r == next) break;
    next = *r;
  }
  t.cpu = ThreadCpu() - cpu;
  t.wall = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

// The whole state in pages of `page` rows, as a bootstrap reads it.
Timed ReadState(const storage::ChangeLog& log, storage::SourceId id, size_t page) {
  Timed t;
  const auto start = Clock::now();
  const double cpu = ThreadCpu();
  auto view = log.OpenTableState(id);
  Must(view.status(), "open state");
  std::string cursor;
  do {
    auto more = (*view)->Read("", cursor, storage::ReadLimits{page, size_t{1} << 30},
                              [&](const storage::TableRow& row) {
                                ++t.rows;
                                t.bytes += row.value.size();
                              });
    Must(more.status(), "read state");
    cursor = *more;
  } while (!cursor.empty());
  t.cpu = ThreadCpu() - cpu;
  t.wall = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

void Print(const char* what, const Timed& t) {
  std::printf("  %-44s %9.0f rows/s (%.2f s, cpu %.2f s, %llu rows, %.1f MiB)\n", what,
              static_cast<double>(t.rows) / t.wall, t.wall, t.cpu,
              static_cast<unsigned long long>(t.rows), static_cast<double>(t.bytes) / (1 << 20));
}

int Main(int argc, char** argv) {
  uint64_t rows = 1'000'000;
  size_t page = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--page") == 0) page = std::stoull(argv[i + 1]);
  }
  std::printf("state_read_bench: %llu rows, pages of %zu\n", static_cast<unsigned long long>(rows),
              page);
  for (bool bulk : {true, false}) {
    storage::testing::TempDir dir;
    storage::ChangeLogOptions options;
    options.sync = false;
    {
      auto log = storage::ChangeLog::Open(dir.path(), options);
      Must(log.status(), "open");
      auto id = (*log)->RegisterSource("bench", v1::SOURCE_KIND_POSTGRES);
      Must(id.status(), "register");
      Store(**log, *id, rows, bulk);
    }
    // Reopened: the rows are in SST files (bulk) or in the WAL and memtables (not bulk); the
    // WAL case is flushed by reading once, so both read files warm in the page cache.
    auto log = storage::ChangeLog::Open(dir.path(), options);
    Must(log.status(), "reopen");
    auto id = *(*log)->FindSource("bench");
    ReadState(**log, id, page);  // warm-up
    std::printf("%s:\n", bulk ? "stored by bulk ingestion (state rows are references)"
                              : "stored by the WAL (state rows are full values)");
    Print("log read (reference)", ReadLog(**log, id, page));
    Print("table state read (bootstrap)", ReadState(**log, id, page));
    Print("log read (reference, again)", ReadLog(**log, id, page));
    Print("table state read (bootstrap, again)", ReadState(**log, id, page));
    const auto start = Clock::now();
    const double cpu = ThreadCpu();
    auto trim = (*log)->ApplyRetention(id, storage::RetentionPolicy{.max_bytes = 1});
    Must(trim.status(), "retention");
    std::printf(
        "  retention of every row: %.2f s, cpu %.2f s, %llu rows materialized in %llu "
        "batches\n",
        std::chrono::duration<double>(Clock::now() - start).count(), ThreadCpu() - cpu,
        static_cast<unsigned long long>(trim->state_rows_materialized),
        static_cast<unsigned long long>(trim->batches));
    Print("table state read after retention", ReadState(**log, id, page));
  }
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
