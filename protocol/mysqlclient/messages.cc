#include "protocol/mysqlclient/messages.h"

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

absl::Status ErrToStatus(const ErrPacket& err) {
  std::string msg = absl::StrCat("MySQL error ", err.code);
  if (!err.sql_state.empty()) absl::StrAppend(&msg, " (", err.sql_state, ")");
  absl::StrAppend(&msg, ": ", err.message);
  switch (err.code) {
    case 1044:
    case 1045:
    case 1142:
    case 1227:
    case 1698:
      return absl::PermissionDeniedError(msg);
    case 1064:
      return absl::InvalidArgumentError(msg);
    case 1236:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnknownError(msg);
  }
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
