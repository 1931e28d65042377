#include "clients/sluicectl/binlog_decode.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/change_mapping.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/transaction_assembler.h"

namespace sluice::cli {
namespace {

using mysql::Bytes;
using mysql::EventType;

// A whole file mapped read-only. The mapping is private and never written.
class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
      if (err == ENOENT) {
        return absl::NotFoundError(absl::StrCat(
            message, "; check the path (SHOW BINARY LOGS names the files, in @@datadir)"));
      }
      if (err == EACCES) {
        return absl::PermissionDeniedError(
            absl::StrCat(message, "; run as a user that may read the server's binlogs"));
      }
      return absl::FailedPreconditionError(message);
    }
    auto file = std::unique_ptr<MappedFile>(new MappedFile());
    file->fd_ = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path,
                       " is not a regular file; binlog decode reads binlog files (save a "
                       "stream to a file first)"));
    }
    file->size_ = static_cast<size_t>(st.st_size);
    if (file->size_ > 0) {
      void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        return absl::FailedPreconditionError(absl::StrCat("cannot map ", path, " (", file->size_,
                                                          " bytes): ", std::strerror(errno)));
      }
      file->data_ = p;
      ::madvise(p, file->size_, MADV_SEQUENTIAL);
    }
    return file;
  }

  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  Bytes bytes() const { return Bytes(static_cast<const std::byte*>(data_), size_); }

 private:
  MappedFile() = default;
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

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

// `"false"` in the `"txn":{"index":N,"last":false}` of a JSON line, or npos.
size_t LastFlagAt(std::string_view line) {
  const size_t txn = line.find("\"txn\":{\"index\":");
  if (txn == std::string_view::npos) return std::string_view::npos;
  const size_t last = line.find("\"last\":false", txn);
  return last == std::string_view::npos ? last : last + 7;
}

class Decoder {
 public:
  Decoder(const BinlogDecodeOptions& options,
          const std::function<absl::Status(std::string_view)>& emit, BinlogDecodeStats& stats)
      : options_(options), emit_(emit), stats_(stats) {
    sink_.begin = [this](const mysql::TransactionBegin& b) { return OnBegin(b); };
    sink_.change = [this](v1::ChangeEvent e) { return OnChange(std::move(e)); };
    sink_.commit = [this](const mysql::TransactionCommit& c) { return OnCommit(c); };
    sink_.rollback = [this] { return OnRollback(); };
    visit_ = [this](const mysql::RowsEvent& header, const mysql::FlatRowChange& row) {
      return RenderRow(header, row);
    };
  }

  absl::Status Run() {
    for (size_t i = 0; i < options_.files.size(); ++i) {
      SLUICE_RETURN_IF_ERROR(DecodeFile(i));
    }
    return absl::OkStatus();
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
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
    data_ = file->bytes();
    name_ = BaseName(path);
    mysql::BinlogDecoder decoder;
    decoder.set_file_name(path);
    decoder.set_defer_rows(true);  // rows are decoded by RenderRows, one at a time
    decoder_ = &decoder;
    mysql::TransactionAssembler assembler(BinlogPosition{name_, mysql::kBinlogMagic.size()});
    assembler.set_skip_statement_dml(true);
    txn_ = Txn{};
    held_.clear();
    holding_ = false;
    gtid_commit_micros_.reset();

    const std::string_view head(reinterpret_cast<const char*>(data_.data()),
                                std::min<size_t>(data_.size(), mysql::kBinlogMagic.size()));
    if (head != mysql::kBinlogMagic) {
      return absl::DataLossError(absl::StrCat(
          path, ":0: not a binlog file: expected the magic \\xfebin",
          data_.size() < 4 ? absl::StrCat(", the file has ", data_.size(), " bytes") : "",
          "; pass the server's binlog files (SHOW BINARY LOGS), not the index or relay logs"));
    }
    const bool first = index == 0;
    const bool last = index + 1 == options_.files.size();
    const uint64_t start =
        first && options_.start_position ? *options_.start_position : mysql::kBinlogMagic.size();
    stop_ = last && options_.stop_position ? *options_.stop_position
                                           : std::numeric_limits<uint64_t>::max();
    if (start > data_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--start-position ", start, " is past the end of ", path, " (", data_.size(),
                       " bytes); use a position that SHOW BINLOG EVENTS lists"));
    }
    uint64_t pos = mysql::kBinlogMagic.size();
    bool jump_pending = start > pos;
    bool after_jump = false;
    while (pos < data_.size() && pos < stop_) {
      Bytes rest = data_.subspan(pos);
      absl::Status st;
      if (rest.size() < mysql::kEventHeaderLength) {
        st = absl::DataLossError(absl::StrCat(
            path, ":", pos, ": truncated event: ", rest.size(),
            " bytes left, an event header needs 19; the file was cut short (copied while the "
            "server wrote it?)"));
        return Finish(st, after_jump);
      }
      auto header = mysql::DecodeEventHeader(rest);
      if (!header.ok()) {
        return Finish(absl::DataLossError(absl::StrCat(
                          path, ":", pos, ": bad event header: ", header.status().message())),
                      after_jump);
      }
      if (header->event_size > rest.size()) {
        return Finish(
            absl::DataLossError(absl::StrCat(
                path, ":", pos, ": truncated ", std::string(mysql::EventTypeName(header->type)),
                ": header declares ", header->event_size, " bytes, ", rest.size(),
                " remain in the file (cut short while the server wrote it?)")),
            after_jump);
      }
      auto event = decoder.Decode(rest.first(header->event_size), pos);
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
      if (pos >= data_.size()) stats_.unfinished.push_back(path);
      SLUICE_RETURN_IF_ERROR(FlushUnfinished());
    }
    decoder_ = nullptr;
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

