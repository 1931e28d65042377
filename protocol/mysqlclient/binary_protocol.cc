#include "protocol/mysqlclient/binary_protocol.h"

#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysqlclient {
namespace {

// Column types (the column definition's type byte) with a fixed or u8-length binary field.
constexpr uint8_t kTypeTiny = 1;
constexpr uint8_t kTypeShort = 2;
constexpr uint8_t kTypeLong = 3;
constexpr uint8_t kTypeFloat = 4;
constexpr uint8_t kTypeDouble = 5;
constexpr uint8_t kTypeTimestamp = 7;
constexpr uint8_t kTypeLongLong = 8;
constexpr uint8_t kTypeInt24 = 9;
constexpr uint8_t kTypeDate = 10;
constexpr uint8_t kTypeTime = 11;
constexpr uint8_t kTypeDateTime = 12;
constexpr uint8_t kTypeYear = 13;
constexpr uint8_t kTypeNewDate = 14;
constexpr uint8_t kTypeTimestamp2 = 17;
constexpr uint8_t kTypeDateTime2 = 18;
constexpr uint8_t kTypeTime2 = 19;

bool IsTime(uint8_t type) { return type == kTypeTime || type == kTypeTime2; }

void PutU32(uint32_t v, std::string& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string WithId(uint8_t command, uint32_t statement_id) {
  std::string out(1, static_cast<char>(command));
  PutU32(statement_id, out);
  return out;
}

}  // namespace

std::string EncodeStmtPrepare(std::string_view sql) {
  std::string out(1, static_cast<char>(kComStmtPrepare));
  out.append(sql);
  return out;
}

std::string EncodeStmtExecute(uint32_t statement_id) {
  std::string out = WithId(kComStmtExecute, statement_id);
  out.push_back('\0');  // flags: CURSOR_TYPE_NO_CURSOR
  PutU32(1, out);       // iteration count
  return out;
}

std::string EncodeStmtClose(uint32_t statement_id) { return WithId(kComStmtClose, statement_id); }

absl::StatusOr<PrepareOk> ParsePrepareOk(std::string_view payload) {
  wire::ByteReader r(payload);
  if (r.ReadU8() != 0x00 || payload.size() < 12) {
    return absl::DataLossError(absl::StrCat("COM_STMT_PREPARE: expected a 12-byte prepare_ok, got ",
                                            payload.size(), " bytes"));
  }
  PrepareOk ok;
  ok.statement_id = r.ReadU32Le();
  ok.columns = r.ReadU16Le();
  ok.params = r.ReadU16Le();
  r.Skip(1);
  ok.warnings = r.ReadU16Le();
  if (!r.ok()) return r.status("prepare_ok");
  return ok;
}

int BinaryFieldSize(const ColumnDefinition& c) {
  switch (c.type) {
    case kTypeLongLong:
    case kTypeDouble:
      return 8;
    case kTypeLong:
    case kTypeInt24:
    case kTypeFloat:
      return 4;
    case kTypeShort:
    case kTypeYear:
      return 2;
    case kTypeTiny:
      return 1;
    case kTypeDate:
    case kTypeNewDate:
    case kTypeDateTime:
    case kTypeDateTime2:
    case kTypeTimestamp:
    case kTypeTimestamp2:
    case kTypeTime:
    case kTypeTime2:
      return 0;
    default:
      return -1;
  }
}

absl::Status ParseBinaryRowView(std::string_view payload, std::span<const ColumnDefinition> columns,
                                BinaryRowView& out) {
  out.clear();
  const size_t bitmap_bytes = (columns.size() + 9) / 8;
  wire::ByteReader r(payload);
  if (r.ReadU8() != 0x00) {
    return absl::DataLossError(
        absl::StrCat("binary row: the first of its ", payload.size(), " bytes is not 0x00"));
  }
  const std::string_view bitmap = r.ReadString(bitmap_bytes);
  if (!r.ok())
    return r.status(absl::StrCat("binary row NULL bitmap of ", columns.size(), " columns"));
  out.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    const size_t bit = i + 2;
    if ((static_cast<uint8_t>(bitmap[bit / 8]) >> (bit % 8)) & 1) {
      out.emplace_back(std::nullopt);
      continue;
    }
    const int size = BinaryFieldSize(columns[i]);
    std::string_view v;
    if (size > 0) {
      v = r.ReadString(static_cast<size_t>(size));
    } else if (size == 0) {
      const uint8_t n = r.ReadU8();
      const bool time = IsTime(columns[i].type);
      const bool allowed =
          time ? (n == 0 || n == 8 || n == 12) : (n == 0 || n == 4 || n == 7 || n == 11);
      if (r.ok() && !allowed) {
        return absl::DataLossError(
            absl::StrCat("binary row column ", i, ": a ", time ? "TIME" : "date/time", " of ", n,
                         " bytes (allowed: ", time ? "0, 8, 12" : "0, 4, 7, 11", ")"));
      }
      v = r.ReadString(n);
    } else {
      v = r.ReadLenencString();
    }
    if (!r.ok()) return r.status(absl::StrCat("binary row column ", i));
    out.emplace_back(v);
  }
  if (r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("binary row: ", r.remaining(), " trailing bytes after ",
                                            columns.size(), " columns"));
  }
  return absl::OkStatus();
}

}  // namespace sluice::mysqlclient
