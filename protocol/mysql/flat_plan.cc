#include "protocol/mysql/flat_plan.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

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

// The in-place form of p.op, when ReadFlatImageValues has one for this column.
void PlanFast(FlatColumnPlan& p) {
  const ColumnDef& c = *p.column;
  switch (p.op) {
    case FlatOp::kSlow:
    case FlatOp::kNullType:
    case FlatOp::kBit:
      return;  // kSlow
    case FlatOp::kTime2:
    case FlatOp::kDateTime2:
    case FlatOp::kTimestamp2:
      if (c.fsp > 6) return;
      p.frac_bytes = static_cast<uint8_t>(temporal_internal::FracBytes(c.fsp));
      break;
    case FlatOp::kDecimal:
      if (c.precision <= 0 || c.precision > 65 || c.scale > c.precision) return;
      p.size = static_cast<uint8_t>(BinaryDecimalSize(c.precision, c.scale));
      if (IsSmallDecimal(c.precision, c.scale)) {
        p.fast = FlatOp::kSmallDecimal;
        return;
      }
      break;
    default:
      break;
  }
  p.fast = p.op;
}

}  // namespace

void FlatPlan::Build(const TableMap& table) {
  columns_.clear();
  columns_.reserve(table.columns.size());
  for (const ColumnDef& c : table.columns) {
    columns_.push_back(PlanColumn(c));
    PlanFast(columns_.back());
  }
}

