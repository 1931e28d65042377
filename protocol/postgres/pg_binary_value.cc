#include "protocol/postgres/pg_binary_value.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "absl/strings/str_format.h"
#include "proto/base/digit_text.h"
#include "proto/base/time_format.h"
#include "proto/base/utf8.h"
#include "proto/base/value_wire.h"
#include "protocol/postgres/copy_data.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pg_value_wire.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::postgres {
namespace {

// numeric's sign word.
constexpr uint16_t kNumericPositive = 0x0000;
constexpr uint16_t kNumericNegative = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPlusInfinity = 0xD000;
constexpr uint16_t kNumericMinusInfinity = 0xF000;
constexpr uint16_t kNumericMaxDscale = 0x3FFF;  // the bits the on-disk header keeps
constexpr uint16_t kNumericBase = 10'000;

// Days from the Unix epoch to the Postgres epoch (2000-01-01).
constexpr int64_t kPostgresEpochUnixDays = 10'957;

absl::Status Bad(std::string_view type, std::string_view what) {
  return absl::DataLossError(absl::StrFormat("binary %s value: %s", type, what));
}

absl::Status WrongLength(std::string_view type, size_t got, size_t want) {
  return Bad(type, absl::StrFormat("%d bytes: expected %d", got, want));
}

// The integer of an integer type's binary form, which must be exactly its width.
absl::Status ReadInteger(uint32_t oid, std::string_view bytes, int64_t& out) {
  wire::ByteReader r(bytes);
  size_t want = 0;
  switch (oid) {
    case kInt2Oid:
      want = 2;
      out = r.ReadI16Be();
      break;
    case kInt4Oid:
      want = 4;
      out = r.ReadI32Be();
      break;
    case kOidOid:
      want = 4;
      out = r.ReadU32Be();
      break;
    default:  // kInt8Oid
      want = 8;
      out = r.ReadI64Be();
      break;
  }
  if (bytes.size() != want) {
    return WrongLength(BuiltinTypeName(oid).value_or("integer"), bytes.size(), want);
  }
  return absl::OkStatus();
}

void AppendInteger(int64_t v, std::string& out) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, end);
}

// numeric_send's form, checked.
struct Numeric {
  int16_t ndigits = 0;
  int16_t weight = 0;
  uint16_t sign = 0;
  uint16_t dscale = 0;
  std::string_view digits;  // ndigits big-endian UInt16s

  bool finite() const { return sign == kNumericPositive || sign == kNumericNegative; }
  // Base-10,000 digit g (0 outside the stored ones).
  uint32_t digit(int64_t g) const {
    if (g < 0 || g >= ndigits) return 0;
    return static_cast<uint32_t>(static_cast<uint8_t>(digits[2 * g])) << 8 |
           static_cast<uint8_t>(digits[2 * g + 1]);
  }
  // An upper bound of the text's length (finite values), with room for the whole last
  // fraction group PutNumericText writes before it cuts the text at dscale digits.
  size_t text_size() const {
    return 1 + (weight < 0 ? 1 : 4 * (static_cast<size_t>(weight) + 1)) +
           (dscale > 0 ? 1 + static_cast<size_t>(dscale) + 3 : 0);
  }
};

