// ChangeLog bulk ingestion of snapshot chunks (AppendSnapshotChunkAsync): the chunks of one
// source are written into SST files as they come and ingested together, atomically across the
// column families, with IngestExternalFiles. Why this is crash-safe is in storage/README.md.
// The chunks are written on the writer thread; a full ingestion is handed to the ingesting
// thread, which finishes its files and ingests it while the writer writes the next one (at
// most one handed ingestion at a time, so ingestions are stored in the order they were opened).
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "proto/base/value_wire.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/table.h"
#include "storage/change_log_impl.h"
#include "storage/state_reference.h"

namespace sluice::storage::internal {
namespace {

// Block size of the ingested SST files (the column families' own files keep RocksDB's 4 KiB).
// Larger blocks make each row cheaper to write: per block, Snappy sets up its hash table and the
// table builder writes an index entry, a checksum and a file append. On the snapshot bench's
// rows (docs/benchmarks.md, "Storage CPU"), 4 -> 32 KiB took the writer thread from 9.4k to
// 7.6k instructions per row and the files from 108 to 75 MiB per 1M rows; 32 -> 64 KiB (session
// 10) took it from 5,563 to 5,313 and the files from 9.8 to 9.0 MiB per 200,000 rows (128 KiB
// gained nothing more). The cost is on reads that seek into the snapshot's part of the log,
// which decompress 64 KiB instead of 4 KiB (subscribers and bootstraps read it in order).
constexpr size_t kIngestBlockSize = size_t{64} << 10;

// Opens an SST file writer for `cf` at `path`: the column family's options (comparator,
// compression: Snappy unless RocksDB lacks it) with kIngestBlockSize blocks. The page cache
// keeps the file's pages (invalidate_page_cache off): RocksDB reads the file's footer and index
// right after ingesting it, and subscribers read a snapshot soon after it is stored.
absl::StatusOr<std::unique_ptr<rocksdb::SstFileWriter>> OpenSstFile(rocksdb::DB& db,
                                                                    rocksdb::ColumnFamilyHandle* cf,
                                                                    const std::string& path) {
  rocksdb::Options options = db.GetOptions(cf);
  if (const auto* table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) {
    rocksdb::BlockBasedTableOptions ingest = *table;
    ingest.block_size = kIngestBlockSize;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(ingest));
  }
  auto writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options, cf,
                                                         /*invalidate_page_cache=*/false);
  SLUICE_RETURN_IF_ERROR(FromRocks(writer->Open(path), absl::StrCat("creating ", path)));
  return writer;
}

}  // namespace

absl::Status ChangeLogImpl::ResetIngestDir() {
  ingest_dir_ = (std::filesystem::path(db_->GetName()) / "ingest").string();
  std::error_code ec;
  std::filesystem::remove_all(ingest_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot remove the interrupted ingestions in '", ingest_dir_, "': ", ec.message()));
  }
  std::filesystem::create_directories(ingest_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create '", ingest_dir_, "': ", ec.message()));
  }
  return absl::OkStatus();
}

std::string ChangeLogImpl::IngestPath(const Ingestion& ing, std::string_view cf) const {
  return absl::StrCat(ingest_dir_, "/", ing.id, "-", std::string(cf), ".sst");
}

std::optional<std::chrono::steady_clock::time_point> ChangeLogImpl::IngestionDue() const {
  std::optional<std::chrono::steady_clock::time_point> due;
  for (const auto& [slot, ing] : ingestions_) {
    auto at = ing->opened + std::chrono::milliseconds(options_.ingest_max_delay_ms);
    if (!due || at < *due) due = at;
  }
  return due;
}

void ChangeLogImpl::CommitExpiredIngestions(bool all) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<SourceSlot*> due;
  for (const auto& [slot, ing] : ingestions_) {
    if (all || ing->opened + std::chrono::milliseconds(options_.ingest_max_delay_ms) <= now) {
      due.push_back(slot);
    }
  }
  for (SourceSlot* slot : due) CommitIngestion(slot);
}

