#include "server/pipeline/watermark_snapshot.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/base/status_macros.h"
#include "server/logging/log.h"

namespace sluice::pipeline {

storagepb::ResnapshotState InitialResnapshotState(const ResnapshotRequest& request) {
  if (request.resumed) return *request.resumed;
  storagepb::ResnapshotState state;
  state.set_request_id(request.id);
  state.set_where(request.where);
  state.set_started_ts_micros(NowMicros());
  absl::StatusOr<std::pair<std::string, std::string>> names = SplitTableName(request.table);
  if (names.ok()) {
    storagepb::SnapshotTable* t = state.add_tables();
    t->set_database(names->first);
    t->set_table(names->second);
  }
  return state;
}

bool ContinueFromStored(const ResnapshotRequest& request, storagepb::SnapshotTable& listed) {
  if (!request.resumed) return false;
  for (const storagepb::SnapshotTable& t : request.resumed->tables()) {
    if (t.database() != listed.database() || t.table() != listed.table()) continue;
    if (t.last_key().empty()) return false;  // no chunk was stored yet
    if (t.key_columns_size() != listed.key_columns_size() ||
        !std::equal(t.key_columns().begin(), t.key_columns().end(), listed.key_columns().begin()) ||
        t.last_key_size() != listed.key_columns_size()) {
      return false;
    }
    *listed.mutable_last_key() = t.last_key();
    listed.set_rows_done(t.rows_done());
    listed.set_done(t.done());
    return true;
  }
  return false;
}

absl::StatusOr<std::string> ResnapshotQueue::Push(std::string table, std::string where) {
  static std::atomic<uint64_t> salt{std::random_device()()};
  std::lock_guard<std::mutex> lock(mu_);
  if (!queued_.empty() || !running_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a re-snapshot of ", queued_.empty() ? running_ : queued_.front().table,
        " is already queued or running on this source; wait for it (sluicectl status shows its "
        "progress)"));
  }
  ResnapshotRequest& r = queued_.emplace_back();
  r.table = std::move(table);
  r.where = std::move(where);
  r.id = absl::StrCat(absl::Hex(NowMicros()), "-", absl::Hex(salt.fetch_add(1) % 1'000'000'007));
  return r.id;
}

void ResnapshotQueue::PushResumed(ResnapshotRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(queued_, [&](const ResnapshotRequest& r) { return r.id == request.id; });
  queued_.push_front(std::move(request));
}

std::optional<ResnapshotRequest> ResnapshotQueue::Pop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queued_.empty() || !running_.empty()) return std::nullopt;
  ResnapshotRequest out = std::move(queued_.front());
  queued_.pop_front();
  running_ = out.table;
  running_id_ = out.id;
  cv_.notify_all();
  return out;
}

void ResnapshotQueue::Done() {
  std::lock_guard<std::mutex> lock(mu_);
  running_.clear();
  running_id_.clear();
  cv_.notify_all();
}

void ResnapshotQueue::Accepted(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  accepted_ = id;
  cv_.notify_all();
}

void ResnapshotQueue::Refused(const std::string& id, const absl::Status& cause) {
  std::lock_guard<std::mutex> lock(mu_);
  refused_ = id;
  refused_cause_ = cause;
  cv_.notify_all();
}

storage::AppendCallback ResnapshotQueue::StoreCallback(std::string id, std::string table,
                                                       storage::AppendCallback done) {
  return [this, id = std::move(id), table = std::move(table),
          done = std::move(done)](absl::StatusOr<LogOffset> result) mutable {
    if (result.ok()) {
      Accepted(id);
      std::move(done)(std::move(result));
      return;
    }
    Refused(id, result.status());
    std::move(done)(absl::Status(
        result.status().code(),
        absl::StrCat("the re-snapshot of ", table,
                     " was dropped: its request could not be stored in the change log (",
                     std::string(result.status().message()),
                     "); run sluicectl snapshot again once the source streams")));
  };
}

absl::Status ResnapshotQueue::AwaitAccepted(const std::string& id, absl::Duration pickup,
                                            absl::Duration durable) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto queued = [&] {
    return std::any_of(queued_.begin(), queued_.end(),
                       [&](const ResnapshotRequest& r) { return r.id == id; });
  };
  const auto now = std::chrono::steady_clock::now();
  const auto pickup_deadline = now + absl::ToChronoMilliseconds(pickup);
  while (accepted_ != id && queued() &&
         cv_.wait_until(lock, pickup_deadline) != std::cv_status::timeout) {
  }
  if (accepted_ == id) return absl::OkStatus();
  if (queued()) {
    std::erase_if(queued_, [&](const ResnapshotRequest& r) { return r.id == id; });
    return absl::UnavailableError(absl::StrCat(
        "the re-snapshot was not accepted: the source did not take the request within ",
        absl::FormatDuration(pickup),
        " (it is not streaming yet: connecting, taking its initial snapshot, or failing; see "
        "sluicectl status). Nothing was started; run the command again once it streams"));
  }
  const auto durable_deadline = now + absl::ToChronoMilliseconds(durable);
  while (accepted_ != id && refused_ != id &&
         cv_.wait_until(lock, durable_deadline) != std::cv_status::timeout) {
  }
  if (accepted_ == id) return absl::OkStatus();
  if (refused_ == id) {
    return absl::AbortedError(absl::StrCat(
        "the re-snapshot was not started: storing its request in the change log failed (",
        std::string(refused_cause_.message()),
        "), so nothing would continue it. The source stops and reconnects (sluicectl status "
        "shows its error); run the command again once it streams"));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the re-snapshot started but its request was not stored in the log within ",
      absl::FormatDuration(durable),
      ": it runs while that append is pending (sluicectl status shows its progress, or the "
      "error if the append fails), but if sluiced stops before it is stored it is not "
      "continued"));
}