absl::Status ReadNumeric(std::string_view bytes, Numeric& n) {
  wire::ByteReader r(bytes);
  n.ndigits = r.ReadI16Be();
  n.weight = r.ReadI16Be();
  n.sign = r.ReadU16Be();
  n.dscale = r.ReadU16Be();
  if (!r.ok()) {
    return Bad("numeric", absl::StrFormat("%d bytes: expected a header of 8", bytes.size()));
  }
  if (n.ndigits < 0) {
    return Bad("numeric", absl::StrFormat("digit count %d: expected >= 0", n.ndigits));
  }
  const size_t want = 8 + 2 * static_cast<size_t>(n.ndigits);
  if (bytes.size() != want) return WrongLength("numeric", bytes.size(), want);
  n.digits = r.ReadRestString();
  switch (n.sign) {
    case kNumericPositive:
    case kNumericNegative:
    case kNumericNaN:
    case kNumericPlusInfinity:
    case kNumericMinusInfinity:
      break;
    default:
      return Bad("numeric", absl::StrFormat("sign 0x%04x: expected 0x0000, 0x4000, 0xC000, "
                                            "0xD000 or 0xF000",
                                            n.sign));
  }
  if (n.dscale > kNumericMaxDscale) {
    return Bad("numeric", absl::StrFormat("display scale %d: expected at most %d", n.dscale,
                                          kNumericMaxDscale));
  }
  for (int64_t g = 0; g < n.ndigits; ++g) {
    if (n.digit(g) >= kNumericBase) {
      return Bad("numeric",
                 absl::StrFormat("digit %d is %d: expected less than 10000", g, n.digit(g)));
    }
  }
  return absl::OkStatus();
}

std::string_view SpecialNumericText(uint16_t sign) {
  switch (sign) {
    case kNumericNaN:
      return "NaN";
    case kNumericPlusInfinity:
      return "Infinity";
    default:
      return "-Infinity";
  }
}


// The four decimal digits of `d` (< 10,000) at `p`.
inline void PutGroup(uint32_t d, char* p) {
  std::memcpy(p, kDigitPairs.data() + 2 * (d / 100), 2);
  std::memcpy(p + 2, kDigitPairs.data() + 2 * (d % 100), 2);
}

// numeric_out's text of a finite value at `p` (room for n.text_size()); returns its end.
char* PutNumericText(const Numeric& n, char* p) {
  if (n.sign == kNumericNegative) *p++ = '-';
  // The integer part: groups 0..weight, the first without leading zeros.
  if (n.weight < 0) {
    *p++ = '0';
  } else {
    const uint32_t first = n.digit(0);  // < 10,000
    p += first >= 100 ? (first >= 1000 ? 4 : 3) : (first >= 10 ? 2 : 1);
    PutDigitsBackwards(p, first);
    for (int64_t g = 1; g <= n.weight; ++g, p += 4) PutGroup(n.digit(g), p);
  }
  // dscale fraction digits: whole groups from weight + 1 on, cut at dscale.
  if (n.dscale > 0) {
    *p++ = '.';
    const int64_t groups = (n.dscale + 3) / 4;
    for (int64_t g = 0; g < groups; ++g) PutGroup(n.digit(int64_t{n.weight} + 1 + g), p + 4 * g);
    p += n.dscale;
  }
  return p;
}

// Calls `use` with the text of `n` (finite), written on the stack or in `scratch`.
template <typename Use>
void WithNumericText(const Numeric& n, std::string& scratch, Use use) {
  char small[128];
  const size_t max = n.text_size();
  char* begin = small;
  if (max > sizeof small) {
    scratch.resize(max);
    begin = scratch.data();
  }
  char* end = PutNumericText(n, begin);
  use(std::string_view(begin, static_cast<size_t>(end - begin)));
}

// The 36 characters of a uuid's text (8-4-4-4-12 lower-case hex digits) of its 16 bytes at `p`.
void PutUuidText(std::string_view b, char* text) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t p = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[p++] = '-';
    const auto byte = static_cast<uint8_t>(b[i]);
    text[p++] = kHex[byte >> 4];
    text[p++] = kHex[byte & 0xF];
  }
}

void AppendUuidText(std::string_view b, std::string& out) {
  char text[36];
  PutUuidText(b, text);
  out.append(text, sizeof text);
}

// Microseconds since 2000-01-01 00:00 as the civil date and the microseconds into that day.
std::pair<CivilDate, int64_t> SplitPgMicros(int64_t pg_micros) {
  int64_t days = pg_micros / kMicrosPerDay;
  int64_t time = pg_micros % kMicrosPerDay;
  if (time < 0) {
    time += kMicrosPerDay;
    --days;
  }
  return {CivilFromDays(days + kPostgresEpochUnixDays), time};
}