void ChangeLogImpl::AddToIngestion(PendingAppend p) {
  SourceSlot* const slot = p.slot;
  absl::Status refused;
  uint64_t session = 0;
  {
    std::lock_guard<std::mutex> lock(slot->state_mu);
    refused = slot->failed;
    session = slot->session;
  }
  if (!refused.ok()) {
    if (p.written) p.written();
    std::move(p.done)(refused);
    return;
  }
  if (auto open = ingestions_.find(slot);
      open != ingestions_.end() && open->second->session != session) {
    // The open ingestion holds chunks of an earlier session (which then failed, or was given up
    // by DiscardAllStaged): the new session starts again from the stored checkpoint, so those
    // chunks are dropped, and this chunk does not continue their offsets.
    std::unique_ptr<Ingestion> stale = std::move(open->second);
    ingestions_.erase(open);
    WaitIngested();  // the earlier ingestion's callbacks run first
    FailIngestion(*stale, *slot,
                  absl::AbortedError(absl::StrCat(
                      "snapshot chunks of source '", slot->name,
                      "' were dropped unstored: the source started a new session")));
  }
  std::unique_ptr<Ingestion>& ing = ingestions_[slot];
  if (ing == nullptr) {
    ing = std::make_unique<Ingestion>();
    ing->slot = slot;
    ing->id = next_ingestion_id_++;
    ing->session = session;
    ing->opened = std::chrono::steady_clock::now();
    // An ingestion of an earlier session still in flight may yet fail: the new session waits
    // for it rather than continue its offsets.
    if (handed_end_ && handed_end_->slot == slot && handed_end_->session != session) {
      WaitIngested();
    }
    // No other append of this source commits while the ingestion is open (the writer ingests it
    // first), so the log's end stays where it is now, or where the ingestion handed over before
    // this one ends while that one is still in flight (if it then fails, so does this one); one
    // that is done has either moved the state's end or failed and left it, so the state is right.
    // Retention only moves the front.
    bool handed_in_flight = false;
    if (handed_end_ && handed_end_->slot == slot) {
      std::lock_guard<std::mutex> lock(ingest_mu_);
      handed_in_flight = ingesting_ != nullptr && ingesting_->id == handed_end_->ingestion_id &&
                         !ingesting_->settled;
    }
    if (handed_in_flight) {
      ing->next_offset = handed_end_->next_offset;
      ing->max_commit_ts_micros = handed_end_->max_commit_ts_micros;
      ing->has_events = handed_end_->has_events;
    } else {
      std::lock_guard<std::mutex> lock(slot->state_mu);
      ing->next_offset = slot->state.last_offset() + 1;
      ing->max_commit_ts_micros = slot->state.max_commit_ts_micros();
      ing->has_events = slot->state.last_offset() != 0;
    }
  }
  absl::Status written = WriteChunk(*ing, p);
  if (p.written) p.written();
  if (!written.ok()) {
    ing->chunks.emplace_back().done = std::move(p.done);
    std::unique_ptr<Ingestion> failed = std::move(ing);
    ingestions_.erase(slot);
    WaitIngested();  // the earlier ingestion's callbacks run first
    FailIngestion(*failed, *slot, written);
    return;
  }
  if (p.ingest_now || ing->rows >= options_.ingest_rows || ing->bytes >= options_.ingest_bytes) {
    CommitIngestion(slot);
  }
}

