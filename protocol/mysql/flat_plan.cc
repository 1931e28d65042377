#include "protocol/mysql/flat_plan.h"

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "protocol/mysql/charset.h"
#include "protocol/mysql/decimal.h"
#include "protocol/mysql/row_values.h"
#include "protocol/mysql/temporal.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

// The text kind ReadFlatColumnValue keeps a CHAR/VARCHAR (blob false) or BLOB/TEXT (blob true)
// value as without converting it; nullopt when it converts (latin1, UTF-16, CJK, unknown ...).
std::optional<FlatKind> TextKind(const ColumnDef& c, bool blob) {
  if (!c.collation) return blob ? FlatKind::kBytes : FlatKind::kString;
  switch (CharsetForCollation(*c.collation).kind) {
    case CharsetKind::kUtf8:
      return FlatKind::kString;
    case CharsetKind::kBinary:
      return FlatKind::kBytes;
    default:
      return std::nullopt;
  }
}

// The opcode of a value after a length prefix of `n` bytes, as ReadFlatColumnValue reads it
// (1: u8, 2: u16le, 3: u24le, anything else: u32le).
FlatOp TextOp(size_t n) {
  switch (n) {
    case 1:
      return FlatOp::kText1;
    case 2:
      return FlatOp::kText2;
    case 3:
      return FlatOp::kText3;
    default:
      return FlatOp::kText4;
  }
}

FlatColumnPlan PlanColumn(const ColumnDef& c) {
  FlatColumnPlan p;
  p.column = &c;
  const bool is_unsigned = c.is_unsigned.value_or(false);
  auto integer = [&](FlatOp s, FlatOp u) { p.op = is_unsigned ? u : s; };
  switch (c.type) {
    case ColumnType::kTiny:
      integer(FlatOp::kInt8, FlatOp::kUint8);
      break;
    case ColumnType::kShort:
      integer(FlatOp::kInt16, FlatOp::kUint16);
      break;
    case ColumnType::kInt24:
      integer(FlatOp::kInt24, FlatOp::kUint24);
      break;
    case ColumnType::kLong:
      integer(FlatOp::kInt32, FlatOp::kUint32);
      break;
    case ColumnType::kLongLong:
      integer(FlatOp::kInt64, FlatOp::kUint64);
      break;
    case ColumnType::kYear:
      p.op = FlatOp::kYear;
      break;
    case ColumnType::kFloat:
      p.op = FlatOp::kFloat;
      break;
    case ColumnType::kDouble:
      p.op = FlatOp::kDouble;
      break;
    case ColumnType::kNewDecimal:
      p.op = FlatOp::kDecimal;
      break;
    case ColumnType::kBit:
      p.op = FlatOp::kBit;
      break;
    case ColumnType::kDate:
    case ColumnType::kNewDate:
      p.op = FlatOp::kDate;
      break;
    case ColumnType::kTime:
      p.op = FlatOp::kOldTime;
      break;
    case ColumnType::kTime2:
      p.op = FlatOp::kTime2;
      break;
    case ColumnType::kDateTime:
      p.op = FlatOp::kOldDateTime;
      break;
    case ColumnType::kDateTime2:
      p.op = FlatOp::kDateTime2;
      break;
    case ColumnType::kTimestamp:
      p.op = FlatOp::kTimestamp;
      break;
    case ColumnType::kTimestamp2:
      p.op = FlatOp::kTimestamp2;
      break;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString: {
      // BINARY(n) may need its padding back (ReadFlatColumnValue does that).
      if (c.type == ColumnType::kString && c.collation == 63u) break;
      if (std::optional<FlatKind> kind = TextKind(c, false)) {
        p.op = c.max_length > 255 ? FlatOp::kText2 : FlatOp::kText1;
        p.text_kind = *kind;
      }
      break;
    }
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
      if (std::optional<FlatKind> kind = TextKind(c, true)) {
        p.op = TextOp(c.length_bytes);
        p.text_kind = *kind;
      }
      break;
    case ColumnType::kGeometry:
      p.op = TextOp(c.length_bytes);
      p.text_kind = FlatKind::kBytes;
      break;
    case ColumnType::kEnum:
      // One pack byte and the member names: anything else (the index without ENUM_STR_VALUE
      // metadata, 2-byte packs) through ReadFlatColumnValue.
      if (c.length_bytes == 1 && !c.enum_values.empty()) p.op = FlatOp::kEnum;
      break;
    case ColumnType::kNull:
      p.op = FlatOp::kNullType;
      break;
    default:
      break;
  }
  return p;
}

