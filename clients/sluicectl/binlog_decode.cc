#include "clients/sluicectl/binlog_decode.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/sluicectl/file_window.h"
#include "proto/base/digit_text.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "proto/base/text_buffer.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/change_mapping.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/flat_row_json.h"
#include "protocol/mysql/transaction_assembler.h"

namespace sluice::cli {
namespace {

using mysql::Bytes;
using mysql::EventType;

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool EndsTransactionGroup(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::kGtid:
    case EventType::kAnonymousGtid:
    case EventType::kGtidTagged:
    case EventType::kMariaGtid:
    case EventType::kFormatDescription:
    case EventType::kRotate:
    case EventType::kStop:
      return true;
    default:
      return false;
  }
}

// What the look-ahead found at the end of the open transaction.
struct TxnEnd {
  enum class Kind { kCommit, kRollback, kUnknown };
  Kind kind = Kind::kUnknown;
  int64_t commit_micros = 0;  // kCommit: 0 when the commit time is 0
};

// Where the lines go: one call per line, or one per chunk of whole lines (each followed by '\n').
struct LineSink {
  const std::function<absl::Status(std::string_view)>* line = nullptr;
  const std::function<absl::Status(std::string_view)>* chunk = nullptr;
};

char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The decimal digits of `v` (what std::to_chars writes).
char* PutIndex(char* p, uint32_t v) { return PutDigitsBackwards(p + DecimalDigits(v), v); }

// `"false"` in the `"txn":{"index":N,"last":false}` of a JSON line, or npos.
size_t LastFlagAt(std::string_view line) {
  const size_t txn = line.find("\"txn\":{\"index\":");
  if (txn == std::string_view::npos) return std::string_view::npos;
  const size_t last = line.find("\"last\":false", txn);
  return last == std::string_view::npos ? last : last + 7;
}

class Decoder {
 public:
  Decoder(const BinlogDecodeOptions& options, LineSink sink, BinlogDecodeStats& stats)
      : options_(options), emit_(sink), stats_(stats) {
    sink_.begin = [this](const mysql::TransactionBegin& b) { return OnBegin(b); };
    sink_.change = [this](v1::ChangeEvent e) { return OnChange(std::move(e)); };
    sink_.commit = [this](const mysql::TransactionCommit& c) { return OnCommit(c); };
    sink_.rollback = [this] { return OnRollback(); };
    visit_ = [this](const mysql::RowsEvent& header, const mysql::FlatRowChange& row) {
      return RenderRow(header, row);
    };
  }

  // Decodes every file, then hands out the lines still buffered (also after an error, which is
  // returned after them).
  absl::Status Run() {
    absl::Status st;
    for (size_t i = 0; i < options_.files.size() && st.ok(); ++i) st = DecodeFile(i);
    if (emit_failed_) return st;
    absl::Status flushed = Flush();
    return st.ok() ? flushed : st;
  }

 private:
  // The open transaction's identity. Its changes are not kept: each is rendered when decoded and
  // printed when the next one is (the newest is held back for its txn.last flag).
  struct Txn {
    std::string gtid;
    std::string txid;
    uint32_t index = 0;
    int64_t commit_micros = 0;  // from the look-ahead (0 = unknown)
    bool dropped = false;       // the look-ahead found its ROLLBACK: nothing of it is printed
  };

  absl::Status DecodeFile(size_t index) {
    const std::string& path = options_.files[index];
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<InputFile> file, InputFile::Open(path));
    // Events are read through one window, the commit look-ahead's headers past it through
    // windows it keeps, up to read_ahead_bytes (so that it never moves the window the event
    // being decoded is in); the event window takes those buffers in order when they hold the
    // next event, instead of reading the bytes again.
    FileWindow window(*file, options_.window_bytes);
    ReadAhead ahead(*file, options_.window_bytes, options_.read_ahead_bytes);
    window_ = &window;
    ahead_ = &ahead;
    size_ = file->size();
    name_ = BaseName(path);
    mysql::BinlogDecoder decoder;
    decoder.set_file_name(path);
    decoder.set_defer_rows(true);  // rows are decoded by RenderRows, one at a time
    // Not copied: RenderRows reads them before the event window is read again.
    decoder.set_borrow_deferred_rows(true);
    decoder_ = &decoder;
    mysql::TransactionAssembler assembler(BinlogPosition{name_, mysql::kBinlogMagic.size()});
    assembler.set_skip_statement_dml(true);
    txn_ = Txn{};
    DropHeld();
    gtid_commit_micros_.reset();