absl::Status ChangeLogImpl::WriteChunk(Ingestion& ing, PendingAppend& p) {
  const int64_t now = options_.clock();
  const uint64_t txn_first = ing.next_offset;
  const EncodedChunk& rows = p.chunk;
  const size_t n = rows.size();
  const std::string& table = p.chunk_table;
  Ingestion::Chunk chunk;
  // Per row: one log record and, for a table-state source, one state row; both are copied into
  // their file's block by SstFileWriter::Put, so the buffers here are reused (no allocation per
  // row). A snapshot row's state value would be offset + body + overlay, which its log record
  // holds already: so the state row is a reference to the record (storage/state_reference.h),
  // and the row's bytes are written (and compressed) once. Readers resolve it; retention
  // replaces it by the full value before it trims the record (change_log_read.cc).
  std::string& record = ing.record;
  const std::string& prefix = ing.table_prefix.Of(p.slot->id, table);  // of the state keys
  char reference[kMaxStateReferenceSize];
  for (size_t k = 0; k < n; ++k) {
    const uint64_t offset = txn_first + k;
    const bool last = k + 1 == n;
    record.clear();
    AppendRecordHeader((k == 0 ? kFlagFirstInTxn : 0) | (last ? kFlagLastInTxn : 0),
                       static_cast<uint8_t>(v1::OP_READ), table, record);
    AppendAssignedFields(offset, static_cast<uint32_t>(k), last, now, record);
    record.append(rows.body(k));
    record.append(p.overlay);
    if (ing.log_file == nullptr) {
      ing.paths.push_back(IngestPath(ing, kLogCf));
      SLUICE_ASSIGN_OR_RETURN(ing.log_file, OpenSstFile(*db_, log_, ing.paths.back()));
    }
    char log_key[kLogKeySize];
    EncodeLogKey(p.slot->id, LogOffset(offset), log_key);
    SLUICE_RETURN_IF_ERROR(
        FromRocks(ing.log_file->Put(rocksdb::Slice(log_key, kLogKeySize), record),
                  "writing a snapshot chunk to its ingestion file"));
    chunk.bytes += record.size();
    const std::string_view row_key = rows.row_key(k);
    if (!p.table_state || row_key.empty()) continue;  // a keyless table's rows have no state
    std::string& key = ing.table_key;
    key.assign(prefix);
    key.append(row_key);
    // The record just written holds the row: the value is 0x00 offset (a reference).
    const rocksdb::Slice value(reference, EncodeStateReference(LogOffset(offset), reference));
    if (ing.table_rows.empty() && (ing.table_file == nullptr || key > ing.last_table_key)) {
      if (ing.table_file == nullptr) {
        ing.table_file_path = IngestPath(ing, kTableCf);
        ing.paths.push_back(ing.table_file_path);
        SLUICE_ASSIGN_OR_RETURN(ing.table_file, OpenSstFile(*db_, table_, ing.table_file_path));
      }
      SLUICE_RETURN_IF_ERROR(
          FromRocks(ing.table_file->Put(key, value), "writing an ingestion's table state file"));
      ing.last_table_key.swap(key);
    } else {
      ing.table_rows.emplace_back(key, value.ToString());
    }
  }
  if (options_.observer != nullptr && n > 0) CountTableEvent(table, chunk.tables, n);
  if (n > 0) {
    int64_t ts = p.commit_ts_micros != 0 ? p.commit_ts_micros : now;
    if (ts > ing.max_commit_ts_micros || !ing.has_events) {
      ing.time_keys.push_back(TimeKey(p.slot->id, ts, LogOffset(txn_first)));
      ing.max_commit_ts_micros = std::max(ts, ing.max_commit_ts_micros);
    }
    ing.has_events = true;
    if (!p.table_state) ing.table_state_incomplete = true;
  }
  ing.next_offset += n;
  ing.rows += n;
  ing.bytes += chunk.bytes;
  ing.checkpoint = std::move(p.checkpoint);
  chunk.done = std::move(p.done);
  chunk.last_offset = ing.next_offset - 1;
  chunk.events = n;
  chunk.commit_ts_micros = p.commit_ts_micros;
  chunk.queued = p.queued;
  ing.chunks.push_back(std::move(chunk));
  return absl::OkStatus();
}

void ChangeLogImpl::CommitIngestion(SourceSlot* slot) {
  auto node = ingestions_.extract(slot);
  if (node.empty()) return;
  std::unique_ptr<Ingestion> ing = std::move(node.mapped());
  handed_end_ = IngestionEnd{slot,          ing->id,      ing->session, ing->next_offset,
                             ing->max_commit_ts_micros, ing->has_events};
  std::unique_lock<std::mutex> lock(ingest_mu_);
  ingest_cv_.wait(lock, [&] { return ingesting_ == nullptr; });
  ingesting_ = std::move(ing);
  lock.unlock();
  ingest_cv_.notify_all();
}

void ChangeLogImpl::WaitIngested() {
  std::unique_lock<std::mutex> lock(ingest_mu_);
  ingest_cv_.wait(lock, [&] { return ingesting_ == nullptr; });
}

void ChangeLogImpl::IngesterLoop() {
  std::unique_lock<std::mutex> lock(ingest_mu_);
  for (;;) {
    ingest_cv_.wait(lock, [&] { return ingesting_ != nullptr || ingest_stopping_; });
    if (ingesting_ == nullptr) return;
    Ingestion* const ing = ingesting_.get();
    lock.unlock();
    FinishIngestion(*ing);
    lock.lock();
    std::unique_ptr<Ingestion> done = std::move(ingesting_);
    ingest_cv_.notify_all();
    lock.unlock();
    done.reset();
    lock.lock();
  }
}

