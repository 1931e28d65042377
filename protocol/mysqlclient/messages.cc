#include "protocol/mysqlclient/messages.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysqlclient {
namespace {

void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutLe(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

absl::StatusOr<OkPacket> ParseOk(std::string_view payload) {
  wire::ByteReader r(payload);
  uint8_t tag = r.ReadU8();
  if (!r.ok()) return r.status("OK packet");
  if (tag != 0x00 && tag != 0xFE) {
    return absl::DataLossError(absl::StrCat("OK packet: first byte ", tag, ", expected 0x00"));
  }
  OkPacket ok;
  ok.affected_rows = r.ReadLenencInt();
  ok.last_insert_id = r.ReadLenencInt();
  ok.status_flags = r.ReadU16Le();
  ok.warnings = r.ReadU16Le();
  ok.info = std::string(r.ReadRestString());
  if (!r.ok()) return r.status("OK packet");
  return ok;
}

absl::StatusOr<ErrPacket> ParseErr(std::string_view payload) {
  wire::ByteReader r(payload);
  uint8_t tag = r.ReadU8();
  ErrPacket e;
  e.code = r.ReadU16Le();
  if (!r.ok()) return r.status("ERR packet");
  if (tag != 0xFF) {
    return absl::DataLossError(absl::StrCat("ERR packet: first byte ", tag, ", expected 0xFF"));
  }
  if (r.remaining() >= 6 && r.PeekU8() == '#') {
    r.Skip(1);
    e.sql_state = std::string(r.ReadString(5));
  }
  e.message = std::string(r.ReadRestString());
  if (!r.ok()) return r.status("ERR packet");
  return e;
}

namespace {

constexpr char kErrorCodePayload[] = "sluice/mysql-error";

absl::StatusCode ErrorClass(uint16_t code) {
  switch (code) {
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1370:  // ER_PROCACCESS_DENIED_ERROR
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return absl::StatusCode::kPermissionDenied;
    case 1049:  // ER_BAD_DB_ERROR
    case 1051:  // ER_BAD_TABLE_ERROR
    case 1054:  // ER_BAD_FIELD_ERROR
    case 1109:  // ER_UNKNOWN_TABLE
    case 1146:  // ER_NO_SUCH_TABLE
    case 1305:  // ER_SP_DOES_NOT_EXIST
      return absl::StatusCode::kNotFound;
    case 1052:  // ER_NON_UNIQ_ERROR
    case 1064:  // ER_PARSE_ERROR
    case 1149:  // ER_SYNTAX_ERROR
      return absl::StatusCode::kInvalidArgument;
    case 1115:  // ER_UNKNOWN_CHARACTER_SET
    case 1193:  // ER_UNKNOWN_SYSTEM_VARIABLE
    case 1229:  // ER_GLOBAL_VARIABLE
    case 1231:  // ER_WRONG_VALUE_FOR_VAR
    case 1236:  // ER_MASTER_FATAL_ERROR_READING_BINLOG
    case 1238:  // ER_INCORRECT_GLOBAL_LOCAL_VAR
    case 1273:  // ER_UNKNOWN_COLLATION
    case 1286:  // ER_UNKNOWN_STORAGE_ENGINE
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT (e.g. --read-only)
    case 1356:  // ER_VIEW_INVALID
      return absl::StatusCode::kFailedPrecondition;
    case 1040:  // ER_CON_COUNT_ERROR
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1203:  // ER_TOO_MANY_USER_CONNECTIONS
    case 1226:  // ER_USER_LIMIT_REACHED
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
      return absl::StatusCode::kUnavailable;
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
    case 1317:  // ER_QUERY_INTERRUPTED
    case 1412:  // ER_TABLE_DEF_CHANGED
    case 1637:  // ER_TOO_MANY_CONCURRENT_TRXS
    case 1969:  // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    case 3024:  // ER_QUERY_TIMEOUT (MySQL max_execution_time)
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status ErrToStatus(const ErrPacket& err) {
  std::string msg = absl::StrCat("MySQL error ", err.code);
  if (!err.sql_state.empty()) absl::StrAppend(&msg, " (", err.sql_state, ")");
  absl::StrAppend(&msg, ": ", err.message);
  absl::Status st(ErrorClass(err.code), msg);
  st.SetPayload(kErrorCodePayload, absl::Cord(absl::StrCat(err.code)));
  return st;
}

std::optional<uint16_t> MysqlErrorCode(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorCodePayload);
  uint32_t code = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &code) || code > UINT16_MAX) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(code);
}

bool IsPermanentMysqlError(const absl::Status& status) {
  if (!MysqlErrorCode(status)) return false;
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

absl::Status WithContext(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(std::string(prefix), status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

absl::Status ErrPayloadToStatus(std::string_view payload) {
  absl::StatusOr<ErrPacket> e = ParseErr(payload);
  if (!e.ok()) return e.status();
  return ErrToStatus(*e);
}

absl::StatusOr<ColumnDefinition> ParseColumnDefinition(std::string_view payload) {
  wire::ByteReader r(payload);
  ColumnDefinition c;
  r.ReadLenencString();  // catalog
  c.schema = std::string(r.ReadLenencString());
  c.table = std::string(r.ReadLenencString());
  r.ReadLenencString();  // org_table
  c.name = std::string(r.ReadLenencString());
  r.ReadLenencString();  // org_name
  uint64_t fixed = r.ReadLenencInt();
  if (r.ok() && fixed < 12) {
    return absl::DataLossError(absl::StrCat(
        "column definition: fixed-length fields are ", fixed, " bytes, expected 12"));
  }
  c.charset = r.ReadU16Le();
  c.length = r.ReadU32Le();
  c.type = r.ReadU8();
  c.flags = r.ReadU16Le();
  c.decimals = r.ReadU8();
  if (!r.ok()) return r.status("column definition");
  return c;
}

absl::StatusOr<TextRow> ParseTextRow(std::string_view payload, size_t columns) {
  wire::ByteReader r(payload);
  TextRow row;
  if (columns > payload.size()) {
    return absl::DataLossError(absl::StrCat("text row: ", payload.size(),
                                            " bytes cannot hold ", columns, " columns"));
  }
  row.reserve(columns);
  for (size_t i = 0; i < columns; ++i) {
    if (r.ok() && r.remaining() > 0 && r.PeekU8() == 0xFB) {
      r.Skip(1);
      row.emplace_back(std::nullopt);
      continue;
    }
    std::string_view v = r.ReadLenencString();
    if (!r.ok()) return r.status(absl::StrCat("text row column ", i));
    row.emplace_back(std::string(v));
  }
  if (r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("text row: ", r.remaining(),
                                            " trailing bytes after ", columns, " columns"));
  }
  return row;
}

absl::Status ParseTextRowView(std::string_view payload, size_t columns, TextRowView& out) {
  wire::ByteReader r(payload);
  out.clear();
  if (columns > payload.size()) {
    return absl::DataLossError(absl::StrCat("text row: ", payload.size(),
                                            " bytes cannot hold ", columns, " columns"));
  }
  for (size_t i = 0; i < columns; ++i) {
    if (r.ok() && r.remaining() > 0 && r.PeekU8() == 0xFB) {
      r.Skip(1);
      out.emplace_back(std::nullopt);
      continue;
    }
    std::string_view v = r.ReadLenencString();
    if (!r.ok()) return r.status(absl::StrCat("text row column ", i));
    out.emplace_back(v);
  }
  if (r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("text row: ", r.remaining(),
                                            " trailing bytes after ", columns, " columns"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> TextResultSetReader::Add(std::string_view payload) {
  switch (state_) {
    case State::kStart: {
      if (IsErrPacket(payload)) return ErrPayloadToStatus(payload);
      if (IsOkPacket(payload)) {
        absl::StatusOr<OkPacket> ok = ParseOk(payload);
        if (!ok.ok()) return ok.status();
        result_.ok = *std::move(ok);
        state_ = State::kDone;
        return true;
      }
      if (!payload.empty() && payload[0] == '\xFB') {
        return absl::UnimplementedError("LOCAL INFILE requests are not supported");
      }
      wire::ByteReader r(payload);
      column_count_ = r.ReadLenencInt();
      if (!r.ok()) return r.status("result set column count");
      if (column_count_ == 0 || column_count_ > 4096) {
        return absl::DataLossError(
            absl::StrCat("result set: column count ", column_count_, " is out of range"));
      }
      state_ = State::kColumns;
      return false;
    }
    case State::kColumns: {
      absl::StatusOr<ColumnDefinition> c = ParseColumnDefinition(payload);
      if (!c.ok()) return c.status();
      result_.columns.push_back(*std::move(c));
      if (result_.columns.size() == column_count_) {
        state_ = deprecate_eof_ ? State::kRows : State::kColumnsEof;
      }
      return false;
    }
    case State::kColumnsEof:
      if (IsErrPacket(payload)) return ErrPayloadToStatus(payload);
      if (!IsEofPacket(payload)) {
        return absl::DataLossError("result set: expected EOF after the column definitions");
      }
      state_ = State::kRows;
      return false;
    case State::kRows: {
      if (IsErrPacket(payload)) return ErrPayloadToStatus(payload);
      bool terminator = deprecate_eof_ ? (!payload.empty() && payload[0] == '\xFE' &&
                                          payload.size() < 0xFFFFFF)
                                       : IsEofPacket(payload);
      if (terminator) {
        state_ = State::kDone;
        return true;
      }
      if (row_sink_) {
        if (absl::Status st = row_sink_(payload); !st.ok()) return st;
        return false;
      }
      absl::StatusOr<TextRow> row = ParseTextRow(payload, result_.columns.size());
      if (!row.ok()) return row.status();
      result_.rows.push_back(*std::move(row));
      return false;
    }
    case State::kDone:
      return absl::FailedPreconditionError("result set: payload after the terminator");
  }
  return absl::InternalError("result set: bad state");
}

std::string EncodeComQuery(std::string_view sql) {
  std::string out;
  PutU8(out, kComQuery);
  out.append(sql);
  return out;
}

std::string EncodeRegisterSlave(uint32_t server_id, uint16_t port) {
  std::string out;
  PutU8(out, kComRegisterSlave);
  PutLe(out, server_id, 4);
  PutU8(out, 0);  // host
  PutU8(out, 0);  // user
  PutU8(out, 0);  // password
  PutLe(out, port, 2);
  PutLe(out, 0, 4);  // replication rank
  PutLe(out, 0, 4);  // master id
  return out;
}

std::string EncodeBinlogDump(std::string_view file, uint32_t position, uint32_t server_id,
                             uint16_t flags) {
  std::string out;
  PutU8(out, kComBinlogDump);
  PutLe(out, position, 4);
  PutLe(out, flags, 2);
  PutLe(out, server_id, 4);
  out.append(file);
  return out;
}

std::string EncodeBinlogDumpGtid(std::string_view encoded_gtid_set, uint32_t server_id,
                                 std::string_view file, uint64_t position, uint16_t flags) {
  std::string out;
  PutU8(out, kComBinlogDumpGtid);
  PutLe(out, flags | kBinlogThroughGtid, 2);
  PutLe(out, server_id, 4);
  PutLe(out, file.size(), 4);
  out.append(file);
  PutLe(out, position, 8);
  PutLe(out, encoded_gtid_set.size(), 4);
  out.append(encoded_gtid_set);
  return out;
}

absl::StatusOr<BinlogPacket> ParseBinlogPacket(std::string_view payload) {
  if (payload.empty()) return absl::DataLossError("binlog packet: empty payload");
  BinlogPacket p;
  switch (static_cast<uint8_t>(payload[0])) {
    case 0x00:
      p.event = std::span<const std::byte>(reinterpret_cast<const std::byte*>(payload.data()) + 1,
                                           payload.size() - 1);
      return p;
    case 0xFE:
      if (payload.size() < 9) {
        p.eof = true;
        return p;
      }
      break;
    case 0xFF:
      return ErrPayloadToStatus(payload);
    default:
      break;
  }
  return absl::DataLossError(absl::StrCat("binlog packet: first byte ",
                                          static_cast<uint8_t>(payload[0]), " of a ",
                                          payload.size(), "-byte payload, expected 0x00"));
}

}  // namespace sluice::mysqlclient