  absl::Status EmitLine(std::string_view line) {
    ++stats_.changes;
    return emit_(line);
  }

  // Prints the held change, marked as the last of its transaction or not.
  absl::Status Release(bool last) {
    if (!holding_) return absl::OkStatus();
    holding_ = false;
    if (last && held_flag_at_ != std::string::npos) held_.replace(held_flag_at_, 5, "true");
    return EmitLine(held_);
  }

  // A new change of the open transaction: the held one is printed, this one is held.
  absl::Status Hold(std::string_view line, size_t flag_at) {
    SLUICE_RETURN_IF_ERROR(Release(false));
    held_.assign(line);
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
    return Hold(line, options_.json ? LastFlagAt(line) : std::string::npos);
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
    if (txn_.dropped || rows.table == nullptr || rows.deferred_body.empty()) {
      return absl::OkStatus();
    }
    PrepareEvent(rows);
    lines_.clear();
    line_ends_.clear();
    // The whole event is decoded before any of its lines is printed, so that a bad row prints
    // nothing of its event (as when every row was decoded first).
    SLUICE_RETURN_IF_ERROR(mysql::ForEachFlatRow(rows, decoder_->format(), visit_));
    size_t begin = 0;
    for (size_t i = 0; i < line_ends_.size(); ++i) {
      const std::string_view line = std::string_view(lines_).substr(begin, line_ends_[i] - begin);
      begin = line_ends_[i];
      if (i + 1 < line_ends_.size()) {
        SLUICE_RETURN_IF_ERROR(Release(false));
        SLUICE_RETURN_IF_ERROR(EmitLine(line));
      } else {
        SLUICE_RETURN_IF_ERROR(Hold(line, options_.json ? line.size() - 7 : std::string::npos));
      }
    }
    return absl::OkStatus();
  }

  // The value of `column` in `row`, or null when the image does not hold it.
  static const mysql::FlatValue* FindColumn(const mysql::FlatRow& row, uint32_t column) {
    for (const mysql::FlatValue& v : row.values()) {
      if (v.column == column) return &v;
      if (v.column > column) break;  // values are in column order
    }
    return nullptr;
  }

  // {"k":value,...} for the key columns: from the after image, else the before image; columns in
  // neither are left out (as EventToJson does).
  void AppendKey(const mysql::FlatRowChange& row, std::string& out) const {
    out.push_back('{');
    bool first = true;
    for (uint32_t k : key_columns_) {
      if (k >= keys_->size()) continue;
      const mysql::FlatRow* image = row.after;
      const mysql::FlatValue* value = image != nullptr ? FindColumn(*image, k) : nullptr;
      if (value == nullptr && row.before != nullptr) {
        image = row.before;
        value = FindColumn(*image, k);
      }
      if (value == nullptr) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(keys_->key(k));
      mysql::AppendFlatValueJson(*image, *value, out);
    }
    out.push_back('}');
  }