void ChangeLogImpl::FinishIngestion(Ingestion& ing) {
  SourceSlot* const slot = ing.slot;
  {
    // An ingestion handed over before this one failed: so does this one (its offsets follow).
    absl::Status refused;
    {
      std::lock_guard<std::mutex> lock(slot->state_mu);
      refused = slot->failed;
    }
    if (!refused.ok()) {
      FailIngestion(ing, *slot, refused);
      return;
    }
  }
  // The files are finished (synced) before write_mu_ is taken: retention and table-state
  // readers wait only for the ingestion itself.
  if (absl::Status finished = FinishFiles(ing); !finished.ok()) {
    FailIngestion(ing, *slot, finished);
    return;
  }
  std::lock_guard<std::mutex> write_lock(write_mu_);
  storagepb::LogState st;
  {
    std::lock_guard<std::mutex> lock(slot->state_mu);
    st = slot->state;
  }
  // The ingestion's rows must follow the log's end exactly: anything else would leave a gap or
  // overwrite offsets (a bug, never the source's fault), so it fails instead.
  if (ing.next_offset - ing.rows != st.last_offset() + 1) {
    FailIngestion(ing, *slot,
                  absl::InternalError(absl::StrCat(
                      "snapshot ingestion of source '", slot->name, "' starts at offset ",
                      ing.next_offset - ing.rows, " but the log ends at ", st.last_offset(),
                      "; nothing was stored, the source restarts from its last durable chunk")));
    return;
  }
  // The source's state after the ingestion: the front (retention) as it is now, the end and the
  // checkpoint from the ingestion.
  st.set_last_offset(ing.next_offset - 1);
  st.set_stored_bytes(st.stored_bytes() + ing.bytes);
  st.set_max_commit_ts_micros(ing.max_commit_ts_micros);
  if (ing.table_state_incomplete) st.set_table_state_incomplete(true);
  *st.mutable_checkpoint() = std::move(ing.checkpoint);
  absl::Status status = IngestFiles(ing, *slot, st);
  if (!status.ok()) {
    FailIngestion(ing, *slot, status);
    return;
  }
  Publish(*slot, st);
  if (options_.observer != nullptr) {
    const auto durable = std::chrono::steady_clock::now();
    std::vector<DurableAppend> observed;
    observed.reserve(ing.chunks.size());
    for (const Ingestion::Chunk& c : ing.chunks) {
      observed.push_back(
          {slot->id, slot->name, c.events, c.bytes, c.commit_ts_micros,
           std::chrono::duration_cast<std::chrono::microseconds>(durable - c.queued).count(),
           c.tables});
    }
    options_.observer->OnDurable(observed);
  }
  SettleIngestion(ing);
  for (Ingestion::Chunk& c : ing.chunks) std::move(c.done)(LogOffset(c.last_offset));
}

void ChangeLogImpl::SettleIngestion(Ingestion& ing) {
  std::lock_guard<std::mutex> lock(ingest_mu_);
  ing.settled = true;
}

absl::Status ChangeLogImpl::FinishFiles(Ingestion& ing) {
  if (ing.log_file != nullptr) {
    SLUICE_RETURN_IF_ERROR(FromRocks(ing.log_file->Finish(), "finishing an ingestion's log file"));
    ing.log_file.reset();
    ing.ingest.emplace_back(log_, ing.paths.front());
  }
  if (ing.table_file != nullptr) {
    SLUICE_RETURN_IF_ERROR(
        FromRocks(ing.table_file->Finish(), "finishing an ingestion's table state file"));
    ing.table_file.reset();
    if (!ing.table_rows.empty()) {
      SLUICE_RETURN_IF_ERROR(MergeTableRows(ing));
    }
    ing.ingest.emplace_back(table_, ing.table_file_path);
  }
  if (!ing.time_keys.empty()) {
    ing.paths.push_back(IngestPath(ing, kTimeCf));
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::SstFileWriter> file,
                            OpenSstFile(*db_, time_, ing.paths.back()));
    for (const std::string& key : ing.time_keys) {
      SLUICE_RETURN_IF_ERROR(
          FromRocks(file->Put(key, rocksdb::Slice()), "writing an ingestion's time file"));
    }
    SLUICE_RETURN_IF_ERROR(FromRocks(file->Finish(), "finishing an ingestion's time file"));
    ing.ingest.emplace_back(time_, ing.paths.back());
  }
  return absl::OkStatus();
}