absl::StatusOr<std::pair<std::string, std::string>> SplitTableName(const std::string& table) {
  const size_t dot = table.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == table.size() ||
      table.find('.', dot + 1) != std::string::npos ||
      table.find_first_of("*?") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("table \"", table,
                     "\" is not of the form database.table (MySQL) or schema.table "
                     "(Postgres), without globs"));
  }
  return std::make_pair(table.substr(0, dot), table.substr(dot + 1));
}

void WatermarkWindows::SetTable(std::string database, std::string table) {
  std::lock_guard<std::mutex> lock(mu_);
  database_ = std::move(database);
  table_ = std::move(table);
}

std::string WatermarkWindows::NewId() {
  static std::atomic<uint64_t> salt{std::random_device()()};
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrCat(salt.load() % 1'000'000'007, "-", ++next_);
}

void WatermarkWindows::Offer(const std::string& id, SnapshotRows rows,
                             storagepb::SnapshotTable after) {
  std::lock_guard<std::mutex> lock(mu_);
  Window& w = windows_[id];
  w.rows = std::move(rows);
  w.after = std::move(after);
}

absl::StatusOr<bool> WatermarkWindows::AwaitEmitted(const std::string& id,
                                                    const std::atomic<bool>& stopping) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (aborted_ || stopping.load()) {
      windows_.erase(id);
      return absl::CancelledError("the source session ended during a re-snapshot");
    }
    auto it = windows_.find(id);
    if (it != windows_.end() && it->second.result != Window::Result::kPending) {
      const bool emitted = it->second.result == Window::Result::kEmitted;
      windows_.erase(it);
      return emitted;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

bool WatermarkWindows::OnWatermark(const std::string& value) {
  std::vector<std::string> parts = absl::StrSplit(value, ':');
  if (parts.size() != 3 || parts[0] != kWatermarkPrefix) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(parts[1]);
  if (it == windows_.end()) return true;  // an old watermark (before a restart): ignore it
  if (parts[2] == "L") {
    it->second.open = true;
  } else if (parts[2] == "H" && it->second.open) {
    it->second.open = false;
    ready_ = parts[1];
  }
  return true;
}

std::string WatermarkWindows::KeyOf(const v1::ChangeEvent& event) const {
  const v1::Row& row = event.has_after() ? event.after() : event.before();
  std::string key;
  for (const std::string& k : event.key_columns()) {
    for (const v1::Field& f : row.fields()) {
      if (f.name() == k) {
        absl::StrAppend(&key, f.value().SerializeAsString(), "\x1f");
        break;
      }
    }
  }
  return key;
}

void WatermarkWindows::OnChange(const v1::ChangeEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (windows_.empty()) return;
  const auto& s = event.source();
  const std::string& db = s.schema().empty() ? s.database() : s.schema();
  if (s.table() != table_ || db != database_) return;
  for (auto& [id, w] : windows_) {
    if (!w.open) continue;
    if (event.op() == v1::OP_TRUNCATE) {
      w.spoiled = true;
    } else {
      w.changed.insert(KeyOf(event));
    }
  }
}

void WatermarkWindows::SpoilOpen() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, w] : windows_) {
    if (w.open) w.spoiled = true;
  }
}

std::optional<WatermarkWindows::Ready> WatermarkWindows::TakeReady(std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return std::nullopt;
  id = *ready_;
  ready_.reset();
  auto it = windows_.find(id);
  if (it == windows_.end() || !it->second.rows || it->second.spoiled) {
    if (it != windows_.end()) it->second.result = Window::Result::kRedo;
    cv_.notify_all();
    return std::nullopt;
  }
  SnapshotRows rows = std::move(*it->second.rows);
  it->second.rows.reset();
  std::vector<v1::ChangeEvent> kept;
  kept.reserve(rows.events.size());
  for (v1::ChangeEvent& e : rows.events) {
    if (!it->second.changed.contains(KeyOf(e))) kept.push_back(std::move(e));
  }
  rows.events = std::move(kept);
  return Ready{std::move(rows), std::move(it->second.after)};
}

void WatermarkWindows::Emitted(const std::string& id, bool appended) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(id);
  if (it != windows_.end()) {
    it->second.result = appended ? Window::Result::kEmitted : Window::Result::kRedo;
  }
  cv_.notify_all();
}

