#include "clients/sluicectl/binlog_decode.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/change_mapping.h"
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

class Decoder {
 public:
  Decoder(const BinlogDecodeOptions& options,
          const std::function<absl::Status(std::string_view)>& emit, BinlogDecodeStats& stats)
      : options_(options), emit_(emit), stats_(stats) {
    sink_.begin = [this](const mysql::TransactionBegin& b) { return OnBegin(b); };
    sink_.change = [this](v1::ChangeEvent e) { return OnChange(std::move(e)); };
    sink_.commit = [this](const mysql::TransactionCommit& c) { return OnCommit(c); };
    sink_.rollback = [this] { return OnRollback(); };
  }

  absl::Status Run() {
    for (size_t i = 0; i < options_.files.size(); ++i) {
      SLUICE_RETURN_IF_ERROR(DecodeFile(i));
    }
    return absl::OkStatus();
  }

 private:
  // The open transaction's changes and identity.
  struct Txn {
    std::string gtid;
    std::string txid;
    uint32_t index = 0;
    std::vector<v1::ChangeEvent> buffered;
    bool streaming = false;
    std::optional<v1::ChangeEvent> held;  // streaming: the newest change, emitted on the next
    int64_t commit_micros = 0;            // streaming: from the look-ahead (0 = unknown)
  };