absl::Status ChangeLogImpl::IngestFiles(Ingestion& ing, SourceSlot& slot,
                                        const storagepb::LogState& st) {
  std::vector<rocksdb::IngestExternalFileArg> args;
  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;  // hard links: the rows are written once
  auto add = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& path) {
    rocksdb::IngestExternalFileArg& arg = args.emplace_back();
    arg.column_family = cf;
    arg.external_files.push_back(path);
    arg.options = io;
  };
  for (const auto& [cf, path] : ing.ingest) add(cf, path);
  // The source's LogState (end, checkpoint) is one of the ingested files, so it changes exactly
  // when the rows appear. RocksDB flushes the meta memtable first when it holds this key.
  ing.paths.push_back(IngestPath(ing, "meta"));
  {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::SstFileWriter> file,
                            OpenSstFile(*db_, meta_, ing.paths.back()));
    SLUICE_RETURN_IF_ERROR(FromRocks(file->Put(StateKey(slot.id), st.SerializeAsString()),
                                     "writing an ingestion's state file"));
    SLUICE_RETURN_IF_ERROR(FromRocks(file->Finish(), "finishing an ingestion's state file"));
  }
  add(meta_, ing.paths.back());
  if (options_.around_ingest_for_testing) options_.around_ingest_for_testing(false);
  SLUICE_RETURN_IF_ERROR(FromRocks(
      db_->IngestExternalFiles(args),
      absl::StrCat("ingesting ", ing.rows, " snapshot rows of source '", slot.name, "'")));
  if (options_.around_ingest_for_testing) options_.around_ingest_for_testing(true);
  // move_files unlinks the names it linked; a name left (a copy fallback) is removed here.
  for (const std::string& path : ing.paths) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  return absl::OkStatus();
}

// The rows after the first key out of order (a collation whose order is not the bytes', or
// several tables) are sorted and merged with the rows written in order into a new file; for a
// key in both, the held row is the later one and wins, as in a write batch.
absl::Status ChangeLogImpl::MergeTableRows(Ingestion& ing) {
  std::stable_sort(ing.table_rows.begin(), ing.table_rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  rocksdb::SstFileReader reader(db_->GetOptions(table_));
  SLUICE_RETURN_IF_ERROR(
      FromRocks(reader.Open(ing.table_file_path), "reading an ingestion's table state file"));
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  const std::string merged = IngestPath(ing, "table-merged");
  ing.paths.push_back(merged);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::SstFileWriter> file,
                          OpenSstFile(*db_, table_, merged));
  auto& rows = ing.table_rows;
  size_t i = 0;
  it->SeekToFirst();
  while (it->Valid() || i < rows.size()) {
    // The last held row of a key (stable sort: the latest).
    if (i < rows.size() && i + 1 < rows.size() && rows[i + 1].first == rows[i].first) {
      ++i;
      continue;
    }
    const bool take_file =
        it->Valid() && (i == rows.size() || it->key().compare(rows[i].first) < 0);
    if (take_file) {
      SLUICE_RETURN_IF_ERROR(
          FromRocks(file->Put(it->key(), it->value()), "writing an ingestion's table state file"));
      it->Next();
      continue;
    }
    if (it->Valid() && it->key() == rocksdb::Slice(rows[i].first)) it->Next();  // superseded
    SLUICE_RETURN_IF_ERROR(FromRocks(file->Put(rows[i].first, rows[i].second),
                                     "writing an ingestion's table state file"));
    ++i;
  }
  SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "reading an ingestion's table state file"));
  it.reset();
  SLUICE_RETURN_IF_ERROR(FromRocks(file->Finish(), "finishing an ingestion's table state file"));
  std::vector<std::pair<std::string, std::string>>().swap(rows);
  ing.table_file_path = merged;
  return absl::OkStatus();
}

void ChangeLogImpl::FailIngestion(Ingestion& ing, SourceSlot& slot, const absl::Status& status) {
  ing.log_file.reset();
  ing.table_file.reset();
  for (const std::string& path : ing.paths) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  {
    // Only a failure of the current session refuses its later appends; an earlier session's
    // (its ingestion failed after DiscardAllStaged) must not refuse the new one's.
    std::lock_guard<std::mutex> lock(slot.state_mu);
    if (slot.failed.ok() && ing.session == slot.session) slot.failed = status;
  }
  SettleIngestion(ing);
  for (Ingestion::Chunk& c : ing.chunks) std::move(c.done)(status);
}

}  // namespace sluice::storage::internal
