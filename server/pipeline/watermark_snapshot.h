#pragma once
// On-demand re-snapshot of one table while the source streams, with Netflix DBLog's watermark
// algorithm: no locks, and streaming never pauses.
//
// A worker thread (one per request, with its own SQL session) repeats, chunk by chunk:
//   1. write a low watermark L into the source (a row in a signal table for MySQL, a
//      transactional pg_logical_emit_message for Postgres), committed;
//   2. SELECT the next primary-key chunk (keyset pagination, optional WHERE);
//   3. hand the rows to the stream side (Offer), then write the high watermark H;
//   4. wait until the stream side has emitted the chunk (or asks for it again).
// The session thread, which reads the stream in commit order, sees L, then every change
// committed between L and H, then H. Keys of the table changed inside that window are dropped
// from the chunk (their newer state is in the log already, or comes right after); the remaining
// rows are appended as op "r" events right after H's transaction. So the log stays a valid
// history: every "r" event shows a row as it was at that point of the stream.
//
// A change inside a window whose keys the stream side cannot list (a Postgres transaction that
// was streamed in progress and committed inside the window) spoils the window: the chunk is
// read again with new watermarks.
//
// A request is stored in the log when the session takes it, and each chunk's append stores the
// table's progress after it (resnapshot_state.h), so a restart continues the re-snapshot after
// its last durable chunk, with new watermarks (docs/guarantees.md).
//
// Thread-safety: WatermarkWindows is used by the worker and the session thread; all methods are
// thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/pipeline/resnapshot_state.h"
#include "server/pipeline/snapshot.h"
#include "server/pipeline/source_registry.h"
#include "sluice/v1/event.pb.h"

namespace sluice::pipeline {

// A request from the admin API: `table` is "db.table" / "schema.table"; `where` an optional SQL
// condition that limits the rows; `id` names the request in the stored state. `resumed`: the
// state of a re-snapshot that was running when the source stopped (resnapshot_state.h), which
// continues after its tables' last durable keys.
struct ResnapshotRequest {
  std::string table;
  std::string where;
  std::string id;
  std::optional<storagepb::ResnapshotState> resumed;
};

// The state stored while `request` runs, before its first chunk: a resumed request's stored
// state, or a fresh one naming the table (progress zero).
storagepb::ResnapshotState InitialResnapshotState(const ResnapshotRequest& request);

// A resumed request's stored progress applied to `listed` (its table as listed now): rows done
// and the last durable key, so the next chunk starts after it. Returns false (and leaves
// `listed` at its start) when the request is not resumed, or the stored key columns differ from
// the table's primary key now (the key changed while sluiced was down: read it all again).
bool ContinueFromStored(const ResnapshotRequest& request, storagepb::SnapshotTable& listed);

// How long RequestSnapshot waits for a session to take a request, and then for its append.
inline constexpr absl::Duration kResnapshotPickup = absl::Seconds(10);
inline constexpr absl::Duration kResnapshotStored = absl::Seconds(20);

// One queued or running re-snapshot per source (a resumed one may queue ahead of it). A request
// is *accepted* once the session took it and stored it in the log (Accepted): from then on a
// restart continues it. Thread-safe.
class ResnapshotQueue {
 public:
  // A request from the admin API; returns its id. FailedPrecondition when one is already queued
  // or running.
  absl::StatusOr<std::string> Push(std::string table, std::string where);
  // A re-snapshot found in the stored state when a session starts: first in line, never refused.
  void PushResumed(ResnapshotRequest request);
  // The first queued request, which is then running until Done().
  std::optional<ResnapshotRequest> Pop();
  void Done();
  // Session: request `id` is stored in the log (its append is durable).
  void Accepted(const std::string& id);
  // Session: the append that stores request `id` failed with `cause`: the request is dropped
  // (the session ends on the failed append), and AwaitAccepted returns that at once.
  void Refused(const std::string& id, const absl::Status& cause);
  // Session: the callback for the append that stores request `id` (of `table`): Accepted on
  // success, Refused on failure, then `done` with the result; a failure reaches `done` (the
  // session's error, which `status` shows) as a status naming the dropped re-snapshot.
  storage::AppendCallback StoreCallback(std::string id, std::string table,
                                        storage::AppendCallback done);
  // Admin side: waits until request `id` is accepted (OK). Unavailable, with the request taken
  // back out of the queue, when no session took it within `pickup` (the source is not streaming:
  // connecting, in its initial snapshot, or failing); Aborted, naming the cause, when the
  // append that stores it failed (it was dropped); DeadlineExceeded when a session took it but
  // its append was not durable within `durable` (it may still run, but is not yet stored).
  // Every message starts with "the re-snapshot".
  absl::Status AwaitAccepted(const std::string& id, absl::Duration pickup, absl::Duration durable);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ResnapshotRequest> queued_;
  std::string running_;     // table of the running request, "" when none
  std::string running_id_;  // its id
  std::string accepted_;    // id of the last accepted request
  std::string refused_;     // id of the last request whose append failed
  absl::Status refused_cause_;
};

// "db.table" split in two; InvalidArgument naming the expected form otherwise.
absl::StatusOr<std::pair<std::string, std::string>> SplitTableName(const std::string& table);

// The watermark prefix in signal rows / logical messages: "sluice-wm:<id>:L" / ":H".
inline constexpr char kWatermarkPrefix[] = "sluice-wm";

class WatermarkWindows {
 public:
  // The table the windows are about ("db"/"schema" and name).
  void SetTable(std::string database, std::string table);
  std::pair<std::string, std::string> table() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {database_, table_};
  }