void SetInt(FlatValue& v, int64_t x) {
  v.kind = FlatKind::kInt64;
  v.i64 = x;
}
void SetUint(FlatValue& v, uint64_t x) {
  v.kind = FlatKind::kUint64;
  v.u64 = x;
}

// Field by field: assigning a just-decoded parts struct whole made GCC build part of it in a
// stack slot with 4-byte stores and copy it with a 16-byte load, which the CPU cannot forward
// from those stores (a stall on every DATE/TIME/DATETIME value).
void SetParts(DateParts& to, const DateParts& from) {
  to.year = from.year;
  to.month = from.month;
  to.day = from.day;
}
void SetParts(TimeParts& to, const TimeParts& from) {
  to.negative = from.negative;
  to.hours = from.hours;
  to.minutes = from.minutes;
  to.seconds = from.seconds;
  to.micros = from.micros;
}
void SetParts(DateTimeParts& to, const DateTimeParts& from) {
  SetParts(to.date, from.date);
  SetParts(to.time, from.time);
}

// A value after a length prefix read by `read_length`, kept as a view.
template <typename ReadLength>
void ReadText(ByteReader& r, FlatKind kind, FlatValue& v, FlatRow& row, ReadLength read_length) {
  const uint64_t length = read_length();
  const std::string_view s = r.ReadString(length);
  if (r.ok()) row.SetText(v, kind, s);
}

}  // namespace

void FlatPlan::Build(const TableMap& table) {
  columns_.clear();
  columns_.reserve(table.columns.size());
  for (const ColumnDef& c : table.columns) columns_.push_back(PlanColumn(c));
}