// The text timestamp_out (`zone` "") or timestamptz_out (`zone` "+00", TimeZone=UTC) prints in
// ISO style, but always with six fraction digits (the text decoder reads any 1-6): for the values
// the direct paths do not take.
void AppendTimestampText(int64_t pg_micros, std::string_view zone, std::string& out) {
  const auto [date, time] = SplitPgMicros(pg_micros);
  const bool bc = date.year <= 0;
  const int64_t year = bc ? 1 - date.year : date.year;
  const int64_t seconds = time / kMicrosPerSecond;
  absl::StrAppendFormat(&out, "%04d-%02d-%02d %02d:%02d:%02d.%06d%s%s", year, date.month, date.day,
                        seconds / 3600, seconds / 60 % 60, seconds % 60, time % kMicrosPerSecond,
                        zone, bc ? " BC" : "");
}

absl::Status AppendTimestamp(std::string_view bytes, const TypeResolver& resolver,
                             std::string& scratch, std::string& out) {
  if (bytes.size() != 8) return WrongLength("timestamp", bytes.size(), 8);
  wire::ByteReader r(bytes);
  const int64_t v = r.ReadI64Be();
  if (v == kInfinityMicros || v == kMinusInfinityMicros) {
    AppendTextValueWire(kTimestampOid, v == kInfinityMicros ? "infinity" : "-infinity", resolver,
                        out);
    return absl::OkStatus();
  }
  const auto [date, time] = SplitPgMicros(v);
  if (date.year >= 1 && date.year <= 9999) {
    const int64_t seconds = time / kMicrosPerSecond;
    value_wire::AppendDateTime(
        {static_cast<int32_t>(date.year), date.month, date.day},
        {false, static_cast<uint32_t>(seconds / 3600), static_cast<uint32_t>(seconds / 60 % 60),
         static_cast<uint32_t>(seconds % 60), static_cast<uint32_t>(time % kMicrosPerSecond)},
        out);
    return absl::OkStatus();
  }
  scratch.clear();
  AppendTimestampText(v, "", scratch);
  AppendTextValueWire(kTimestampOid, scratch, resolver, out);
  return absl::OkStatus();
}

absl::Status AppendTimestamptz(std::string_view bytes, const TypeResolver& resolver,
                               std::string& scratch, std::string& out) {
  if (bytes.size() != 8) return WrongLength("timestamptz", bytes.size(), 8);
  wire::ByteReader r(bytes);
  const int64_t v = r.ReadI64Be();
  if (v == kInfinityMicros || v == kMinusInfinityMicros) {
    value_wire::AppendTimestampMicros(v, out);
    return absl::OkStatus();
  }
  // Unix micros, unless they overflow or land on a value that means infinity: the text decoder
  // then keeps the text (a RawValue), so this does too.
  int64_t unix_micros = 0;
  if (!__builtin_add_overflow(v, kPostgresEpochUnixMicros, &unix_micros) &&
      unix_micros != kInfinityMicros && unix_micros != kMinusInfinityMicros) {
    value_wire::AppendTimestampMicros(unix_micros, out);
    return absl::OkStatus();
  }
  scratch.clear();
  AppendTimestampText(v, "+00", scratch);
  AppendTextValueWire(kTimestamptzOid, scratch, resolver, out);
  return absl::OkStatus();
}

// --- The fast path (AppendBinaryValueWireFast): the same bytes as the functions above give for
// the common values, with no Status; false sends a value to them. None is inlined: the dispatch
// on the type then ends in a tail call and saves no registers.