namespace {

// One value through the ByteReader, as ReadFlatColumnValue reads it (the `fast` ops' bytes when
// they are not all there, and the ops without a fast form): adds it to `row`. On error returns
// ReadFlatColumnValue's error (the row then ends with the failed value).
[[gnu::noinline]] absl::Status ReadValue(ByteReader& r, const FlatColumnPlan& p, uint32_t i,
                                         FlatRow& row) {
  const ColumnDef& c = *p.column;
  if (p.op == FlatOp::kSlow) return ReadFlatColumnValue(r, c, i, row);
  absl::Status st;
  FlatValue& v = row.Add(i);

  switch (p.op) {
    case FlatOp::kSlow:
    case FlatOp::kNullType:
    case FlatOp::kSmallDecimal:  // a `fast` op only
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
  if (st.ok() && !r.ok()) {
    st = r.status(absl::StrCat(std::string(ColumnTypeName(c.type)), " value"));
  }
  return st;
}

uint64_t Le16(const char* p) {
  uint16_t x;
  std::memcpy(&x, p, 2);
  return x;
}
uint64_t Le32(const char* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  return x;
}
uint64_t Le64(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
uint64_t Le24(const char* p) { return Le16(p) | uint64_t{static_cast<uint8_t>(p[2])} << 16; }
uint64_t U8(const char* p) { return static_cast<uint8_t>(*p); }

// The NULL bits of ordinals [8 * at, 8 * at + 64), LSB first (0 past the bitmap's end).
uint64_t NullWord(std::string_view nulls, size_t at) {
  uint64_t w = 0;
  const size_t k = at < nulls.size() ? std::min<size_t>(8, nulls.size() - at) : 0;
  for (size_t j = 0; j < k; ++j) w |= uint64_t{static_cast<uint8_t>(nulls[at + j])} << (8 * j);
  return w;
}

}  // namespace

absl::Status ReadFlatImageValues(ByteReader& r, const FlatPlan& plan,
                                 std::span<const uint32_t> present, std::string_view nulls,
                                 FlatRow& row, FlatImageFailure& failure) {
  using temporal_internal::LoadBe;
  const size_t n = present.size();
  const FlatColumnPlan* const columns = plan.data();
  FlatValue* v = row.Room(n);
  // The image's bytes from the reader's position on: `from` is where the reader is, `p` where the
  // next value starts, `end` the reader's limit. A failed reader has nothing left.
  const char* p = r.ok() ? r.ReadString(0).data() : nullptr;
  const char* from = p;
  const char* end = p + (r.ok() ? r.remaining() : 0);
  uint64_t null_bits = 0;
  for (size_t ordinal = 0; ordinal < n; ++ordinal, ++v) {
    if (ordinal % 64 == 0) null_bits = NullWord(nulls, ordinal / 8);
    const uint32_t i = present[ordinal];
    v->column = i;
    v->kind = FlatKind::kNull;
    v->in_arena = false;
    const bool is_null = (null_bits & 1) != 0;
    null_bits >>= 1;
    if (is_null) continue;
    const FlatColumnPlan& c = columns[i];
    const auto left = static_cast<size_t>(end - p);
    // Each case takes its value when all its bytes are there, else breaks to the reader path.
    switch (c.fast) {
      case FlatOp::kInt8:
        if (left < 1) break;
        SetInt(*v, static_cast<int8_t>(U8(p)));
        p += 1;
        continue;
      case FlatOp::kUint8:
        if (left < 1) break;
        SetUint(*v, U8(p));
        p += 1;
        continue;
      case FlatOp::kInt16:
        if (left < 2) break;
        SetInt(*v, static_cast<int16_t>(Le16(p)));
        p += 2;
        continue;
      case FlatOp::kUint16:
        if (left < 2) break;
        SetUint(*v, Le16(p));
        p += 2;
        continue;
      case FlatOp::kInt24:
        if (left < 3) break;
        SetInt(*v, static_cast<int32_t>(static_cast<uint32_t>(Le24(p)) << 8) >> 8);
        p += 3;
        continue;
      case FlatOp::kUint24:
        if (left < 3) break;
        SetUint(*v, Le24(p));
        p += 3;
        continue;
      case FlatOp::kInt32:
        if (left < 4) break;
        SetInt(*v, static_cast<int32_t>(Le32(p)));
        p += 4;
        continue;
      case FlatOp::kUint32:
        if (left < 4) break;
        SetUint(*v, Le32(p));
        p += 4;
        continue;
      case FlatOp::kInt64:
        if (left < 8) break;
        SetInt(*v, static_cast<int64_t>(Le64(p)));
        p += 8;
        continue;
      case FlatOp::kUint64:
        if (left < 8) break;
        SetUint(*v, Le64(p));
        p += 8;
        continue;
      case FlatOp::kYear: {
        if (left < 1) break;
        const uint64_t x = U8(p);
        SetInt(*v, x == 0 ? 0 : 1900 + static_cast<int64_t>(x));
        p += 1;
        continue;
      }
      case FlatOp::kFloat: {
        if (left < 4) break;
        const auto bits = static_cast<uint32_t>(Le32(p));
        float f;
        std::memcpy(&f, &bits, sizeof f);
        v->kind = FlatKind::kDouble;
        v->f64 = f;
        p += 4;
        continue;
      }
      case FlatOp::kDouble: {
        if (left < 8) break;
        const uint64_t bits = Le64(p);
        v->kind = FlatKind::kDouble;
        std::memcpy(&v->f64, &bits, sizeof v->f64);
        p += 8;
        continue;
      }
      case FlatOp::kDecimal: {
        if (left < c.size) break;
        const size_t at = r.position() + static_cast<size_t>(p - from);
        const size_t begin = row.arena().size();
        const absl::Status st =
            AppendBinaryDecimalBytes(std::string_view(p, c.size), c.column->precision,
                                     c.column->scale, at, row.arena());
        p += c.size;
        if (!st.ok()) [[unlikely]] {
          // As the reader path fails: its bytes read, the value left in the row.
          r.Skip(static_cast<size_t>(p - from));
          row.CommitValues(v + 1);
          failure.column = i;
          failure.at = at;
          return st;
        }
        row.SetArenaText(*v, FlatKind::kDecimal, begin);
        continue;
      }
      case FlatOp::kSmallDecimal: {
        if (left < c.size) break;
        SmallDecimal d;
        if (!DecodeSmallDecimal(std::string_view(p, c.size), c.column->precision,
                                c.column->scale, d)) [[unlikely]] {
          break;  // the reader path names the error
        }
        v->kind = FlatKind::kSmallDecimal;
        v->u64 = d.integer;
        v->i64 = d.fraction;
        v->scale = static_cast<uint8_t>(d.scale);
        v->negative = d.negative;
        p += c.size;
        continue;
      }
      case FlatOp::kDate:
        if (left < 3) break;
        v->kind = FlatKind::kDate;
        SetParts(v->date, DateFromLe(static_cast<uint32_t>(Le24(p))));
        p += 3;
        continue;
      case FlatOp::kOldTime:
        if (left < 3) break;
        v->kind = FlatKind::kTime;
        SetParts(v->time, OldTimeFromLe(static_cast<uint32_t>(Le24(p))));
        p += 3;
        continue;
      case FlatOp::kTime2: {
        const size_t fb = c.frac_bytes;
        if (left < 3 + fb) break;
        v->kind = FlatKind::kTime;
        SetParts(v->time, Time2FromBe(LoadBe(p, 3 + fb), fb));
        p += 3 + fb;
        continue;
      }
      case FlatOp::kOldDateTime:
        if (left < 8) break;
        v->kind = FlatKind::kDateTime;
        SetParts(v->datetime, OldDateTimeFromLe(Le64(p)));
        p += 8;
        continue;
      case FlatOp::kDateTime2: {
        const size_t fb = c.frac_bytes;
        if (left < 5 + fb) break;
        v->kind = FlatKind::kDateTime;
        SetParts(v->datetime, DateTime2FromBe(LoadBe(p, 5), LoadBe(p + 5, fb), fb));
        p += 5 + fb;
        continue;
      }
      case FlatOp::kTimestamp:
        if (left < 4) break;
        v->kind = FlatKind::kTimestampMicros;
        v->i64 = static_cast<int64_t>(Le32(p)) * 1000000;
        p += 4;
        continue;
      case FlatOp::kTimestamp2: {
        const size_t fb = c.frac_bytes;
        if (left < 4 + fb) break;
        v->kind = FlatKind::kTimestampMicros;
        v->i64 = Timestamp2MicrosFromBe(LoadBe(p, 4), LoadBe(p + 4, fb), fb);
        p += 4 + fb;
        continue;
      }
      case FlatOp::kText1: {
        if (left < 1) break;
        const size_t length = U8(p);
        if (left - 1 < length) break;
        row.SetText(*v, c.text_kind, std::string_view(p + 1, length));
        p += 1 + length;
        continue;
      }
      case FlatOp::kText2: {
        if (left < 2) break;
        const size_t length = Le16(p);
        if (left - 2 < length) break;
        row.SetText(*v, c.text_kind, std::string_view(p + 2, length));
        p += 2 + length;
        continue;
      }
      case FlatOp::kText3: {
        if (left < 3) break;
        const size_t length = Le24(p);
        if (left - 3 < length) break;
        row.SetText(*v, c.text_kind, std::string_view(p + 3, length));
        p += 3 + length;
        continue;
      }
      case FlatOp::kText4: {
        if (left < 4) break;
        const size_t length = Le32(p);
        if (left - 4 < length) break;
        row.SetText(*v, c.text_kind, std::string_view(p + 4, length));
        p += 4 + length;
        continue;
      }
      case FlatOp::kEnum: {
        if (left < 1) break;
        const size_t index = U8(p);
        const std::vector<std::string>& members = c.column->enum_values;
        if (index > members.size()) break;  // the reader path names the error
        row.SetText(*v, FlatKind::kString,
                    index == 0 ? std::string_view() : std::string_view(members[index - 1]));
        p += 1;
        continue;
      }
      default:  // kSlow, kNullType, kBit
        break;
    }
    // The reader path, from this value's first byte: the reader is moved there, the values so far
    // counted, and after the value the in-place decoding goes on from where the reader is.
    r.Skip(static_cast<size_t>(p - from));
    row.CommitValues(v);
    const size_t at = r.position();
    absl::Status st = ReadValue(r, c, i, row);
    if (!st.ok()) {
      failure.column = i;
      failure.at = at;
      return st;
    }
    p = from = r.ReadString(0).data();
    end = p + r.remaining();
    v = row.Room(n - ordinal - 1) - 1;  // the loop steps to the next value
  }
  r.Skip(static_cast<size_t>(p - from));
  row.CommitValues(v);
  return absl::OkStatus();
}

}  // namespace sluice::mysql