  absl::Status RenderRow(const mysql::RowsEvent&, const mysql::FlatRowChange& row) {
    lines_.append(prefix_);
    if (options_.json) {
      AppendKey(row, lines_);
      lines_.append(",\"before\":");
      if (row.before != nullptr) {
        mysql::AppendFlatRowJson(*row.before, *keys_, lines_);
      } else {
        lines_.append("null");
      }
      lines_.append(",\"after\":");
      if (row.after != nullptr) {
        mysql::AppendFlatRowJson(*row.after, *keys_, lines_);
      } else {
        lines_.append("null");
      }
      lines_.append(",\"unchanged\":[],\"txn\":{\"index\":");
      char digits[16];
      const auto end = std::to_chars(digits, digits + sizeof digits, txn_.index++).ptr;
      lines_.append(digits, end);
      lines_.append(",\"last\":false}}");
    } else {
      ++txn_.index;
      if (!key_columns_.empty()) {
        lines_.append(" key=");
        AppendKey(row, lines_);
      }
      if (row.before != nullptr) {
        lines_.append(" before=");
        mysql::AppendFlatRowJson(*row.before, *keys_, lines_);
      }
      if (row.after != nullptr) {
        lines_.append(" after=");
        mysql::AppendFlatRowJson(*row.after, *keys_, lines_);
      }
    }
    line_ends_.push_back(lines_.size());
    return absl::OkStatus();
  }

  // How the open transaction ends, found by walking the event headers from the current event
  // up to the commit event (XID, QUERY COMMIT, XA PREPARE, or the current event when it is a
  // DDL statement, which commits on its own) or a ROLLBACK, without decoding rows. kUnknown when
  // there is none before the next transaction, the stop position or the end of the file.
  TxnEnd LookAhead() const {
    const mysql::FormatDescription& fde = decoder_->format();
    for (uint64_t pos = event_pos_; pos < data_.size() && pos < stop_;) {
      auto h = mysql::DecodeEventHeader(data_.subspan(pos));
      if (!h.ok() || h->event_size > data_.size() - pos || h->event_size == 0) return {};
      const int64_t micros = gtid_commit_micros_ ? static_cast<int64_t>(*gtid_commit_micros_)
                                                 : int64_t{h->timestamp} * 1'000'000;
      const auto type = static_cast<EventType>(h->type);
      if (type == EventType::kXid || type == EventType::kXaPrepare) {
        return {TxnEnd::Kind::kCommit, micros};
      }
      if (type == EventType::kQuery) {
        Bytes event = data_.subspan(pos, h->event_size);
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
    holding_ = false;  // nothing of a rolled-back transaction is printed
    return absl::OkStatus();
  }

  // Prints the held change of a transaction that has no commit in the decoded range (end of
  // file, --stop-position, an error): it was decoded fine, but its commit is unknown.
  absl::Status FlushUnfinished() {
    txn_ = Txn{};
    return Release(false);
  }

  const BinlogDecodeOptions& options_;
  const std::function<absl::Status(std::string_view)>& emit_;
  BinlogDecodeStats& stats_;
  mysql::TransactionAssembler::Sink sink_;
  mysql::FlatRowVisitor visit_;

  // The file being decoded.
  Bytes data_;
  std::string name_;
  const mysql::BinlogDecoder* decoder_ = nullptr;
  uint64_t stop_ = 0;
  uint64_t event_pos_ = 0;
  std::string position_text_;
  const mysql::TransactionPayload* payload_ = nullptr;  // while its inner events are fed
  size_t payload_index_ = 0;
  std::optional<uint64_t> gtid_commit_micros_;  // of the last MySQL GTID event
  Txn txn_;

  // The newest change, not printed yet (its txn.last is known at the next change or the commit).
  std::string held_;
  size_t held_flag_at_ = std::string::npos;
  bool holding_ = false;

  // Row rendering, reused from row to row.
  std::string prefix_;
  std::optional<mysql::ColumnKeys> keys_;
  std::shared_ptr<const mysql::TableMap> keys_table_;
  std::vector<uint32_t> key_columns_;
  std::string lines_;              // the current event's lines, back to back
  std::vector<size_t> line_ends_;  // where each ends in lines_
};

}  // namespace

absl::Status DecodeBinlogFiles(const BinlogDecodeOptions& options,
                               const std::function<absl::Status(std::string_view line)>& emit,
                               BinlogDecodeStats* stats) {
  BinlogDecodeStats local;
  Decoder decoder(options, emit, stats != nullptr ? *stats : local);
  return decoder.Run();
}

}  // namespace sluice::cli