// A finite numeric whose text fits one length byte, as the general path stores it: a decimal
// field of PutNumericText's text, written on the stack and appended at once.
[[gnu::noinline]] bool AppendNumericFast(std::string_view bytes, std::string& out) {
  if (bytes.size() < 8) return false;
  // The header's four words, read directly once its size is known (a ByteReader here, whose
  // failure path takes its address, cost a store and a reload per read).
  const auto word = [&](size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) << 8 |
                                 static_cast<uint8_t>(bytes[at + 1]));
  };
  Numeric n;
  n.ndigits = static_cast<int16_t>(word(0));
  n.weight = static_cast<int16_t>(word(2));
  n.sign = word(4);
  n.dscale = word(6);
  if (n.ndigits < 0 || bytes.size() != 8 + 2 * static_cast<size_t>(n.ndigits) || !n.finite() ||
      n.dscale > kNumericMaxDscale) {
    return false;
  }
  n.digits = bytes.substr(8);
  for (int64_t g = 0; g < n.ndigits; ++g) {
    if (n.digit(g) >= kNumericBase) return false;
  }
  constexpr size_t kMaxText = 127;  // one length byte
  if (n.text_size() > kMaxText) return false;
  char field[2 + kMaxText];
  field[0] = value_wire::kDecimal;
  char* const end = PutNumericText(n, field + 2);
  field[1] = static_cast<char>(end - (field + 2));
  out.append(field, static_cast<size_t>(end - field));
  return true;
}

// Postgres-epoch micros of 0001-01-01 00:00 and of 10000-01-01 00:00: the timestamps whose
// year has four digits, which AppendTimestamp stores as a DateTime.
constexpr int64_t kUnixDaysOfYear1 = -719'162;
constexpr int64_t kUnixDaysOfYear10000 = 2'932'897;
constexpr int64_t kFirstPlainMicros = (kUnixDaysOfYear1 - kPostgresEpochUnixDays) * kMicrosPerDay;
constexpr int64_t kEndPlainMicros = (kUnixDaysOfYear10000 - kPostgresEpochUnixDays) * kMicrosPerDay;

