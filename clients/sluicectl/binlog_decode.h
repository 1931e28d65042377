#pragma once
// The offline binlog decoder behind `sluicectl binlog decode`: reads MySQL/MariaDB binlog files
// (through reused buffers, file_window.h; never loaded whole), decodes them with
// sluice::mysql::BinlogDecoder, frames transactions with sluice::mysql::TransactionAssembler and
// renders each change as the line `sluicectl tail` prints (proto/base/event_json.h), without the
// offset:
//
//   json: {"op":"c","source":{...,"position":"mysql-bin.000001:1234",...},"key":...}
//   text: mysql-bin.000001:1234 c db.t key={...} after={...}
//
// source.position is "<file name>:<offset of the event>" (the file's base name);
// source.gtid is the transaction's GTID, source.txid the GTID or, without one, the file:pos of the
// transaction's first event; source.commit_ts the commit time (the MySQL GTID's immediate commit
// timestamp, else the commit event's header time) and txn.index/last the place in the
// transaction.
//
// Memory stays bounded whatever the transaction's size: no transaction's changes are kept. Rows
// are decoded one at a time into reused flat buffers (protocol/mysql/flat_row.h) and rendered
// from them; an event's lines are printed once the whole event has decoded, except the newest,
// which is held back until the next change or the commit decides its txn.last. The commit time
// (and whether the transaction rolls back: then nothing of it is printed) comes from a
// look-ahead over the event headers up to the commit event, done when the transaction begins.
//
// Several files form one stream, like mysqlbinlog: `start_position` applies to the first file
// (its FORMAT_DESCRIPTION is read first, then decoding jumps to the position), `stop_position`
// to the last (decoding stops at the first event at or after it).
//
// Errors (absl::Status, one line, naming file:pos): NotFound / PermissionDenied /
// FailedPrecondition for a file that cannot be opened; DataLoss for a file that cannot be read, a
// bad magic, a truncated or corrupt event (the decoder's message); InvalidArgument for a start
// position past the end of the file or inside an event; whatever `emit` returns. Every change
// decoded before the error has been passed to `emit`, including those of an unfinished
// transaction (a row event that fails prints none of its rows; the lines already printed keep the
// commit time the look-ahead found, which it can find past an event that later fails to decode,
// e.g. on a CRC mismatch).
//
// Not thread-safe; one call decodes one stream.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sluice::cli {

// What the commit look-ahead keeps of a transaction's bytes read ahead of the event being
// decoded: 64 MiB, the streaming source's in-memory transaction threshold
// (docs/mysql-source.md). A transaction larger than that has its bytes past the first 64 MiB
// read twice (once for its commit event's header, once for its rows).
inline constexpr size_t kReadAheadBytes = size_t{64} << 20;

struct BinlogDecodeOptions {
  std::vector<std::string> files;
  bool json = true;                        // false: the human line of EventToText
  std::optional<uint64_t> start_position;  // first file; >= 4
  std::optional<uint64_t> stop_position;   // last file
  // Lines are handed out once this many bytes of them are ready (and at the end).
  size_t chunk_bytes = size_t{1} << 20;
  // The file is read this many bytes at a time into a reused buffer (an event larger than that
  // is read whole); the commit look-ahead reads past it through buffers of the same size, and
  // keeps up to read_ahead_bytes of them for the event window to take instead of reading those
  // bytes again (file_window.h, ReadAhead). Memory is bounded by about
  // read_ahead_bytes + 2 * window_bytes, plus the largest event.
  size_t window_bytes = size_t{2} << 20;
  size_t read_ahead_bytes = kReadAheadBytes;
};

struct BinlogDecodeStats {
  uint64_t bytes = 0;               // event bytes decoded
  uint64_t events = 0;              // binlog events decoded (payload events count once)
  uint64_t changes = 0;             // lines emitted
  uint64_t transactions = 0;        // commits seen
  uint64_t skipped_statements = 0;  // statement-based DML (no rows in the binlog)
  // Files that ended inside a transaction (its changes were emitted without a commit).
  std::vector<std::string> unfinished;
};

// Decodes `options.files` and calls `emit` with each rendered line (no trailing newline; the
// view is valid during the call only). An error from `emit` stops decoding and is returned.
// `stats` may be null.
absl::Status DecodeBinlogFiles(const BinlogDecodeOptions& options,
                               const std::function<absl::Status(std::string_view line)>& emit,
                               BinlogDecodeStats* stats);

// The same lines, each followed by '\n', handed to `emit` in chunks of whole lines of at least
// `options.chunk_bytes` (1 MiB) bytes, the last one shorter (the view is valid during the call
// only). What the CLI uses: lines are rendered straight into one buffer that is written out as
// it is.
absl::Status DecodeBinlogFilesChunked(const BinlogDecodeOptions& options,
                                      const std::function<absl::Status(std::string_view chunk)>& emit,
                                      BinlogDecodeStats* stats);

}  // namespace sluice::cli
