#pragma once
// CopyData framing of the Postgres streaming replication protocol (CopyBoth mode).
//
// After START_REPLICATION the server sends CopyData messages whose payload starts with a one-byte
// kind; the transport hands one whole CopyData payload (one PQgetCopyData result) to
// DecodeCopyData. The client answers with Standby status updates built by
// EncodeStandbyStatusUpdate. All integers are big-endian. Grammar (see FORMAT.md):
//
//   XLogData        = 'w' Int64 walStart Int64 walEnd Int64 sendTime Byte* payload
//   PrimaryKeepalive= 'k' Int64 walEnd Int64 sendTime Byte1 replyRequested
//   StandbyStatus   = 'r' Int64 write Int64 flush Int64 apply Int64 clock Byte1 replyRequested
//
// Times are microseconds since the Postgres epoch 2000-01-01 00:00:00 UTC.
//
// Pure functions, thread-compatible; no I/O. The decoded XLogData payload is a view into the
// caller's buffer and lives as long as it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"

namespace sluice::postgres {

// Message kinds (first byte of a CopyData payload).
inline constexpr char kXLogDataKind = 'w';
inline constexpr char kPrimaryKeepaliveKind = 'k';
inline constexpr char kStandbyStatusUpdateKind = 'r';

// Sizes, kind byte included.
inline constexpr size_t kXLogDataHeaderSize = 1 + 8 + 8 + 8;
inline constexpr size_t kPrimaryKeepaliveSize = 1 + 8 + 8 + 1;
inline constexpr size_t kStandbyStatusUpdateSize = 1 + 8 + 8 + 8 + 8 + 1;

// Microseconds between the Unix epoch and the Postgres epoch (2000-01-01).
inline constexpr int64_t kPostgresEpochUnixMicros = 946'684'800LL * 1'000'000LL;

// Postgres-epoch micros -> Unix-epoch micros, saturating at INT64_MIN/MAX (which also keeps
// Postgres' +/-infinity timestamps at INT64_MAX/MIN).
int64_t UnixMicrosFromPostgres(int64_t pg_micros);
// Unix-epoch micros -> Postgres-epoch micros, saturating.
int64_t PostgresMicrosFromUnix(int64_t unix_micros);

struct XLogData {
  Lsn wal_start;
  Lsn wal_end;
  int64_t send_time_pg_micros = 0;     // Postgres epoch
  std::span<const std::byte> payload;  // one pgoutput message; view into the input
};

struct PrimaryKeepalive {
  Lsn wal_end;
  int64_t send_time_pg_micros = 0;  // Postgres epoch
  bool reply_requested = false;
};

using CopyDataMessage = std::variant<XLogData, PrimaryKeepalive>;

// Decodes one CopyData payload from the server.
// Errors: DataLoss on truncation (naming the message, offset and bytes needed), on a keepalive
// with trailing bytes or a reply flag other than 0/1; InvalidArgument on an empty payload or an
// unknown kind byte.
absl::StatusOr<CopyDataMessage> DecodeCopyData(std::span<const std::byte> data);

struct StandbyStatusUpdate {
  Lsn write;  // last WAL byte + 1 received and written
  Lsn flush;  // last WAL byte + 1 durably stored; becomes the slot's confirmed_flush_lsn
  Lsn apply;  // last WAL byte + 1 applied
  int64_t clock_pg_micros = 0;  // client's clock, Postgres epoch
  bool reply_requested = false;
};

// The 34-byte CopyData payload of a Standby status update.
std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update);

}  // namespace sluice::postgres