// CivilFromDays (time_format.h) for the days of years 1 to 9999 (`unix_days` in
// [kUnixDaysOfYear1, kUnixDaysOfYear10000)), in unsigned 32-bit arithmetic with multiplications
// and shifts for the divisions, after C. Neri and L. Schneider, "Euclidean affine functions and
// their application to calendar algorithms" (2022): from the days since 0000-03-01 the
// century, the year of the century and the day of the year (the year starting in March), then
// the month and day. copy_binary_test checks every day of the range against CivilFromDays.
CivilDate CivilFromPlainDays(int64_t unix_days) {
  const auto n = static_cast<uint32_t>(unix_days + 719'468);  // days since 0000-03-01
  const uint32_t n1 = 4 * n + 3;
  const uint32_t century = n1 / 146'097;
  const uint32_t n2 = (n1 % 146'097) | 3;  // 4 * (day of the century) + 3
  const uint64_t p2 = uint64_t{2'939'745} * n2;
  const auto year_of_century = static_cast<uint32_t>(p2 >> 32);
  const uint32_t day_of_year = static_cast<uint32_t>(p2) / 2'939'745 / 4;  // from March 1
  const uint32_t n3 = 2'141 * day_of_year + 197'913;
  const bool jan_feb = day_of_year >= 306;
  CivilDate date;
  date.year = 100 * century + year_of_century + (jan_feb ? 1 : 0);
  date.month = (n3 >> 16) - (jan_feb ? 12 : 0);
  date.day = (n3 & 0xFFFF) / 2'141 + 1;
  return date;
}

// A timestamp of years 1 to 9999 as AppendTimestamp stores it (value_wire::AppendDateTime), its
// date from CivilFromPlainDays.
[[gnu::noinline]] bool AppendTimestampFast(std::string_view bytes, std::string& out) {
  if (bytes.size() != 8) return false;
  const int64_t v = wire::ByteReader(bytes).ReadI64Be();
  if (v < kFirstPlainMicros || v >= kEndPlainMicros) return false;  // infinity included
  const auto since_year1 = static_cast<uint64_t>(v - kFirstPlainMicros);
  const auto days = static_cast<int64_t>(since_year1 / kMicrosPerDay);
  const auto time = static_cast<uint64_t>(since_year1 % kMicrosPerDay);
  const CivilDate date = CivilFromPlainDays(kUnixDaysOfYear1 + days);
  const auto seconds = static_cast<uint32_t>(time / kMicrosPerSecond);
  value_wire::DateParts d;
  d.year = static_cast<int32_t>(date.year);
  d.month = static_cast<uint32_t>(date.month);
  d.day = static_cast<uint32_t>(date.day);
  value_wire::TimeParts t;
  t.hours = seconds / 3600;
  t.minutes = seconds / 60 % 60;
  t.seconds = seconds % 60;
  t.micros = static_cast<uint32_t>(time % kMicrosPerSecond);
  value_wire::AppendDateTime(d, t, out);
  return true;
}

// The integer of type Int (int2, int4, oid, int8), whose binary form is exactly its width.
template <typename Int>
[[gnu::noinline]] bool AppendIntegerFast(std::string_view bytes, std::string& out) {
  if (bytes.size() != sizeof(Int)) return false;
  wire::ByteReader r(bytes);
  int64_t v = 0;
  if constexpr (sizeof(Int) == 2) {
    v = r.ReadI16Be();
  } else if constexpr (std::is_same_v<Int, uint32_t>) {
    v = r.ReadU32Be();
  } else if constexpr (sizeof(Int) == 4) {
    v = r.ReadI32Be();
  } else {
    v = r.ReadI64Be();
  }
  value_wire::AppendInt64(v, out);
  return true;
}

[[gnu::noinline]] bool AppendBoolFast(std::string_view bytes, std::string& out) {
  if (bytes.size() != 1 || (bytes[0] != 0 && bytes[0] != 1)) return false;
  value_wire::AppendBool(bytes[0] == 1, out);
  return true;
}

[[gnu::noinline]] bool AppendFloat8Fast(std::string_view bytes, std::string& out) {
  if (bytes.size() != 8) return false;
  const double d = std::bit_cast<double>(wire::ByteReader(bytes).ReadU64Be());
  value_wire::AppendDouble(std::isnan(d) ? std::numeric_limits<double>::quiet_NaN() : d, out);
  return true;
}

// Copies n <= 64 bytes from `from` to `to` in at most two overlapping moves of a fixed size (the
// first and the last 32, 16, 8 or 4 bytes; single bytes below 4): no memcpy call.
inline void CopyUpTo64(const char* from, size_t n, char* to) {
  const auto two = [&]<size_t kWidth>(std::integral_constant<size_t, kWidth>) {
    char head[kWidth], tail[kWidth];
    std::memcpy(head, from, kWidth);
    std::memcpy(tail, from + n - kWidth, kWidth);
    std::memcpy(to, head, kWidth);
    std::memcpy(to + n - kWidth, tail, kWidth);
  };
  if (n >= 32) {
    two(std::integral_constant<size_t, 32>{});
  } else if (n >= 16) {
    two(std::integral_constant<size_t, 16>{});
  } else if (n >= 8) {
    two(std::integral_constant<size_t, 8>{});
  } else if (n >= 4) {
    two(std::integral_constant<size_t, 4>{});
  } else if (n > 0) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

// value_wire::AppendLengthDelimited with a tag of `valid` (well-formed UTF-8) or bytes, its field
// of up to 64 bytes put together with CopyUpTo64 (the text values of a snapshot row).
inline void AppendTextField(char valid, std::string_view bytes, std::string& out) {
  const char tag = IsValidUtf8(bytes) ? valid : value_wire::kBytes;
  if (bytes.size() > 64) {
    value_wire::AppendLengthDelimited(tag, bytes, out);
    return;
  }
  char field[66];
  field[0] = tag;
  field[1] = static_cast<char>(bytes.size());
  CopyUpTo64(bytes.data(), bytes.size(), field + 2);
  out.append(field, bytes.size() + 2);
}

// A text type's binary form is its text: stored as AppendTextValueWire stores that text.
[[gnu::noinline]] bool AppendTextFast(std::string_view bytes, std::string& out) {
  AppendTextField(value_wire::kString, bytes, out);
  return true;
}

[[gnu::noinline]] bool AppendJsonFast(std::string_view bytes, std::string& out) {
  AppendTextField(value_wire::kJson, bytes, out);
  return true;
}

[[gnu::noinline]] bool AppendJsonbFast(std::string_view bytes, std::string& out) {
  if (bytes.empty() || bytes[0] != 1) return false;
  value_wire::AppendJson(bytes.substr(1), out);
  return true;
}

// Unix micros, unless they overflow or land on a value that means infinity (AppendTimestamptz).
[[gnu::noinline]] bool AppendTimestamptzFast(std::string_view bytes, std::string& out) {
  if (bytes.size() != 8) return false;
  const int64_t v = wire::ByteReader(bytes).ReadI64Be();
  int64_t unix_micros = 0;
  if (v == kInfinityMicros || v == kMinusInfinityMicros ||
      __builtin_add_overflow(v, kPostgresEpochUnixMicros, &unix_micros) ||
      unix_micros == kInfinityMicros || unix_micros == kMinusInfinityMicros) {
    return false;
  }
  value_wire::AppendTimestampMicros(unix_micros, out);
  return true;
}

// A string field of the 36 characters, put together on the stack.
[[gnu::noinline]] bool AppendUuidFast(std::string_view bytes, std::string& out) {
  if (bytes.size() != 16) return false;
  char field[2 + 36];
  field[0] = value_wire::kString;
  field[1] = 36;
  PutUuidText(bytes, field + 2);
  out.append(field, sizeof field);
  return true;
}

}  // namespace

bool HasBinaryDecoder(uint32_t type_oid) {
  switch (type_oid) {
    case kBoolOid:
    case kFloat8Oid:
    case kTimestampOid:
    case kTimestamptzOid:
    case kJsonOid:
    case kJsonbOid:
      return true;
    default:
      return HasBinaryText(type_oid);
  }
}

bool HasBinaryText(uint32_t type_oid) {
  switch (type_oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kNumericOid:
    case kUuidOid:
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
      return true;
    default:
      return false;
  }
}

absl::Status AppendBinaryValueText(uint32_t type_oid, std::string_view bytes, std::string& out) {
  switch (type_oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      if (absl::Status s = ReadInteger(type_oid, bytes, v); !s.ok()) return s;
      AppendInteger(v, out);
      return absl::OkStatus();
    }
    case kNumericOid: {
      Numeric n;
      if (absl::Status s = ReadNumeric(bytes, n); !s.ok()) return s;
      if (!n.finite()) {
        out.append(SpecialNumericText(n.sign));
        return absl::OkStatus();
      }
      const size_t at = out.size();
      out.resize(at + n.text_size());
      out.resize(static_cast<size_t>(PutNumericText(n, out.data() + at) - out.data()));
      return absl::OkStatus();
    }
    case kUuidOid:
      if (bytes.size() != 16) return WrongLength("uuid", bytes.size(), 16);
      AppendUuidText(bytes, out);
      return absl::OkStatus();
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
      out.append(bytes);
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("binary value of type oid %d: no text rendering", type_oid));
  }
}