  absl::Status DecodeFile(size_t index) {
    const std::string& path = options_.files[index];
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
    data_ = file->bytes();
    name_ = BaseName(path);
    mysql::BinlogDecoder decoder;
    decoder.set_file_name(path);
    decoder_ = &decoder;
    mysql::TransactionAssembler assembler(BinlogPosition{name_, mysql::kBinlogMagic.size()});
    assembler.set_skip_statement_dml(true);
    txn_ = Txn{};
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
      if (const auto* g = std::get_if<mysql::Gtid>(&event->body)) {
        gtid_commit_micros_ = g->immediate_commit_micros;
      } else if (std::holds_alternative<mysql::MariaGtid>(event->body)) {
        gtid_commit_micros_.reset();
      }
      in_payload_ = std::holds_alternative<mysql::TransactionPayload>(event->body);
      SetEventPosition(pos);
      st = assembler.Feed(*std::move(event), sink_);
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

  absl::Status Emit(const v1::ChangeEvent& e) {
    ++stats_.changes;
    if (options_.json) {
      // EventToJson starts with {"offset":0, -- an offline change has no offset: drop the key.
      std::string line = EventToJson(e);
      constexpr std::string_view kOffsetKey = "{\"offset\":0,";
      line[kOffsetKey.size() - 1] = '{';
      return emit_(std::string_view(line).substr(kOffsetKey.size() - 1));
    }
    // EventToText starts with the offset ("0 c db.t ..."): the event's position replaces it.
    std::string text = EventToText(e);
    std::string line = e.source().position();
    line.append(text, 1);
    return emit_(line);
  }

  absl::Status OnBegin(const mysql::TransactionBegin& begin) {
    txn_ = Txn{};
    txn_.gtid = begin.gtid;
    // Without a GTID the txid is the file:pos of the first event, named like source.position (a
    // file that starts with a ROTATE would otherwise give the server's name for it).
    txn_.txid = begin.gtid.empty() ? absl::StrCat(name_, ":", begin.position.offset) : begin.gtid;
    return absl::OkStatus();
  }

  absl::Status OnChange(v1::ChangeEvent e) {
    v1::SourceInfo* source = e.mutable_source();
    source->set_position(position_text_);
    if (!txn_.gtid.empty()) source->set_gtid(txn_.gtid);
    source->set_txid(txn_.txid);
    e.set_transaction_index(txn_.index++);
    if (!txn_.streaming) {
      txn_.buffered.push_back(std::move(e));
      // A TRANSACTION_PAYLOAD is decoded whole already; its commit is inside it.
      if (txn_.buffered.size() > options_.max_buffered_changes && !in_payload_) {
        return StartStreaming();
      }
      return absl::OkStatus();
    }
    if (txn_.held) SLUICE_RETURN_IF_ERROR(Emit(*txn_.held));
    txn_.held = std::move(e);
    if (txn_.commit_micros != 0)
      txn_.held->mutable_source()->set_commit_ts_micros(txn_.commit_micros);
    return absl::OkStatus();
  }

  absl::Status StartStreaming() {
    txn_.streaming = true;
    txn_.commit_micros = LookAheadCommitMicros();
    std::vector<v1::ChangeEvent> buffered = std::move(txn_.buffered);
    txn_.buffered.clear();
    txn_.held = std::move(buffered.back());
    buffered.pop_back();
    for (v1::ChangeEvent& e : buffered) {
      if (txn_.commit_micros != 0) e.mutable_source()->set_commit_ts_micros(txn_.commit_micros);
      SLUICE_RETURN_IF_ERROR(Emit(e));
    }
    if (txn_.commit_micros != 0) {
      txn_.held->mutable_source()->set_commit_ts_micros(txn_.commit_micros);
    }
    return absl::OkStatus();
  }

  // The commit time of the open transaction, found by walking the event headers from the current
  // event up to the commit event (XID, QUERY COMMIT, XA PREPARE, or the current event when it is
  // a DDL statement, which commits on its own), without decoding rows. 0 when there is none
  // before the next transaction, the stop position or the end of the file.
  int64_t LookAheadCommitMicros() const {
    const mysql::FormatDescription& fde = decoder_->format();
    for (uint64_t pos = event_pos_; pos < data_.size() && pos < stop_;) {
      auto h = mysql::DecodeEventHeader(data_.subspan(pos));
      if (!h.ok() || h->event_size > data_.size() - pos) return 0;
      const int64_t micros = gtid_commit_micros_ ? static_cast<int64_t>(*gtid_commit_micros_)
                                                 : int64_t{h->timestamp} * 1'000'000;
      const auto type = static_cast<EventType>(h->type);
      if (type == EventType::kXid || type == EventType::kXaPrepare) return micros;
      if (type == EventType::kQuery) {
        Bytes event = data_.subspan(pos, h->event_size);
        const size_t trailer =
            fde.checksum == mysql::ChecksumAlg::kCrc32 ? mysql::kChecksumLength : 0;
        if (event.size() < fde.header_length + trailer) return 0;
        auto q = mysql::DecodeQuery(
            event.subspan(fde.header_length, event.size() - fde.header_length - trailer), fde);
        if (!q.ok()) return 0;
        const mysql::QueryKind kind = mysql::ClassifyQuery(q->query);
        if (kind == mysql::QueryKind::kCommit) return micros;
        if (kind == mysql::QueryKind::kDdl && pos == event_pos_) return micros;
        if (kind == mysql::QueryKind::kRollback) return 0;
      }
      if (pos != event_pos_ && EndsTransactionGroup(h->type)) return 0;
      pos += h->event_size;
    }
    return 0;
  }

  absl::Status OnCommit(const mysql::TransactionCommit& commit) {
    ++stats_.transactions;
    gtid_commit_micros_.reset();
    Txn txn = std::move(txn_);
    txn_ = Txn{};
    if (txn.streaming) {
      if (!txn.held) return absl::OkStatus();
      txn.held->set_last_in_transaction(true);
      return Emit(*txn.held);
    }
    const int64_t micros = commit.commit_micros ? static_cast<int64_t>(*commit.commit_micros)
                                                : int64_t{commit.timestamp} * 1'000'000;
    for (size_t i = 0; i < txn.buffered.size(); ++i) {
      v1::ChangeEvent& e = txn.buffered[i];
      if (micros != 0) e.mutable_source()->set_commit_ts_micros(micros);
      e.set_last_in_transaction(i + 1 == txn.buffered.size());
      SLUICE_RETURN_IF_ERROR(Emit(e));
    }
    return absl::OkStatus();
  }

  absl::Status OnRollback() {
    gtid_commit_micros_.reset();
    txn_ = Txn{};
    return absl::OkStatus();
  }

  // Emits the changes of a transaction that has no commit in the decoded range (end of file,
  // --stop-position, an error): they were decoded fine, but their commit is unknown.
  absl::Status FlushUnfinished() {
    Txn txn = std::move(txn_);
    txn_ = Txn{};
    for (const v1::ChangeEvent& e : txn.buffered) SLUICE_RETURN_IF_ERROR(Emit(e));
    if (txn.held) SLUICE_RETURN_IF_ERROR(Emit(*txn.held));
    return absl::OkStatus();
  }

  const BinlogDecodeOptions& options_;
  const std::function<absl::Status(std::string_view)>& emit_;
  BinlogDecodeStats& stats_;
  mysql::TransactionAssembler::Sink sink_;

  // The file being decoded.
  Bytes data_;
  std::string name_;
  const mysql::BinlogDecoder* decoder_ = nullptr;
  uint64_t stop_ = 0;
  uint64_t event_pos_ = 0;
  std::string position_text_;
  bool in_payload_ = false;
  std::optional<uint64_t> gtid_commit_micros_;  // of the last MySQL GTID event
  Txn txn_;
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
