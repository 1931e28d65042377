#pragma once
// Helpers for tests of the log and what is built on it: a temporary directory, event builders,
// a log that cannot grow, and the process RSS.

#include <signal.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "sluice/v1/event.pb.h"
#include "storage/change_log.h"
#include "storage/table_state.h"

namespace sluice::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// While it lives, writes past the current end of the newest WAL file in log directory `dir` fail
// with EFBIG, as on a full disk (RLIMIT_FSIZE for the whole process, SIGXFSZ ignored), so the next
// append fails. ok() is false when `dir` has no WAL file, or one no larger than twice RocksDB's
// info LOG (which must keep room for the lines about the failure): append more first.
class WalGrowthLimit {
 public:
  explicit WalGrowthLimit(const std::string& dir) {
    std::filesystem::path wal;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      if (f.path().extension() == ".log" && (wal.empty() || f.path().filename() > wal.filename())) {
        wal = f.path();
      }
    }
    if (wal.empty()) return;
    const uintmax_t size = std::filesystem::file_size(wal);
    if (size <= 2 * std::filesystem::file_size(std::filesystem::path(dir) / "LOG")) return;
    if (getrlimit(RLIMIT_FSIZE, &old_) != 0) return;
    signal(SIGXFSZ, SIG_IGN);
    rlimit limited = old_;
    limited.rlim_cur = size;
    ok_ = setrlimit(RLIMIT_FSIZE, &limited) == 0;
  }
  ~WalGrowthLimit() {
    if (!ok_) return;
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, SIG_DFL);
  }
  WalGrowthLimit(const WalGrowthLimit&) = delete;
  WalGrowthLimit& operator=(const WalGrowthLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  bool ok_ = false;
};

// A row of an `id` int64 and a `payload` string.
inline v1::Row IdRow(int64_t id, const std::string& payload) {
  v1::Row row;
  auto* f = row.add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(id);
  f = row.add_fields();
  f->set_name("payload");
  f->mutable_value()->set_string(payload);
  return row;
}

// An event of db.`table` keyed by `id`, with the given images.
inline v1::ChangeEvent MakeRowEvent(const std::string& table, v1::Op op,
                                    std::optional<v1::Row> before, std::optional<v1::Row> after) {
  v1::ChangeEvent e;
  e.set_op(op);
  e.mutable_source()->set_name("src");
  e.mutable_source()->set_database("db");
  e.mutable_source()->set_table(table);
  e.add_key_columns("id");
  if (before) *e.mutable_before() = *before;
  if (after) *e.mutable_after() = *after;
  return e;
}

// The commit info of a snapshot chunk of db.`table` (ChangeLog::AppendSnapshotChunkAsync).
inline v1::SourceInfo MakeChunkInfo(const std::string& table) {
  v1::SourceInfo info;
  info.set_name("src");
  info.set_kind(v1::SOURCE_KIND_MYSQL);
  info.set_database("db");
  info.set_table(table);
  info.set_snapshot(true);
  return info;
}

inline v1::ChangeEvent MakeEvent(const std::string& table, int64_t id, int64_t commit_ts = 0,
                                 v1::Op op = v1::OP_INSERT) {
  v1::ChangeEvent e;
  e.set_op(op);
  e.mutable_source()->set_name("src");
  e.mutable_source()->set_kind(v1::SOURCE_KIND_MYSQL);
  e.mutable_source()->set_database("db");
  e.mutable_source()->set_table(table);
  e.mutable_source()->set_commit_ts_micros(commit_ts);
  e.add_key_columns("id");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(id);
  return e;
}

// An insert into shop.orders of about 200 serialized bytes: an id and a 120-byte payload.
inline v1::ChangeEvent MakeOrderEvent(uint64_t id, int64_t commit_ts = 0) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_INSERT);
  auto* s = e.mutable_source();
  s->set_name("bench");
  s->set_kind(v1::SOURCE_KIND_MYSQL);
  s->set_database("shop");
  s->set_table("orders");
  s->set_commit_ts_micros(commit_ts);
  s->set_position("binlog.000001:" + std::to_string(id * 200));
  e.add_key_columns("id");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_uint64(id);
  f = e.mutable_after()->add_fields();
  f->set_name("payload");
  f->mutable_value()->set_string(std::string(120, 'x'));
  return e;
}

// Resident set size of this process (Linux), for memory-bound tests and benchmarks.
inline uint64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

inline v1::SourceCheckpoint MakeCheckpoint(const std::string& text) {
  v1::SourceCheckpoint c;
  c.set_position_text(text);
  return c;
}

// Snapshot rows as one chunk (ChangeLog::AppendSnapshotChunkAsync). A row without a row key
// gets the one the log derives from its body for AppendEncodedAsync, so that the two paths
// store the same bytes.
inline EncodedChunk ToChunk(const std::vector<EncodedEvent>& rows) {
  EncodedChunk out;
  for (const EncodedEvent& e : rows) {
    out.bytes().append(e.body);
    const size_t body_end = out.bytes().size();
    if (e.row_key.has_value()) {
      out.bytes().append(*e.row_key);
    } else {
      const TableStateUpdate derived = ComputeTableStateUpdate(e.body);
      if (derived.kind == TableStateUpdate::Kind::kPut) out.bytes().append(derived.key);
    }
    out.EndRow(body_end);
  }
  return out;
}

}  // namespace sluice::storage::testing