  // Worker: a fresh watermark id.
  std::string NewId();
  // Worker: the chunk read between L and H of `id`, and the table's progress once that chunk is
  // appended (`after`: its last key, rows done, done).
  void Offer(const std::string& id, SnapshotRows rows, storagepb::SnapshotTable after = {});
  // Worker: waits until the chunk `id` is emitted (true) or must be read again (false).
  // Cancelled when `stopping` is set first.
  absl::StatusOr<bool> AwaitEmitted(const std::string& id, const std::atomic<bool>& stopping);

  // Session: a watermark value seen in the stream ("sluice-wm:<id>:L" etc.). Returns true
  // when `value` is a watermark (then it must not be stored).
  bool OnWatermark(const std::string& value);
  // Session: a committed change in stream order.
  void OnChange(const v1::ChangeEvent& event);
  // Session: a committed change whose keys are unknown.
  void SpoilOpen();
  // Session: after the transaction that held a high watermark is appended, the chunk to append
  // (nullopt: nothing to do): its rows, without those changed inside the window, and the
  // table's progress after it. Append them (even none: the progress is stored with the
  // checkpoint) with EmitWhenDurable's callback.
  struct Ready {
    SnapshotRows rows;
    storagepb::SnapshotTable after;
  };
  std::optional<Ready> TakeReady(std::string& id);
  void Emitted(const std::string& id, bool appended);
  // Session: the append callback for chunk `id`'s rows. When the log's append has finished (on
  // the writer thread) it calls Emitted(id, result.ok()), then `done`. So the worker, and the
  // progress it reports ("done" included), moves on only once the chunk is durable: a chunk
  // counted as emitted at queue time let the worker run ahead of a lagging log, and "done" came
  // before the last chunks could be read. `this` must outlive the callback (the session drains
  // its appends before it ends).
  storage::AppendCallback EmitWhenDurable(std::string id, storage::AppendCallback done);
  // Session: the session ends; every waiting worker gets Cancelled.
  void Abort();

 private:
  struct Window {
    bool open = false;  // L seen, H not yet
    bool spoiled = false;
    std::set<std::string> changed;  // keys changed inside the window
    std::optional<SnapshotRows> rows;
    storagepb::SnapshotTable after;
    enum class Result { kPending, kEmitted, kRedo } result = Result::kPending;
  };
  std::string KeyOf(const v1::ChangeEvent& event) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string database_, table_;
  std::map<std::string, Window> windows_;
  std::optional<std::string> ready_;  // H seen for this id; append its chunk after the commit
  bool aborted_ = false;
  uint64_t next_ = 0;
};

// A session's re-snapshot worker thread: one request at a time, taken from the queue on the
// session thread, joined when the next one starts or the session ends. A failure becomes the
// source's last error (with the state put back to streaming: the stream is unaffected).
class ResnapshotWorker {
 public:
  using Body =
      std::function<absl::Status(const ResnapshotRequest&, const std::atomic<bool>& stopping)>;
  ResnapshotWorker(ResnapshotQueue& queue, WatermarkWindows& windows, SourceRegistry& registry,
                   std::string source)
      : queue_(queue), windows_(windows), registry_(registry), source_(std::move(source)) {}
  ~ResnapshotWorker() { Stop(); }
  // Session thread: runs make_body()'s result on the worker thread for a queued request, unless
  // one is running; returns the request it started. make_body runs on the session thread (to
  // copy what the worker needs).
  std::optional<ResnapshotRequest> MaybeStart(const std::function<Body()>& make_body);
  // Session thread: joins a worker that has finished (done or failed); true when it did.
  bool Reap();
  // Stops and joins the worker (it gets Cancelled).
  void Stop();

 private:
  ResnapshotQueue& queue_;
  WatermarkWindows& windows_;
  SourceRegistry& registry_;
  const std::string source_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
};

// At a source session's start: continues the re-snapshot stored in the source's checkpoint, if
// one is (resnapshot_state.h). From then on `state` stamps it on every checkpoint, `registry`
// shows its progress so far, and it is queued ahead of any new request. Nothing to do when the
// stored checkpoint holds none.
absl::Status ResumeStoredResnapshot(storage::ChangeLog& log, storage::SourceId id,
                                    ResnapshotCheckpoint& state, ResnapshotQueue& requests,
                                    SourceRegistry& registry, const std::string& source);

// RunWatermarkChunks's progress callback: one table entry in the registry.
std::function<void(uint64_t rows_done, bool done)> ResnapshotProgress(SourceRegistry& registry,
                                                                      const std::string& source,
                                                                      const std::string& table,
                                                                      uint64_t estimate);

// The worker loop, source-independent: `write_watermark(value)` commits one watermark,
// `reader` reads chunks of `table` (with the WHERE condition applied), config's
// snapshot_chunk_size rows each, pausing snapshot_pause_ms after each, starting after
// table.last_key() (a resumed re-snapshot). Runs until the table is done, an error, or
// `stopping`. Progress goes to `on_progress(rows_done, done)`.
absl::Status RunWatermarkChunks(
    WatermarkWindows& windows, storagepb::SnapshotTable table, SnapshotReader& reader,
    const config::SourceConfig& config,
    const std::function<absl::Status(const std::string&)>& write_watermark,
    const std::function<void(uint64_t rows_done, bool done)>& on_progress,
    const std::atomic<bool>& stopping);

}  // namespace sluice::pipeline
