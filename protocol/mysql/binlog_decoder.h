#pragma once
// BinlogDecoder: decodes one binlog event at a time, keeping the context that later events need
// (the current FORMAT_DESCRIPTION and its checksum algorithm, and the table-map cache).
// BinlogFileReader: walks a whole binlog file held in memory ("\xfebin" then events) with a
// BinlogDecoder; used by tests and the offline decoder.
//
// Both are pure: no I/O, no threads, no clocks. Neither is thread-safe; use one per stream.
//
// Errors (never asserts, whatever the input):
//   DataLoss         truncated or malformed bytes, checksum mismatch, a row event whose table id
//                    has no TABLE_MAP. The message starts with "<file>:<pos>: <EVENT_NAME>: " and
//                    names the offset within the event body and what was expected.
//   InvalidArgument  an unknown event type without the ignorable flag (0x80).
//   Unimplemented    MariaDB encrypted binlogs, old DECIMAL / TYPED_ARRAY columns.
// MariaDB compressed events (165-171) decode as their uncompressed counterparts: the Event's
// header keeps the compressed type, its body is a Query or a RowsEvent (see compressed_event.h).
// After an error the decoder's context is unchanged, so the caller may stop or skip the event.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/mysql/control_events.h"
#include "protocol/mysql/rows_event.h"
#include "protocol/mysql/table_map.h"

namespace sluice::mysql {

// STOP_EVENT: the server stopped; the file ends here.
struct Stop {};

// An event the decoder recognises but does not model: INTVAR, RAND, USER_VAR, LOAD-DATA events,
// INCIDENT, XA_PREPARE, TRANSACTION_CONTEXT, VIEW_CHANGE, HEARTBEAT_V2 bodies, and unknown events
// that carry the ignorable flag. `type` is the header's type; `what` says why it was skipped.
struct Skipped {
  uint8_t type = 0;
  std::string what;
};

struct Event;

// TRANSACTION_PAYLOAD_EVENT (40): a whole transaction, zstd-compressed; its inner events carry no
// checksum and have log_pos 0 (they cannot be resumed from individually).
struct TransactionPayload {
  uint64_t compression = 0;  // 0 = zstd, 255 = none
  uint64_t uncompressed_size = 0;
  std::vector<Event> events;
};

using EventBody =
    std::variant<Skipped, Stop, FormatDescription, Rotate, Query, Xid, Gtid, PreviousGtids,
                 Heartbeat, RowsQuery, MariaGtid, MariaGtidList, BinlogCheckpoint,
                 std::shared_ptr<const TableMap>, RowsEvent, TransactionPayload>;

struct Event {
  EventHeader header;
  uint64_t position = 0;  // offset of the event's first byte in its file, as the caller gave it
  EventBody body;
};

class BinlogDecoder {
 public:
  BinlogDecoder();

  // Names the file in error messages ("binlog.000003:1234: ...").
  void set_file_name(std::string name) { file_name_ = std::move(name); }
  const std::string& file_name() const { return file_name_; }

  // Decodes exactly one whole event (header through checksum): `event.size()` must equal the
  // header's event_size. `position` is only used in errors and copied into the result.
  // A FORMAT_DESCRIPTION replaces the current one (and its checksum algorithm); a TABLE_MAP enters
  // the cache, which is cleared by FORMAT_DESCRIPTION, ROTATE and XID events.
  absl::StatusOr<Event> Decode(Bytes event, uint64_t position);

  const FormatDescription& format() const { return fde_; }
  const TableMapCache& tables() const { return tables_; }

  // The checksum algorithm of events that arrive before any FORMAT_DESCRIPTION. On a live dump
  // the replica negotiated it (@master_binlog_checksum) and the server's fake ROTATE, sent first,
  // already carries that checksum. The next FORMAT_DESCRIPTION replaces it.
  void set_initial_checksum(ChecksumAlg alg) { fde_.checksum = alg; }

  // Row events come back with their rows undecoded (RowsEvent::deferred_body), for ForEachRow.
  void set_defer_rows(bool defer) { defer_rows_ = defer; }
  // With deferred rows: a row event's body is not copied but pointed at (RowsEvent::deferred_view)
  // when it is in the bytes given to Decode, which must then stay valid while its rows are used
  // (the offline decoder reads them before it reads the next event). The rows of a compressed
  // event or of a TRANSACTION_PAYLOAD's inner events are still copied (they are decompressed
  // into the decoder's own buffer).
  void set_borrow_deferred_rows(bool borrow) { borrow_deferred_rows_ = borrow; }

  // Largest TRANSACTION_PAYLOAD, and largest inflated record of a MariaDB compressed event, the
  // decoder will decompress (default 1 GiB).
  void set_max_payload_size(uint64_t bytes) { max_payload_size_ = bytes; }

 private:
  absl::StatusOr<Event> DecodeImpl(Bytes event, uint64_t position, bool in_payload);
  // `callers_bytes`: `body` is in the bytes given to Decode (not a decompressed copy).
  absl::StatusOr<EventBody> DecodeBody(const EventHeader& h, Bytes body, uint64_t position,
                                       bool in_payload, bool callers_bytes);
  absl::StatusOr<TransactionPayload> DecodePayload(Bytes body, uint64_t position);
  absl::Status Annotate(const absl::Status& st, uint64_t position) const;

  std::string file_name_ = "binlog";
  FormatDescription fde_;
  TableMapCache tables_;
  uint64_t max_payload_size_ = uint64_t{1} << 30;
  bool defer_rows_ = false;
  bool borrow_deferred_rows_ = false;
};

class BinlogFileReader {
 public:
  // `file` is a whole binlog file and must outlive the reader.
  BinlogFileReader(Bytes file, std::string file_name);

  // The next event, or std::nullopt at the clean end of the file. The magic is checked on the
  // first call. An error (bad magic, truncated or corrupt event) is sticky: every later call
  // returns it again.
  absl::StatusOr<std::optional<Event>> Next();

  // Offset of the next event to read.
  uint64_t position() const { return pos_; }
  const BinlogDecoder& decoder() const { return decoder_; }

 private:
  Bytes file_;
  uint64_t pos_ = 0;
  absl::Status error_;
  BinlogDecoder decoder_;
};

}  // namespace sluice::mysql
