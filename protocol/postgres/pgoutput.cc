#include "protocol/postgres/pgoutput.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/status_macros.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::postgres {
namespace {

using wire::ByteReader;

// Smallest encodings, used to bound counts against the bytes left before allocating.
constexpr size_t kMinTupleColumnSize = 1;                 // 'n' or 'u'
constexpr size_t kMinRelationColumnSize = 1 + 1 + 4 + 4;  // flags, "" name, oid, typmod
constexpr size_t kRelidSize = 4;

absl::Status Malformed(std::string_view what, size_t offset, std::string_view detail) {
  return absl::DataLossError(
      absl::StrCat(std::string(what), ": ", std::string(detail), " at offset ", offset));
}

// Fails unless the message has been consumed completely.
absl::Status ExpectEnd(const ByteReader& r, std::string_view what) {
  if (!r.ok()) return r.status(what);
  if (r.remaining() != 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: %d trailing bytes at offset %d: expected the message to end",
                        std::string(what), r.remaining(), r.position()));
  }
  return absl::OkStatus();
}

std::optional<uint32_t> ReadStreamXid(ByteReader& r, bool in_stream) {
  if (!in_stream) return std::nullopt;
  return r.ReadU32Be();
}

absl::StatusOr<TupleData> ReadTuple(ByteReader& r, std::string_view what) {
  const size_t count_at = r.position();
  const int16_t ncols = r.ReadI16Be();
  if (!r.ok()) return r.status(what);
  if (ncols < 0) {
    return Malformed(what, count_at, absl::StrCat("negative TupleData column count ", ncols));
  }
  if (static_cast<size_t>(ncols) * kMinTupleColumnSize > r.remaining()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: TupleData declares %d columns at offset %d but only %d bytes follow: needed at "
        "least %d",
        std::string(what), ncols, count_at, r.remaining(), ncols * kMinTupleColumnSize));
  }
  TupleData tuple;
  tuple.reserve(ncols);
  for (int i = 0; i < ncols; ++i) {
    const size_t kind_at = r.position();
    const uint8_t kind = r.ReadU8();
    if (!r.ok()) return r.status(what);
    TupleColumn col;
    switch (kind) {
      case 'n':
        col.kind = TupleColumn::Kind::kNull;
        break;
      case 'u':
        col.kind = TupleColumn::Kind::kUnchangedToast;
        break;
      case 't':
      case 'b': {
        col.kind = kind == 't' ? TupleColumn::Kind::kText : TupleColumn::Kind::kBinary;
        const size_t len_at = r.position();
        const int32_t len = r.ReadI32Be();
        if (!r.ok()) return r.status(what);
        if (len < 0) {
          return Malformed(what, len_at,
                           absl::StrCat("negative length ", len, " of column ", i,
                                        ": expected a byte count >= 0"));
        }
        std::string_view bytes = r.ReadString(static_cast<size_t>(len));
        if (!r.ok()) return r.status(what);
        col.data.assign(bytes.data(), bytes.size());
        break;
      }
      default:
        return Malformed(what, kind_at,
                         absl::StrFormat("column %d has kind byte 0x%02x: expected 'n', 'u', "
                                         "'t' or 'b'",
                                         i, kind));
    }
    tuple.push_back(std::move(col));
  }
  return tuple;
}

absl::StatusOr<BeginMessage> DecodeBegin(ByteReader& r) {
  BeginMessage m;
  m.final_lsn = Lsn(r.ReadU64Be());
  m.commit_ts_pg_micros = r.ReadI64Be();
  m.xid = r.ReadU32Be();
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Begin"));
  return m;
}

absl::StatusOr<CommitMessage> DecodeCommit(ByteReader& r) {
  CommitMessage m;
  m.flags = r.ReadU8();
  m.commit_lsn = Lsn(r.ReadU64Be());
  m.end_lsn = Lsn(r.ReadU64Be());
  m.commit_ts_pg_micros = r.ReadI64Be();
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Commit"));
  return m;
}

absl::StatusOr<OriginMessage> DecodeOrigin(ByteReader& r) {
  OriginMessage m;
  m.commit_lsn = Lsn(r.ReadU64Be());
  m.name = std::string(r.ReadNulString());
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Origin"));
  return m;
}