namespace binary_internal {

absl::Status AppendBinaryValueWireGeneral(uint32_t type_oid, std::optional<std::string_view> bytes,
                                          const TypeResolver& resolver, std::string& scratch,
                                          std::string& out) {
  if (!bytes) {
    value_wire::AppendNull(out);
    return absl::OkStatus();
  }
  switch (type_oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      if (absl::Status s = ReadInteger(type_oid, *bytes, v); !s.ok()) return s;
      value_wire::AppendInt64(v, out);
      return absl::OkStatus();
    }
    case kBoolOid:
      if (bytes->size() != 1) return WrongLength("bool", bytes->size(), 1);
      if ((*bytes)[0] != 0 && (*bytes)[0] != 1) {
        return Bad("bool",
                   absl::StrFormat("byte %d: expected 0 or 1", static_cast<uint8_t>((*bytes)[0])));
      }
      value_wire::AppendBool((*bytes)[0] == 1, out);
      return absl::OkStatus();
    case kFloat8Oid: {
      if (bytes->size() != 8) return WrongLength("float8", bytes->size(), 8);
      wire::ByteReader r(*bytes);
      const double d = std::bit_cast<double>(r.ReadU64Be());
      // float8out prints every NaN as "NaN", which the text decoder reads as the quiet NaN.
      value_wire::AppendDouble(std::isnan(d) ? std::numeric_limits<double>::quiet_NaN() : d, out);
      return absl::OkStatus();
    }
    case kTimestampOid:
      return AppendTimestamp(*bytes, resolver, scratch, out);
    case kTimestamptzOid:
      return AppendTimestamptz(*bytes, resolver, scratch, out);
    case kJsonbOid:
      if (bytes->empty() || (*bytes)[0] != 1) {
        return Bad("jsonb", "expected the version byte 1 before the document");
      }
      AppendTextValueWire(kJsonbOid, bytes->substr(1), resolver, out);
      return absl::OkStatus();
    // A text type's binary form is its text: stored as AppendTextValueWire stores that text
    // (pg_value_wire.cc, AppendFast), without its second dispatch on the type.
    case kJsonOid:
      value_wire::AppendJson(*bytes, out);
      return absl::OkStatus();
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
      value_wire::AppendString(*bytes, out);
      return absl::OkStatus();
    case kNumericOid: {
      Numeric n;
      if (absl::Status s = ReadNumeric(*bytes, n); !s.ok()) return s;
      if (!n.finite()) {
        AppendTextValueWire(kNumericOid, SpecialNumericText(n.sign), resolver, out);
        return absl::OkStatus();
      }
      // Digits, '-' and '.': what the text path stores as a decimal (ASCII, valid UTF-8).
      WithNumericText(n, scratch, [&](std::string_view text) {
        value_wire::AppendLengthDelimited(value_wire::kDecimal, text, out);
      });
      return absl::OkStatus();
    }
    case kUuidOid: {
      if (bytes->size() != 16) return WrongLength("uuid", bytes->size(), 16);
      scratch.clear();
      AppendUuidText(*bytes, scratch);
      value_wire::AppendString(scratch, out);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("binary value of type oid %d: no binary decoder", type_oid));
  }
}

FastDecoder FastDecoderFor(uint32_t type_oid) {
  switch (type_oid) {
    case kInt2Oid:
      return &AppendIntegerFast<int16_t>;
    case kInt4Oid:
      return &AppendIntegerFast<int32_t>;
    case kOidOid:
      return &AppendIntegerFast<uint32_t>;
    case kInt8Oid:
      return &AppendIntegerFast<int64_t>;
    case kBoolOid:
      return &AppendBoolFast;
    case kFloat8Oid:
      return &AppendFloat8Fast;
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
      return &AppendTextFast;
    case kJsonOid:
      return &AppendJsonFast;
    case kJsonbOid:
      return &AppendJsonbFast;
    case kNumericOid:
      return &AppendNumericFast;
    case kTimestampOid:
      return &AppendTimestampFast;
    case kTimestamptzOid:
      return &AppendTimestamptzFast;
    case kUuidOid:
      return &AppendUuidFast;
    default:
      return nullptr;
  }
}

bool AppendBinaryValueWireFast(uint32_t type_oid, std::string_view bytes, std::string& out) {
  const FastDecoder decode = FastDecoderFor(type_oid);
  return decode != nullptr && decode(bytes, out);
}

}  // namespace binary_internal

}  // namespace sluice::postgres