    SLUICE_ASSIGN_OR_RETURN(Bytes magic, window.Read(0, mysql::kBinlogMagic.size()));
    const std::string_view head(reinterpret_cast<const char*>(magic.data()), magic.size());
    if (head != mysql::kBinlogMagic) {
      return absl::DataLossError(absl::StrCat(
          path, ":0: not a binlog file: expected the magic \\xfebin",
          size_ < 4 ? absl::StrCat(", the file has ", size_, " bytes") : "",
          "; pass the server's binlog files (SHOW BINARY LOGS), not the index or relay logs"));
    }
    const bool first = index == 0;
    const bool last = index + 1 == options_.files.size();
    const uint64_t start =
        first && options_.start_position ? *options_.start_position : mysql::kBinlogMagic.size();
    stop_ = last && options_.stop_position ? *options_.stop_position
                                           : std::numeric_limits<uint64_t>::max();
    if (start > size_) {
      return absl::InvalidArgumentError(
          absl::StrCat("--start-position ", start, " is past the end of ", path, " (", size_,
                       " bytes); use a position that SHOW BINLOG EVENTS lists"));
    }
    uint64_t pos = mysql::kBinlogMagic.size();
    bool jump_pending = start > pos;
    bool after_jump = false;
    while (pos < size_ && pos < stop_) {
      const uint64_t rest = size_ - pos;  // bytes left in the file
      absl::Status st;
      if (rest < mysql::kEventHeaderLength) {
        st = absl::DataLossError(absl::StrCat(
            path, ":", pos, ": truncated event: ", rest,
            " bytes left, an event header needs 19; the file was cut short (copied while the "
            "server wrote it?)"));
        return Finish(st, after_jump);
      }
      // What the look-ahead read ahead is taken, not read again.
      ahead.Give(window, pos, mysql::kEventHeaderLength);
      auto header_bytes = window.Read(pos, mysql::kEventHeaderLength);
      if (!header_bytes.ok()) return Finish(header_bytes.status(), after_jump);
      auto header = mysql::DecodeEventHeader(*header_bytes);
      if (!header.ok()) {
        return Finish(absl::DataLossError(absl::StrCat(
                          path, ":", pos, ": bad event header: ", header.status().message())),
                      after_jump);
      }
      if (header->event_size > rest) {
        return Finish(
            absl::DataLossError(absl::StrCat(
                path, ":", pos, ": truncated ", std::string(mysql::EventTypeName(header->type)),
                ": header declares ", header->event_size, " bytes, ", rest,
                " remain in the file (cut short while the server wrote it?)")),
            after_jump);
      }
      ahead.Give(window, pos, header->event_size);
      auto event_bytes = window.Read(pos, header->event_size);
      if (!event_bytes.ok()) return Finish(event_bytes.status(), after_jump);
      auto event = decoder.Decode(*event_bytes, pos);
      if (!event.ok()) return Finish(event.status(), after_jump);
      after_jump = false;
      ++stats_.events;
      stats_.bytes += header->event_size;
      SetEventPosition(pos);
      st = Feed(*event, assembler);
      if (!st.ok()) return Finish(st, false);
      pos += header->event_size;
      if (jump_pending) {
        // The FORMAT_DESCRIPTION at 4 is read; now go where the user asked, like mysqlbinlog.
        jump_pending = false;
        pos = std::max(pos, start);
        after_jump = pos == start;
      }
    }
    stats_.skipped_statements += assembler.skipped_statements();
    if (assembler.in_transaction()) {
      if (pos >= size_) stats_.unfinished.push_back(path);
      SLUICE_RETURN_IF_ERROR(FlushUnfinished());
    }
    decoder_ = nullptr;
    window_ = nullptr;
    ahead_ = nullptr;
    return absl::OkStatus();
  }