absl::StatusOr<RelationMessage> DecodeRelation(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Relation";
  RelationMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.relid = r.ReadU32Be();
  m.schema = std::string(r.ReadNulString());
  m.name = std::string(r.ReadNulString());
  const size_t ident_at = r.position();
  const uint8_t ident = r.ReadU8();
  const size_t count_at = r.position();
  const int16_t ncols = r.ReadI16Be();
  if (!r.ok()) return r.status(kWhat);
  switch (ident) {
    case 'd':
    case 'n':
    case 'f':
    case 'i':
      m.replica_identity = static_cast<ReplicaIdentity>(ident);
      break;
    default:
      return Malformed(kWhat, ident_at,
                       absl::StrFormat("replica identity byte 0x%02x: expected 'd', 'n', 'f' "
                                       "or 'i'",
                                       ident));
  }
  if (ncols < 0) {
    return Malformed(kWhat, count_at, absl::StrCat("negative column count ", ncols));
  }
  if (static_cast<size_t>(ncols) * kMinRelationColumnSize > r.remaining()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %d columns declared at offset %d but only %d bytes follow: needed at least %d",
        std::string(kWhat), ncols, count_at, r.remaining(), ncols * kMinRelationColumnSize));
  }
  m.columns.reserve(ncols);
  for (int i = 0; i < ncols; ++i) {
    RelationColumn c;
    c.flags = r.ReadU8();
    c.name = std::string(r.ReadNulString());
    c.type_oid = r.ReadU32Be();
    c.type_modifier = r.ReadI32Be();
    if (!r.ok()) return r.status(kWhat);
    m.columns.push_back(std::move(c));
  }
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<TypeMessage> DecodeType(ByteReader& r, bool in_stream) {
  TypeMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.oid = r.ReadU32Be();
  m.schema = std::string(r.ReadNulString());
  m.name = std::string(r.ReadNulString());
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Type"));
  return m;
}

// Reads a tuple marker byte and checks it is one of `allowed`.
absl::StatusOr<char> ReadMarker(ByteReader& r, std::string_view what, std::string_view allowed,
                                std::string_view expected) {
  const size_t at = r.position();
  const uint8_t marker = r.ReadU8();
  if (!r.ok()) return r.status(what);
  if (allowed.find(static_cast<char>(marker)) == std::string_view::npos) {
    return Malformed(
        what, at,
        absl::StrFormat("tuple marker 0x%02x: expected %s", marker, std::string(expected)));
  }
  return static_cast<char>(marker);
}

absl::StatusOr<InsertMessage> DecodeInsert(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Insert";
  InsertMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.relid = r.ReadU32Be();
  SLUICE_ASSIGN_OR_RETURN(char marker, ReadMarker(r, kWhat, "N", "'N'"));
  (void)marker;
  SLUICE_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(r, kWhat));
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<UpdateMessage> DecodeUpdate(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Update";
  UpdateMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.relid = r.ReadU32Be();
  SLUICE_ASSIGN_OR_RETURN(char marker, ReadMarker(r, kWhat, "KON", "'K', 'O' or 'N'"));
  if (marker != kNewTupleMarker) {
    m.old_kind = static_cast<OldTupleKind>(marker);
    SLUICE_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(r, kWhat));
    SLUICE_ASSIGN_OR_RETURN(marker, ReadMarker(r, kWhat, "N", "'N' after the old tuple"));
  }
  SLUICE_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(r, kWhat));
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<DeleteMessage> DecodeDelete(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Delete";
  DeleteMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.relid = r.ReadU32Be();
  SLUICE_ASSIGN_OR_RETURN(char marker, ReadMarker(r, kWhat, "KO", "'K' or 'O'"));
  m.old_kind = static_cast<OldTupleKind>(marker);
  SLUICE_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(r, kWhat));
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<TruncateMessage> DecodeTruncate(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Truncate";
  TruncateMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  const size_t count_at = r.position();
  const int32_t nrels = r.ReadI32Be();
  m.options = r.ReadU8();
  if (!r.ok()) return r.status(kWhat);
  if (nrels < 0) {
    return Malformed(kWhat, count_at, absl::StrCat("negative relation count ", nrels));
  }
  if (static_cast<size_t>(nrels) * kRelidSize > r.remaining()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %d relation ids declared at offset %d but only %d bytes follow: needed %d",
        std::string(kWhat), nrels, count_at, r.remaining(),
        static_cast<size_t>(nrels) * kRelidSize));
  }
  m.relids.reserve(nrels);
  for (int32_t i = 0; i < nrels; ++i) m.relids.push_back(r.ReadU32Be());
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<LogicalMessage> DecodeMessage(ByteReader& r, bool in_stream) {
  constexpr std::string_view kWhat = "pgoutput Message";
  LogicalMessage m;
  m.xid = ReadStreamXid(r, in_stream);
  m.flags = r.ReadU8();
  m.lsn = Lsn(r.ReadU64Be());
  m.prefix = std::string(r.ReadNulString());
  const size_t len_at = r.position();
  const int32_t len = r.ReadI32Be();
  if (!r.ok()) return r.status(kWhat);
  if (len < 0) {
    return Malformed(kWhat, len_at, absl::StrCat("negative content length ", len));
  }
  m.content = std::string(r.ReadString(static_cast<size_t>(len)));
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<StreamStartMessage> DecodeStreamStart(ByteReader& r) {
  constexpr std::string_view kWhat = "pgoutput Stream Start";
  StreamStartMessage m;
  m.xid = r.ReadU32Be();
  const size_t flag_at = r.position();
  const uint8_t first = r.ReadU8();
  if (!r.ok()) return r.status(kWhat);
  if (first > 1) {
    return Malformed(kWhat, flag_at,
                     absl::StrCat("first-segment flag ", first, ": expected 0 or 1"));
  }
  m.first_segment = first == 1;
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, kWhat));
  return m;
}