storage::AppendCallback WatermarkWindows::EmitWhenDurable(std::string id,
                                                          storage::AppendCallback done) {
  return
      [this, id = std::move(id), done = std::move(done)](absl::StatusOr<LogOffset> result) mutable {
        Emitted(id, result.ok());
        std::move(done)(std::move(result));
      };
}

void WatermarkWindows::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  aborted_ = true;
  cv_.notify_all();
}

absl::Status RunWatermarkChunks(
    WatermarkWindows& windows, storagepb::SnapshotTable table, SnapshotReader& reader,
    const config::SourceConfig& config,
    const std::function<absl::Status(const std::string&)>& write_watermark,
    const std::function<void(uint64_t rows_done, bool done)>& on_progress,
    const std::atomic<bool>& stopping) {
  const size_t chunk_size = std::max<uint32_t>(config.snapshot_chunk_size, 1);
  while (!table.done()) {
    if (stopping.load()) return absl::CancelledError("stopping during a re-snapshot");
    const std::string id = windows.NewId();
    windows.Offer(id, {});  // registers the window before L can be seen
    SLUICE_RETURN_IF_ERROR(write_watermark(absl::StrCat(kWatermarkPrefix, ":", id, ":L")));
    SLUICE_ASSIGN_OR_RETURN(SnapshotRows rows, reader.ReadChunk(table, chunk_size));
    // The table after this chunk: what the chunk's append stores as the re-snapshot's progress.
    storagepb::SnapshotTable after = table;
    AdvanceTable(after, rows.events.size(), chunk_size, rows.last_key);
    windows.Offer(id, std::move(rows), after);
    SLUICE_RETURN_IF_ERROR(write_watermark(absl::StrCat(kWatermarkPrefix, ":", id, ":H")));
    SLUICE_ASSIGN_OR_RETURN(bool emitted, windows.AwaitEmitted(id, stopping));
    if (!emitted) continue;  // spoiled: read the same chunk again
    table = std::move(after);
    on_progress(table.rows_done(), table.done());
    if (!table.done()) PauseBetweenChunks(config, stopping);
  }
  return absl::OkStatus();
}

}  // namespace sluice::pipeline

namespace sluice::pipeline {

bool ResnapshotWorker::Reap() {
  if (!thread_.joinable() || !done_.load()) return false;
  thread_.join();
  return true;
}

std::optional<ResnapshotRequest> ResnapshotWorker::MaybeStart(
    const std::function<Body()>& make_body) {
  if (thread_.joinable()) {
    if (!done_.load()) return std::nullopt;
    thread_.join();
  }
  std::optional<ResnapshotRequest> request = queue_.Pop();
  if (!request) return std::nullopt;
  stop_ = false;
  done_ = false;
  thread_ = std::thread([this, request = *request, body = make_body()] {
    absl::Status st = body(request, stop_);
    if (!st.ok() && !absl::IsCancelled(st)) {
      registry_.SetError(source_,
                         absl::Status(st.code(), absl::StrCat("re-snapshot of ", request.table,
                                                              " failed: ", st.message())));
      registry_.SetState(source_, v1::SOURCE_STATE_STREAMING);
    }
    queue_.Done();
    done_ = true;
  });
  return request;
}

void ResnapshotWorker::Stop() {
  stop_ = true;
  windows_.Abort();
  if (thread_.joinable()) thread_.join();
}

std::function<void(uint64_t, bool)> ResnapshotProgress(SourceRegistry& registry,
                                                       const std::string& source,
                                                       const std::string& table,
                                                       uint64_t estimate) {
  return [&registry, source, table, estimate](uint64_t rows, bool done) {
    v1::TableSnapshotProgress p;
    p.set_table(table);
    p.set_rows_done(rows);
    p.set_rows_estimated(std::max(estimate, rows));
    p.set_done(done);
    registry.SetSnapshotProgress(source, {p});
  };
}

absl::Status ResumeStoredResnapshot(storage::ChangeLog& log, storage::SourceId id,
                                    ResnapshotCheckpoint& state, ResnapshotQueue& requests,
                                    SourceRegistry& registry, const std::string& source) {
  SLUICE_ASSIGN_OR_RETURN(v1::SourceCheckpoint stored, log.Checkpoint(id));
  state.SetLast(stored);
  SLUICE_ASSIGN_OR_RETURN(std::optional<storagepb::ResnapshotState> resumed,
                          ResnapshotCheckpoint::Stored(stored));
  if (!resumed) return absl::OkStatus();
  ResnapshotRequest request;
  request.table = ResnapshotTableName(*resumed);
  request.where = resumed->where();
  request.id = resumed->request_id();
  request.resumed = *resumed;
  // Every checkpoint keeps the re-snapshot from now on, also before the worker takes it.
  state.Begin(*std::move(resumed));
  logging::Info(source, "continuing the re-snapshot that was running when the source stopped",
                {{"table", request.table}, {"request", request.id}});
  const uint64_t rows_done =
      request.resumed->tables().empty() ? 0 : request.resumed->tables(0).rows_done();
  ResnapshotProgress(registry, source, request.table, 0)(rows_done, false);
  requests.PushResumed(std::move(request));
  return absl::OkStatus();
}

}  // namespace sluice::pipeline