  // One event through the assembler (which frames transactions), the inner events of a
  // TRANSACTION_PAYLOAD one at a time; rows are rendered here, after the assembler has seen
  // their event.
  absl::Status Feed(mysql::Event& event, mysql::TransactionAssembler& assembler) {
    if (auto* payload = std::get_if<mysql::TransactionPayload>(&event.body)) {
      payload_ = payload;
      for (size_t i = 0; i < payload->events.size(); ++i) {
        payload_index_ = i;
        payload->events[i].position = event.position;
        absl::Status st = FeedOne(payload->events[i], assembler);
        if (!st.ok()) {
          payload_ = nullptr;
          return st;
        }
      }
      payload_ = nullptr;
      return absl::OkStatus();
    }
    return FeedOne(event, assembler);
  }

  absl::Status FeedOne(mysql::Event& event, mysql::TransactionAssembler& assembler) {
    if (const auto* g = std::get_if<mysql::Gtid>(&event.body)) {
      gtid_commit_micros_ = g->immediate_commit_micros;
    } else if (std::holds_alternative<mysql::MariaGtid>(event.body)) {
      gtid_commit_micros_.reset();
    }
    const auto* rows = std::get_if<mysql::RowsEvent>(&event.body);
    if (rows == nullptr) return assembler.Feed(std::move(event), sink_);
    // The assembler gets the event without its rows (it opens the transaction if needed).
    mysql::RowsEvent framing;
    framing.kind = rows->kind;
    framing.type = rows->type;
    framing.table_id = rows->table_id;
    framing.flags = rows->flags;
    framing.table = rows->table;
    SLUICE_RETURN_IF_ERROR(
        assembler.Feed(mysql::Event{event.header, event.position, std::move(framing)}, sink_));
    return RenderRows(*rows);
  }

  // Emits what the open transaction decoded, then returns `error` (with a hint when the event
  // at the --start-position was the one that failed: not an event boundary, or a row event
  // whose TABLE_MAP came before the position).
  absl::Status Finish(const absl::Status& error, bool after_jump) {
    absl::Status flushed = FlushUnfinished();
    if (!flushed.ok()) return flushed;
    decoder_ = nullptr;
    window_ = nullptr;
    ahead_ = nullptr;
    if (after_jump) {
      return absl::InvalidArgumentError(absl::StrCat(
          error.message(), " (at --start-position ", *options_.start_position,
          "; start at a transaction's first event, its GTID or BEGIN, as SHOW BINLOG EVENTS or "
          "mariadb-binlog list them)"));
    }
    return error;
  }

  void SetEventPosition(uint64_t pos) {
    if (pos == event_pos_ && !position_text_.empty()) return;
    event_pos_ = pos;
    position_text_ = absl::StrCat(name_, ":", pos);
  }

  // The tail line of `e` without its offset: the JSON object without "offset", or the text line
  // with the event's position in place of the offset.
  std::string Render(const v1::ChangeEvent& e) const {
    if (options_.json) {
      std::string line = EventToJson(e);
      constexpr std::string_view kOffsetKey = "{\"offset\":0,";
      line[kOffsetKey.size() - 1] = '{';
      return line.substr(kOffsetKey.size() - 1);
    }
    std::string text = EventToText(e);
    std::string line = e.source().position();
    line.append(text, 1);
    return line;
  }