absl::StatusOr<StreamCommitMessage> DecodeStreamCommit(ByteReader& r) {
  StreamCommitMessage m;
  m.xid = r.ReadU32Be();
  m.flags = r.ReadU8();
  m.commit_lsn = Lsn(r.ReadU64Be());
  m.end_lsn = Lsn(r.ReadU64Be());
  m.commit_ts_pg_micros = r.ReadI64Be();
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Stream Commit"));
  return m;
}

absl::StatusOr<StreamAbortMessage> DecodeStreamAbort(ByteReader& r) {
  StreamAbortMessage m;
  m.xid = r.ReadU32Be();
  m.subxid = r.ReadU32Be();
  if (r.ok() && r.remaining() == 16) {  // protocol 4 parallel streaming
    m.abort_lsn = Lsn(r.ReadU64Be());
    m.abort_ts_pg_micros = r.ReadI64Be();
  }
  SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Stream Abort"));
  return m;
}

template <typename T>
absl::StatusOr<PgoutputMessage> Widen(absl::StatusOr<T> m) {
  if (!m.ok()) return std::move(m).status();
  return PgoutputMessage(std::move(m).value());
}

}  // namespace

const char* PgoutputMessageName(char tag) {
  switch (tag) {
    case kBeginTag:
      return "Begin";
    case kCommitTag:
      return "Commit";
    case kOriginTag:
      return "Origin";
    case kRelationTag:
      return "Relation";
    case kTypeTag:
      return "Type";
    case kInsertTag:
      return "Insert";
    case kUpdateTag:
      return "Update";
    case kDeleteTag:
      return "Delete";
    case kTruncateTag:
      return "Truncate";
    case kMessageTag:
      return "Message";
    case kStreamStartTag:
      return "Stream Start";
    case kStreamStopTag:
      return "Stream Stop";
    case kStreamCommitTag:
      return "Stream Commit";
    case kStreamAbortTag:
      return "Stream Abort";
    case kBeginPrepareTag:
      return "Begin Prepare";
    case kPrepareTag:
      return "Prepare";
    case kCommitPreparedTag:
      return "Commit Prepared";
    case kRollbackPreparedTag:
      return "Rollback Prepared";
    case kStreamPrepareTag:
      return "Stream Prepare";
    default:
      return "unknown";
  }
}

absl::StatusOr<PgoutputMessage> DecodePgoutput(std::span<const std::byte> data, bool in_stream) {
  if (data.empty()) {
    return absl::InvalidArgumentError(
        "pgoutput: empty message at offset 0: expected a message type byte");
  }
  ByteReader r(data);
  const char tag = static_cast<char>(r.ReadU8());
  switch (tag) {
    case kBeginTag:
      return Widen(DecodeBegin(r));
    case kCommitTag:
      return Widen(DecodeCommit(r));
    case kOriginTag:
      return Widen(DecodeOrigin(r));
    case kRelationTag:
      return Widen(DecodeRelation(r, in_stream));
    case kTypeTag:
      return Widen(DecodeType(r, in_stream));
    case kInsertTag:
      return Widen(DecodeInsert(r, in_stream));
    case kUpdateTag:
      return Widen(DecodeUpdate(r, in_stream));
    case kDeleteTag:
      return Widen(DecodeDelete(r, in_stream));
    case kTruncateTag:
      return Widen(DecodeTruncate(r, in_stream));
    case kMessageTag:
      return Widen(DecodeMessage(r, in_stream));
    case kStreamStartTag:
      return Widen(DecodeStreamStart(r));
    case kStreamStopTag: {
      SLUICE_RETURN_IF_ERROR(ExpectEnd(r, "pgoutput Stream Stop"));
      return PgoutputMessage(StreamStopMessage{});
    }
    case kStreamCommitTag:
      return Widen(DecodeStreamCommit(r));
    case kStreamAbortTag:
      return Widen(DecodeStreamAbort(r));
    case kBeginPrepareTag:
    case kPrepareTag:
    case kCommitPreparedTag:
    case kRollbackPreparedTag:
    case kStreamPrepareTag:
      return absl::UnimplementedError(absl::StrFormat(
          "pgoutput %s ('%c'): two-phase messages (protocol version 3) are not supported; "
          "start replication without two_phase",
          PgoutputMessageName(tag), tag));
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("pgoutput: unknown message type 0x%02x at offset 0: expected one of "
                          "B C O R Y I U D T M S E c A",
                          static_cast<uint8_t>(tag)));
  }
}

absl::StatusOr<PgoutputMessage> DecodePgoutput(std::string_view data, bool in_stream) {
  return DecodePgoutput(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()),
      in_stream);
}

}  // namespace sluice::postgres