absl::Status ReadFlatImageValues(ByteReader& r, const FlatPlan& plan,
                                 std::span<const uint32_t> present, std::string_view nulls,
                                 FlatRow& row, FlatImageFailure& failure) {
  for (size_t ordinal = 0; ordinal < present.size(); ++ordinal) {
    const uint32_t i = present[ordinal];
    if ((static_cast<uint8_t>(nulls[ordinal / 8]) >> (ordinal % 8)) & 1) {
      row.Add(i);  // kNull
      continue;
    }
    const FlatColumnPlan& p = plan[i];
    const ColumnDef& c = *p.column;
    absl::Status st;
    const size_t at = r.position();
    if (p.op == FlatOp::kSlow) {
      st = ReadFlatColumnValue(r, c, i, row);
      if (st.ok()) continue;
    } else {
      FlatValue& v = row.Add(i);
      switch (p.op) {
        case FlatOp::kSlow:
        case FlatOp::kNullType:
          break;
        case FlatOp::kInt8:
          SetInt(v, static_cast<int8_t>(r.ReadU8()));
          break;
        case FlatOp::kUint8:
          SetUint(v, r.ReadU8());
          break;
        case FlatOp::kInt16:
          SetInt(v, static_cast<int16_t>(r.ReadU16Le()));
          break;
        case FlatOp::kUint16:
          SetUint(v, r.ReadU16Le());
          break;
        case FlatOp::kInt24:
          SetInt(v, static_cast<int32_t>(r.ReadU24Le() << 8) >> 8);
          break;
        case FlatOp::kUint24:
          SetUint(v, r.ReadU24Le());
          break;
        case FlatOp::kInt32:
          SetInt(v, static_cast<int32_t>(r.ReadU32Le()));
          break;
        case FlatOp::kUint32:
          SetUint(v, r.ReadU32Le());
          break;
        case FlatOp::kInt64:
          SetInt(v, static_cast<int64_t>(r.ReadU64Le()));
          break;
        case FlatOp::kUint64:
          SetUint(v, r.ReadU64Le());
          break;
        case FlatOp::kYear: {
          const uint8_t x = r.ReadU8();
          SetInt(v, x == 0 ? 0 : 1900 + x);
          break;
        }
        case FlatOp::kFloat: {
          const uint32_t bits = r.ReadU32Le();
          float f;
          std::memcpy(&f, &bits, sizeof f);
          v.kind = FlatKind::kDouble;
          v.f64 = f;
          break;
        }
        case FlatOp::kDouble: {
          const uint64_t bits = r.ReadU64Le();
          v.kind = FlatKind::kDouble;
          std::memcpy(&v.f64, &bits, sizeof v.f64);
          break;
        }
        case FlatOp::kDecimal: {
          const size_t begin = row.arena().size();
          st = AppendBinaryDecimal(r, c.precision, c.scale, row.arena());
          if (st.ok()) row.SetArenaText(v, FlatKind::kDecimal, begin);
          break;
        }
        case FlatOp::kBit: {
          uint64_t x = 0;
          for (char ch : r.ReadString((c.bits + 7) / 8)) x = (x << 8) | static_cast<uint8_t>(ch);
          SetUint(v, x);
          break;
        }
        case FlatOp::kDate:
          v.kind = FlatKind::kDate;
          SetParts(v.date, ReadDateParts(r));
          break;
        case FlatOp::kOldTime:
          v.kind = FlatKind::kTime;
          SetParts(v.time, ReadOldTimeParts(r));
          break;
        case FlatOp::kTime2:
          v.kind = FlatKind::kTime;
          SetParts(v.time, ReadTime2Parts(r, c.fsp));
          break;
        case FlatOp::kOldDateTime:
          v.kind = FlatKind::kDateTime;
          SetParts(v.datetime, ReadOldDateTimeParts(r));
          break;
        case FlatOp::kDateTime2:
          v.kind = FlatKind::kDateTime;
          SetParts(v.datetime, ReadDateTime2Parts(r, c.fsp));
          break;
        case FlatOp::kTimestamp:
          v.kind = FlatKind::kTimestampMicros;
          v.i64 = static_cast<int64_t>(r.ReadU32Le()) * 1000000;
          break;
        case FlatOp::kTimestamp2:
          v.kind = FlatKind::kTimestampMicros;
          v.i64 = ReadTimestamp2Micros(r, c.fsp);
          break;
        case FlatOp::kText1:
          ReadText(r, p.text_kind, v, row, [&] { return r.ReadU8(); });
          break;
        case FlatOp::kText2:
          ReadText(r, p.text_kind, v, row, [&] { return r.ReadU16Le(); });
          break;
        case FlatOp::kText3:
          ReadText(r, p.text_kind, v, row, [&] { return r.ReadU24Le(); });
          break;
        case FlatOp::kText4:
          ReadText(r, p.text_kind, v, row, [&] { return r.ReadU32Le(); });
          break;
        case FlatOp::kEnum: {
          const uint64_t index = r.ReadU8();
          if (!r.ok()) break;
          if (index == 0) {
            row.SetText(v, FlatKind::kString, std::string_view());
          } else if (index > c.enum_values.size()) {
            st = ColumnValueError(r, c,
                                  absl::StrCat("index ", index, " beyond the ",
                                               c.enum_values.size(), " members"));
          } else {
            row.SetText(v, FlatKind::kString, c.enum_values[index - 1]);
          }
          break;
        }
      }
      if (st.ok() && r.ok()) [[likely]] {
        continue;
      }
      if (st.ok()) st = r.status(absl::StrCat(std::string(ColumnTypeName(c.type)), " value"));
    }
    failure.column = i;
    failure.at = at;
    return st;
  }
  return absl::OkStatus();
}

}  // namespace sluice::mysql