  // Hands out the released lines (everything before the held one). After a failed emit nothing
  // more is handed out.
  absl::Status Flush() {
    if (released_ == 0 || emit_failed_) return absl::OkStatus();
    absl::Status st;
    if (emit_.chunk != nullptr) {
      st = (*emit_.chunk)(out_.view().substr(0, released_));
      ends_used_ = 0;
      while (ends_used_ < ends_.size() && ends_[ends_used_] <= released_) ++ends_used_;
    } else {
      size_t begin = 0;
      while (ends_used_ < ends_.size() && ends_[ends_used_] <= released_ && st.ok()) {
        const size_t end = ends_[ends_used_++];
        st = (*emit_.line)(out_.view().substr(begin, end - 1 - begin));
        begin = end;
      }
    }
    if (!st.ok()) {
      emit_failed_ = true;
      return st;
    }
    // Keep the held line (and nothing else is buffered past it between events).
    out_.Consume(released_);
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(ends_used_));
    ends_used_ = 0;
    for (size_t& end : ends_) end -= released_;
    if (holding_) {
      held_at_ -= released_;
      if (held_flag_at_ != std::string::npos) held_flag_at_ -= released_;
    }
    released_ = 0;
    return absl::OkStatus();
  }

  absl::Status MaybeFlush() {
    return released_ >= options_.chunk_bytes ? Flush() : absl::OkStatus();
  }

  // Ends the newest line (appends its '\n').
  void EndLine() {
    out_.Push('\n');
    ends_.push_back(out_.size());
  }

  // The held change may be printed now, marked as the last of its transaction or not.
  absl::Status Release(bool last) {
    if (!holding_) return absl::OkStatus();
    holding_ = false;
    if (last && held_flag_at_ != std::string::npos) {
      // "false" -> "true": one byte shorter.
      std::memcpy(out_.data() + held_flag_at_, "true", 4);
      out_.Erase(held_flag_at_ + 4, 1);
      for (auto it = ends_.rbegin(); it != ends_.rend() && *it > held_flag_at_; ++it) --*it;
    }
    released_ = *std::upper_bound(ends_.begin(), ends_.end(), held_at_);
    ++stats_.changes;
    return MaybeFlush();
  }

  // Drops the held change (a rolled-back transaction's).
  void DropHeld() {
    if (!holding_) return;
    holding_ = false;
    out_.Truncate(held_at_);
    ends_.pop_back();
  }

  // The newest line in the buffer (starting at `begin`) is a new change of the open
  // transaction: the held one is released, this one is held.
  absl::Status Hold(size_t begin, size_t flag_at) {
    SLUICE_RETURN_IF_ERROR(Release(false));
    held_at_ = begin;
    held_flag_at_ = flag_at;
    holding_ = true;
    return absl::OkStatus();
  }

  absl::Status OnBegin(const mysql::TransactionBegin& begin) {
    txn_ = Txn{};
    txn_.gtid = begin.gtid;
    // Without a GTID the txid is the file:pos of the first event, named like source.position (a
    // file that starts with a ROTATE would otherwise give the server's name for it).
    txn_.txid = begin.gtid.empty() ? absl::StrCat(name_, ":", begin.position.offset) : begin.gtid;
    const TxnEnd end = payload_ != nullptr ? LookAheadInPayload() : LookAhead();
    txn_.commit_micros = end.kind == TxnEnd::Kind::kCommit ? end.commit_micros : 0;
    txn_.dropped = end.kind == TxnEnd::Kind::kRollback;
    return absl::OkStatus();
  }

  // A DDL statement (row events give the assembler no changes: RenderRows prints their rows).
  absl::Status OnChange(v1::ChangeEvent e) {
    if (txn_.dropped) return absl::OkStatus();
    v1::SourceInfo* source = e.mutable_source();
    source->set_position(position_text_);
    if (!txn_.gtid.empty()) source->set_gtid(txn_.gtid);
    source->set_txid(txn_.txid);
    if (txn_.commit_micros != 0) source->set_commit_ts_micros(txn_.commit_micros);
    e.set_transaction_index(txn_.index++);
    const std::string line = Render(e);
    const size_t begin = out_.size();
    out_.Append(line);
    EndLine();
    const size_t flag = options_.json ? LastFlagAt(line) : std::string::npos;
    return Hold(begin, flag == std::string::npos ? flag : begin + flag);
  }

  // Per row event: the line up to "key" (JSON) or up to the table name (text), and the table's
  // quoted column names.
  void PrepareEvent(const mysql::RowsEvent& rows) {
    v1::ChangeEvent e;
    v1::Op op = v1::OP_INSERT;
    if (rows.kind == mysql::RowsKind::kUpdate) op = v1::OP_UPDATE;
    if (rows.kind == mysql::RowsKind::kDelete) op = v1::OP_DELETE;
    e.set_op(op);
    v1::SourceInfo* source = e.mutable_source();
    source->set_kind(v1::SOURCE_KIND_MYSQL);
    source->set_database(rows.table->database);
    source->set_table(rows.table->table);
    source->set_position(position_text_);
    if (!txn_.gtid.empty()) source->set_gtid(txn_.gtid);
    source->set_txid(txn_.txid);
    if (txn_.commit_micros != 0) source->set_commit_ts_micros(txn_.commit_micros);
    // JSON: the line up to and including "key": (no string value can hold `,"key":` unescaped).
    // Text: "<position> <op> <db.table>", the whole line of a change without key and images.
    prefix_ = Render(e);
    if (options_.json) prefix_.resize(prefix_.find(",\"key\":") + 7);
    if (keys_table_ != rows.table) {
      keys_.emplace(*rows.table);
      keys_table_ = rows.table;  // held, so that the cache never outlives the table map it is for
      key_columns_ = rows.table->primary_key;
    }
  }

  absl::Status RenderRows(const mysql::RowsEvent& rows) {
    if (txn_.dropped || rows.table == nullptr || rows.deferred_rows().empty()) {
      return absl::OkStatus();
    }
    PrepareEvent(rows);
    // The whole event is decoded before any of its lines is printed, so that a bad row prints
    // nothing of its event (as when every row was decoded first): its lines are rendered after
    // the held line and cut off again on an error.
    const size_t event_begin = out_.size();
    const size_t event_lines = ends_.size();
    absl::Status st = mysql::ForEachFlatRow(rows, decoder_->format(), visit_);
    if (!st.ok()) {
      out_.Truncate(event_begin);
      ends_.resize(event_lines);
      return st;
    }
    const size_t rendered = ends_.size() - event_lines;
    if (rendered == 0) return absl::OkStatus();
    // The held line and all but the newest line of the event are released; the newest is held
    // for its txn.last.
    if (holding_) ++stats_.changes;
    const size_t last_begin = rendered == 1 ? event_begin : ends_[ends_.size() - 2];
    released_ = last_begin;
    stats_.changes += rendered - 1;
    held_at_ = last_begin;
    held_flag_at_ = options_.json ? ends_.back() - 1 - 7 : std::string::npos;
    holding_ = true;
    return MaybeFlush();
  }

  // {"k":value,...} for the key columns: from the after image, else the before image; columns in
  // neither are left out (as EventToJson does).
  void AppendKey(const mysql::FlatRowChange& row, TextBuffer& out) const {
    mysql::AppendFlatKeyJson(row.after, row.before, key_columns_, *keys_, out);
  }

  // Appends the row's line to the buffer.
  absl::Status RenderRow(const mysql::RowsEvent&, const mysql::FlatRowChange& row) {
    if (options_.json) {
      out_.Append(prefix_);
      AppendKey(row, out_);
      if (row.before != nullptr) {
        out_.Append(",\"before\":");
        mysql::AppendFlatRowJson(*row.before, *keys_, out_);
      } else {
        out_.Append(",\"before\":null");
      }
      if (row.after != nullptr) {
        out_.Append(",\"after\":");
        mysql::AppendFlatRowJson(*row.after, *keys_, out_);
      } else {
        out_.Append(",\"after\":null");
      }
      constexpr std::string_view kTxn = ",\"unchanged\":[],\"txn\":{\"index\":";
      constexpr std::string_view kLast = ",\"last\":false}}";
      char* p = out_.Reserve(kTxn.size() + 10 + kLast.size());
      p = Put(p, kTxn);
      p = PutIndex(p, txn_.index++);
      out_.Commit(Put(p, kLast));
    } else {
      out_.Append(prefix_);
      ++txn_.index;
      if (!key_columns_.empty()) {
        out_.Append(" key=");
        AppendKey(row, out_);
      }
      if (row.before != nullptr) {
        out_.Append(" before=");
        mysql::AppendFlatRowJson(*row.before, *keys_, out_);
      }
      if (row.after != nullptr) {
        out_.Append(" after=");
        mysql::AppendFlatRowJson(*row.after, *keys_, out_);
      }
    }
    EndLine();
    return absl::OkStatus();
  }

  // How the open transaction ends, found by walking the event headers from the current event
  // up to the commit event (XID, QUERY COMMIT, XA PREPARE, or the current event when it is a
  // DDL statement, which commits on its own) or a ROLLBACK, without decoding rows. kUnknown when
  // there is none before the next transaction, the stop position or the end of the file.
  TxnEnd LookAhead() const {
    const mysql::FormatDescription& fde = decoder_->format();
    for (uint64_t pos = event_pos_; pos < size_ && pos < stop_;) {
      auto header = LookAheadRead(pos, mysql::kEventHeaderLength);
      if (!header.ok()) return {};
      auto h = mysql::DecodeEventHeader(*header);
      if (!h.ok() || h->event_size > size_ - pos || h->event_size == 0) return {};
      if (h->event_size <= options_.window_bytes && !window_->Holds(pos, h->event_size) &&
          !ahead_->Holds(pos, h->event_size)) {
        // The event spans the end of a window: read ahead from its start, where the event
        // window will refill (it then takes this buffer, ReadAhead::Give). An event larger than
        // a window is not (the look-ahead needs only its header).
        if (!ahead_->Read(pos, h->event_size).ok()) return {};
      }
      const int64_t micros = gtid_commit_micros_ ? static_cast<int64_t>(*gtid_commit_micros_)
                                                 : int64_t{h->timestamp} * 1'000'000;
      const auto type = static_cast<EventType>(h->type);
      if (type == EventType::kXid || type == EventType::kXaPrepare) {
        return {TxnEnd::Kind::kCommit, micros};
      }
      if (type == EventType::kQuery) {
        auto read = LookAheadRead(pos, h->event_size);
        if (!read.ok()) return {};
        Bytes event = *read;
        const size_t trailer =
            fde.checksum == mysql::ChecksumAlg::kCrc32 ? mysql::kChecksumLength : 0;
        if (event.size() < fde.header_length + trailer) return {};
        auto q = mysql::DecodeQuery(
            event.subspan(fde.header_length, event.size() - fde.header_length - trailer), fde);
        if (!q.ok()) return {};
        const TxnEnd end = QueryEnd(q->query, pos == event_pos_, micros);
        if (end.kind != TxnEnd::Kind::kUnknown) return end;
      }
      if (pos != event_pos_ && EndsTransactionGroup(h->type)) return {};
      pos += h->event_size;
    }
    return {};
  }

  // The file's bytes [pos, pos + n) for the look-ahead: from the event window when it holds them
  // (it is not moved: the event being decoded is in it), else from the look-ahead's windows.
  absl::StatusOr<Bytes> LookAheadRead(uint64_t pos, size_t n) const {
    return window_->Holds(pos, n) ? window_->Read(pos, n) : ahead_->Read(pos, n);
  }

  // The same over the inner events of the TRANSACTION_PAYLOAD being fed, from the current one.
  TxnEnd LookAheadInPayload() const {
    for (size_t i = payload_index_; i < payload_->events.size(); ++i) {
      const mysql::Event& e = payload_->events[i];
      const int64_t micros = gtid_commit_micros_ ? static_cast<int64_t>(*gtid_commit_micros_)
                                                 : int64_t{e.header.timestamp} * 1'000'000;
      const auto type = static_cast<EventType>(e.header.type);
      if (type == EventType::kXid || type == EventType::kXaPrepare) {
        return {TxnEnd::Kind::kCommit, micros};
      }
      if (const auto* q = std::get_if<mysql::Query>(&e.body)) {
        const TxnEnd end = QueryEnd(q->query, i == payload_index_, micros);
        if (end.kind != TxnEnd::Kind::kUnknown) return end;
      }
      if (i != payload_index_ && EndsTransactionGroup(e.header.type)) return {};
    }
    return {};
  }

  static TxnEnd QueryEnd(std::string_view sql, bool current, int64_t micros) {
    const mysql::QueryKind kind = mysql::ClassifyQuery(sql);
    if (kind == mysql::QueryKind::kCommit) return {TxnEnd::Kind::kCommit, micros};
    if (kind == mysql::QueryKind::kDdl && current) return {TxnEnd::Kind::kCommit, micros};
    if (kind == mysql::QueryKind::kRollback) return {TxnEnd::Kind::kRollback, 0};
    return {};
  }

  absl::Status OnCommit(const mysql::TransactionCommit&) {
    ++stats_.transactions;
    gtid_commit_micros_.reset();
    txn_ = Txn{};
    return Release(true);
  }

  absl::Status OnRollback() {
    gtid_commit_micros_.reset();
    txn_ = Txn{};
    DropHeld();  // nothing of a rolled-back transaction is printed
    return absl::OkStatus();
  }

  // Prints the held change of a transaction that has no commit in the decoded range (end of
  // file, --stop-position, an error): it was decoded fine, but its commit is unknown.
  absl::Status FlushUnfinished() {
    txn_ = Txn{};
    return Release(false);
  }

  const BinlogDecodeOptions& options_;
  const LineSink emit_;
  BinlogDecodeStats& stats_;
  mysql::TransactionAssembler::Sink sink_;
  mysql::FlatRowVisitor visit_;

  // The file being decoded.
  uint64_t size_ = 0;             // of the file being decoded
  FileWindow* window_ = nullptr;  // its events, owned by DecodeFile
  ReadAhead* ahead_ = nullptr;    // the look-ahead's reads past window_, owned by DecodeFile
  std::string name_;
  const mysql::BinlogDecoder* decoder_ = nullptr;
  uint64_t stop_ = 0;
  uint64_t event_pos_ = 0;
  std::string position_text_;
  const mysql::TransactionPayload* payload_ = nullptr;  // while its inner events are fed
  size_t payload_index_ = 0;
  std::optional<uint64_t> gtid_commit_micros_;  // of the last MySQL GTID event
  Txn txn_;

  // The rendered lines not handed out yet, each followed by '\n': first the released ones
  // (out_[0, released_)), then the held one, the newest change, whose txn.last is known at the
  // next change or the commit (out_[held_at_, ...)), then while an event is rendered its lines.
  TextBuffer out_;
  std::vector<size_t> ends_;  // where each line in out_ ends (after its '\n')
  size_t ends_used_ = 0;      // of those, handed out by the running Flush
  size_t released_ = 0;
  size_t held_at_ = 0;
  size_t held_flag_at_ = std::string::npos;  // the held line's "false" of txn.last, or npos
  bool holding_ = false;
  bool emit_failed_ = false;

  // Row rendering, reused from row to row.
  std::string prefix_;
  std::optional<mysql::ColumnKeys> keys_;
  std::shared_ptr<const mysql::TableMap> keys_table_;
  std::vector<uint32_t> key_columns_;
};

}  // namespace

absl::Status DecodeBinlogFiles(const BinlogDecodeOptions& options,
                               const std::function<absl::Status(std::string_view line)>& emit,
                               BinlogDecodeStats* stats) {
  BinlogDecodeStats local;
  Decoder decoder(options, LineSink{&emit, nullptr}, stats != nullptr ? *stats : local);
  return decoder.Run();
}

absl::Status DecodeBinlogFilesChunked(
    const BinlogDecodeOptions& options,
    const std::function<absl::Status(std::string_view chunk)>& emit, BinlogDecodeStats* stats) {
  BinlogDecodeStats local;
  Decoder decoder(options, LineSink{nullptr, &emit}, stats != nullptr ? *stats : local);
  return decoder.Run();
}

}  // namespace sluice::cli
