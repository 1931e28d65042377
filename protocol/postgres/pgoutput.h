#pragma once
// pgoutput: decoder for the messages of Postgres' built-in logical decoding output plugin,
// protocol versions 1 and 2 (the payload of one XLogData message). Grammar in FORMAT.md; source:
// PG 15 docs, "Logical Replication Message Formats".
//
// Decoding is pure: DecodePgoutput takes the bytes and the one piece of context the format
// needs, whether the message arrives inside a streamed transaction (between Stream Start and
// Stream Stop, protocol 2). Inside a stream, Relation, Type, Insert, Update, Delete, Truncate and
// Message carry the transaction's xid first; their `xid` field is then set.
//
// Decoded structs own their strings (nothing points into the input).
//
// Errors (never an assert, whatever the bytes):
//   * DataLoss naming the message, the byte offset and what was expected: truncation, trailing
//     bytes, a bad tuple marker, a bad column kind, a negative count or length.
//   * InvalidArgument: empty input or an unknown message type byte.
//   * Unimplemented: protocol 3 two-phase messages ('b', 'P', 'K', 'r', 'p'), by name.
//
// Thread-compatible; no state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"

namespace sluice::postgres {

// Message type bytes.
inline constexpr char kBeginTag = 'B';
inline constexpr char kCommitTag = 'C';
inline constexpr char kOriginTag = 'O';
inline constexpr char kRelationTag = 'R';
inline constexpr char kTypeTag = 'Y';
inline constexpr char kInsertTag = 'I';
inline constexpr char kUpdateTag = 'U';
inline constexpr char kDeleteTag = 'D';
inline constexpr char kTruncateTag = 'T';
inline constexpr char kMessageTag = 'M';
inline constexpr char kStreamStartTag = 'S';
inline constexpr char kStreamStopTag = 'E';
inline constexpr char kStreamCommitTag = 'c';
inline constexpr char kStreamAbortTag = 'A';
// Protocol 3 (two-phase); rejected.
inline constexpr char kBeginPrepareTag = 'b';
inline constexpr char kPrepareTag = 'P';
inline constexpr char kCommitPreparedTag = 'K';
inline constexpr char kRollbackPreparedTag = 'r';
inline constexpr char kStreamPrepareTag = 'p';

// Tuple markers inside Insert/Update/Delete.
inline constexpr char kNewTupleMarker = 'N';
inline constexpr char kKeyTupleMarker = 'K';
inline constexpr char kOldTupleMarker = 'O';

// Relation column flag: part of the replica identity key.
inline constexpr uint8_t kColumnFlagKey = 1;
// Truncate option bits.
inline constexpr uint8_t kTruncateCascade = 1;
inline constexpr uint8_t kTruncateRestartIdentity = 2;
// Message flag bit: transactional.
inline constexpr uint8_t kMessageTransactional = 1;

// Replica identity settings (pg_class.relreplident).
enum class ReplicaIdentity : char {
  kDefault = 'd',
  kNothing = 'n',
  kFull = 'f',
  kIndex = 'i',
};

struct BeginMessage {
  Lsn final_lsn;                    // LSN of the commit record
  int64_t commit_ts_pg_micros = 0;  // Postgres epoch
  uint32_t xid = 0;
};

struct CommitMessage {
  uint8_t flags = 0;  // unused by the server, kept
  Lsn commit_lsn;
  Lsn end_lsn;  // acknowledge this one
  int64_t commit_ts_pg_micros = 0;
};

struct OriginMessage {
  Lsn commit_lsn;  // on the origin server
  std::string name;
};

struct RelationColumn {
  uint8_t flags = 0;  // kColumnFlagKey
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool key() const { return (flags & kColumnFlagKey) != 0; }
  friend bool operator==(const RelationColumn&, const RelationColumn&) = default;
};

struct RelationMessage {
  std::optional<uint32_t> xid;  // set inside a stream
  uint32_t relid = 0;
  std::string schema;  // "" means pg_catalog
  std::string name;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;
  std::vector<RelationColumn> columns;
};

struct TypeMessage {
  std::optional<uint32_t> xid;
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};

// One column of a TupleData.
struct TupleColumn {
  enum class Kind : char {
    kNull = 'n',
    kUnchangedToast = 'u',  // value not sent: an unchanged TOASTed value
    kText = 't',
    kBinary = 'b',
  };
  Kind kind = Kind::kNull;
  std::string data;  // text or binary bytes for kText/kBinary; empty otherwise
  friend bool operator==(const TupleColumn&, const TupleColumn&) = default;
};

using TupleData = std::vector<TupleColumn>;

struct InsertMessage {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  TupleData new_tuple;
};

// Which old image an Update or Delete carries.
enum class OldTupleKind : char {
  kNone = 0,
  kKey = 'K',  // replica identity columns only (others are sent as 'n')
  kOld = 'O',  // the full old row (REPLICA IDENTITY FULL)
};

struct UpdateMessage {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  OldTupleKind old_kind = OldTupleKind::kNone;
  TupleData old_tuple;  // empty when old_kind is kNone
  TupleData new_tuple;
};

struct DeleteMessage {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  OldTupleKind old_kind = OldTupleKind::kKey;  // never kNone
  TupleData old_tuple;
};

struct TruncateMessage {
  std::optional<uint32_t> xid;
  uint8_t options = 0;
  bool cascade() const { return (options & kTruncateCascade) != 0; }
  bool restart_identity() const { return (options & kTruncateRestartIdentity) != 0; }
  std::vector<uint32_t> relids;
};

struct LogicalMessage {
  std::optional<uint32_t> xid;
  uint8_t flags = 0;
  bool transactional() const { return (flags & kMessageTransactional) != 0; }
  Lsn lsn;
  std::string prefix;
  std::string content;
};

struct StreamStartMessage {
  uint32_t xid = 0;
  bool first_segment = false;
};

struct StreamStopMessage {};

struct StreamCommitMessage {
  uint32_t xid = 0;
  uint8_t flags = 0;
  Lsn commit_lsn;
  Lsn end_lsn;
  int64_t commit_ts_pg_micros = 0;
};

struct StreamAbortMessage {
  uint32_t xid = 0;
  uint32_t subxid = 0;  // == xid when the whole transaction aborted
  // Protocol 4 (parallel streaming) appends these; absent for protocols 1 and 2.
  std::optional<Lsn> abort_lsn;
  std::optional<int64_t> abort_ts_pg_micros;
};

using PgoutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                 InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage, LogicalMessage,
                 StreamStartMessage, StreamStopMessage, StreamCommitMessage, StreamAbortMessage>;

// Decodes one pgoutput message. `in_stream` is true between Stream Start and Stream Stop.
absl::StatusOr<PgoutputMessage> DecodePgoutput(std::span<const std::byte> data, bool in_stream);
absl::StatusOr<PgoutputMessage> DecodePgoutput(std::string_view data, bool in_stream);

// "Begin", "Relation", ... for a message type byte; "unknown" otherwise.
const char* PgoutputMessageName(char tag);

}  // namespace sluice::postgres
