#include "protocol/mysql/flat_row_json.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "proto/base/digit_text.h"
#include "proto/base/time_format.h"
#include "proto/base/utf8.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/short_double.h"

namespace sluice::mysql {
namespace {

// The common dates and times are written here directly, in the canonical text of
// proto/base/value_json.h (AppendValueJson) and time_format.h (AppendTimestampMicros); anything
// outside the ranges below (years past 9999, hours past 9999, fractions of a million micros and
// more, times before 1970) goes through those functions instead.

// Room for the fast form of any value of a fixed-size kind: a quoted datetime with micros is
// 28 bytes, an integer 20, a double kMaxDoubleJson.
constexpr size_t kScalarRoom = 48;
static_assert(kScalarRoom >= kMaxDoubleJson);

// Writes the `width` low decimal digits of `v`.
char* PutDigits(char* p, uint32_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// Writes the two decimal digits of `v` < 100.
char* PutTwo(char* p, uint32_t v) {
  std::memcpy(p, &kDigitPairs[2 * v], 2);
  return p + 2;
}

// Writes the 4 digits of `v` < 10000 at p.
inline void PutFour(char* p, uint32_t v) {
  const uint32_t high = v / 100;
  std::memcpy(p, &kDigitPairs[2 * high], 2);
  std::memcpy(p + 2, &kDigitPairs[2 * (v - 100 * high)], 2);
}

// The decimal digits of `v` (what std::to_chars writes): four at a time from the end while more
// than four are left (32-bit arithmetic when it fits), then two at a time.
[[gnu::always_inline]] inline char* PutUnsigned(char* p, uint64_t v) {
  char* const end = p + DecimalDigits(v);
  char* q = end;
  while (v > UINT32_MAX) {
    q -= 4;
    const uint64_t rest = v / 10000;
    PutFour(q, static_cast<uint32_t>(v - 10000 * rest));
    v = rest;
  }
  auto w = static_cast<uint32_t>(v);
  while (w >= 10000) {
    q -= 4;
    const uint32_t rest = w / 10000;
    PutFour(q, w - 10000 * rest);
    w = rest;
  }
  PutDigitsBackwards(q, w);
  return end;
}

[[gnu::always_inline]] inline char* PutSigned(char* p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return PutUnsigned(p, 0 - static_cast<uint64_t>(v));
  }
  return PutUnsigned(p, static_cast<uint64_t>(v));
}

// The two characters of kDigitPairs for v < 100, as a little-endian 16-bit word.
inline uint64_t DigitPairWord(uint32_t v) {
  uint16_t w;
  std::memcpy(&w, &kDigitPairs[2 * v], 2);
  return w;
}

// ".f" with the trailing zeros removed, nothing for 0. Precondition: micros < 1,000,000.
// Writes all six digits as one 8-byte word and counts the trailing '0's in it (room for 9
// bytes is needed).
[[gnu::always_inline]] inline char* PutFraction(char* p, uint32_t micros) {
  if (micros == 0) return p;
  *p++ = '.';
  const uint64_t word = DigitPairWord(micros / 10000) | DigitPairWord(micros / 100 % 100) << 16 |
                        DigitPairWord(micros % 100) << 32;
  std::memcpy(p, &word, 8);
  // The sixth digit is byte 5; the top two bytes are 0. micros != 0: a digit is not '0'.
  const int zeros = std::countl_zero((word ^ 0x303030303030ULL) << 16) / 8;
  return p + 6 - zeros;
}

bool FastDate(const DateParts& d) {
  return d.year >= 0 && d.year <= 9999 && d.month <= 99 && d.day <= 99;
}
bool FastTimeOfDay(const TimeParts& t) {
  return t.hours <= 9999 && t.minutes <= 99 && t.seconds <= 99 && t.micros < 1'000'000;
}

// Precondition: FastDate(d).
char* PutDate(char* p, const DateParts& d) {
  const auto year = static_cast<uint32_t>(d.year);
  p = PutTwo(p, year / 100);
  p = PutTwo(p, year % 100);
  *p++ = '-';
  p = PutTwo(p, d.month);
  *p++ = '-';
  return PutTwo(p, d.day);
}

// "HH:MM:SS[.f]", at least two hour digits. Precondition: FastTimeOfDay(t).
char* PutTimeOfDay(char* p, const TimeParts& t) {
  p = t.hours < 100 ? PutTwo(p, t.hours) : PutDigits(p, t.hours, t.hours < 1000 ? 3 : 4);
  *p++ = ':';
  p = PutTwo(p, t.minutes);
  *p++ = ':';
  p = PutTwo(p, t.seconds);
  return PutFraction(p, t.micros);
}

// `"YYYY-MM-DDTHH:MM:SS[.f]Z"` for 1970-01-01 up to the end of 9999 (FastTimestamp). The date of
// the last day rendered is kept (rows of one event are mostly of the same day).
bool FastTimestamp(int64_t micros) {
  constexpr int64_t kLastDay = 2'932'896;  // 9999-12-31
  return micros >= 0 && micros / kMicrosPerDay <= kLastDay;
}

// Precondition: FastTimestamp(micros).
char* PutTimestamp(char* p, int64_t micros) {
  struct DayCache {
    int64_t day = -1;
    char text[10];
  };
  thread_local DayCache cache;
  const int64_t day = micros / kMicrosPerDay;
  if (day != cache.day) {
    const CivilDate date = CivilFromDays(day);
    DateParts parts;
    parts.year = static_cast<int32_t>(date.year);
    parts.month = date.month;
    parts.day = date.day;
    PutDate(cache.text, parts);
    cache.day = day;
  }
  const int64_t time = micros % kMicrosPerDay;
  const auto seconds = static_cast<uint32_t>(time / kMicrosPerSecond);
  *p++ = '"';
  std::memcpy(p, cache.text, 10);
  p += 10;
  *p++ = 'T';
  p = PutTwo(p, seconds / 3600);
  *p++ = ':';
  p = PutTwo(p, seconds / 60 % 60);
  *p++ = ':';
  p = PutTwo(p, seconds % 60);
  p = PutFraction(p, static_cast<uint32_t>(time % kMicrosPerSecond));
  *p++ = 'Z';
  *p++ = '"';
  return p;
}

// True when no byte of the word needs escaping or validating in a JSON string: each is in
// 0x20..0x7F and is neither '"' nor '\\' (PutJsonString copies such bytes as they are).
bool PlainWord(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  // A byte is zero in v when (v - 1) borrows into its high bit while its own high bit is clear.
  auto any_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (x - 0x20 * kOnes) & ~x & kHigh;
  return ((x & kHigh) | below_space | any_zero(x ^ ('"' * kOnes)) |
          any_zero(x ^ ('\\' * kOnes))) == 0;
}

uint64_t Load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
uint64_t Load4(const char* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

// True when no byte of s[0, n) needs escaping in a JSON string (none below 0x20, no '"', no
// '\\'), checked a word at a time; bytes from 0x80 on are not looked at (see Utf8Text).
bool NothingToEscape(const char* s, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  // A byte is flagged only when it (or, through a borrow, a byte below a flagged one) matches.
  auto any_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  auto flagged = [&](uint64_t x) {
    return ((x - 0x20 * kOnes) & ~x & kHigh) | any_zero(x ^ ('"' * kOnes)) |
           any_zero(x ^ ('\\' * kOnes));
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (flagged(Load8(s + i)) != 0) return false;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}

// True when PutJsonString would copy s[0, n) as it is: well-formed UTF-8 with nothing to
// escape (text with non-ASCII letters, which PlainText leaves to PutJsonString).
bool Utf8Text(const char* s, size_t n) {
  return NothingToEscape(s, n) && IsValidUtf8(std::string_view(s, n));
}

// Copies s[0, n) to p: up to 16 bytes as two overlapping loads and stores each (no call for
// the short texts most values are), longer ones with memcpy.
[[gnu::always_inline]] inline void CopyText(char* p, const char* s, size_t n) {
  if (n > 16) {
    std::memcpy(p, s, n);
  } else if (n >= 8) {
    const uint64_t head = Load8(s);
    const uint64_t tail = Load8(s + n - 8);
    std::memcpy(p, &head, 8);
    std::memcpy(p + n - 8, &tail, 8);
  } else if (n >= 4) {
    const auto head = static_cast<uint32_t>(Load4(s));
    const auto tail = static_cast<uint32_t>(Load4(s + n - 4));
    std::memcpy(p, &head, 4);
    std::memcpy(p + n - 4, &tail, 4);
  } else if (n != 0) {
    const char first = s[0], middle = s[n / 2], last = s[n - 1];
    p[0] = first;
    p[n / 2] = middle;
    p[n - 1] = last;
  }
}

// True when every byte of s[0, n) is plain (PlainWord), checked a word at a time; the last
// bytes as words that overlap the ones before (never past the end).
[[gnu::always_inline]] inline bool PlainText(const char* s, size_t n) {
  constexpr uint64_t kSpaces = 0x2020202020202020ULL;  // plain filler
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      if (!PlainWord(Load8(s + i))) return false;
    }
    return i == n || PlainWord(Load8(s + n - 8));
  }
  if (n >= 4) return PlainWord(Load4(s) | Load4(s + n - 4) << 32);
  if (n == 0) return true;
  const uint64_t bytes = uint64_t{static_cast<uint8_t>(s[0])} |
                         uint64_t{static_cast<uint8_t>(s[n / 2])} << 8 |
                         uint64_t{static_cast<uint8_t>(s[n - 1])} << 16;
  return PlainWord(bytes | (kSpaces << 24));
}

// Writes the JSON of `v` after a prefix: `prefix(p)` writes at most `prefix_room` bytes at p and
// returns their end. Each kind reserves room for the prefix and its longest fast form once, and
// the text is committed. False when `v` is outside the fast forms: nothing was written then.
template <typename Prefix>
[[gnu::always_inline]] inline bool PutValue(const FlatRow& row, const FlatValue& v,
                                            size_t prefix_room, Prefix prefix, TextBuffer& out) {
  char* p;
  switch (v.kind) {
    case FlatKind::kNull:
      p = prefix(out.Reserve(prefix_room + 4));
      std::memcpy(p, "null", 4);
      p += 4;
      break;
    case FlatKind::kInt64:
      p = PutSigned(prefix(out.Reserve(prefix_room + kScalarRoom)), v.i64);
      break;
    case FlatKind::kUint64:
      p = PutUnsigned(prefix(out.Reserve(prefix_room + kScalarRoom)), v.u64);
      break;
    case FlatKind::kDouble: {
      p = prefix(out.Reserve(prefix_room + kScalarRoom));
      char* end = PutShortDouble(p, v.f64);  // std::to_chars's bytes, when it answers
      p = end != nullptr ? end : PutDoubleJson(p, v.f64);
      break;
    }
    case FlatKind::kDecimal:
      // A DECIMAL's text is digits, '-' and '.': nothing to escape.
      p = prefix(out.Reserve(prefix_room + v.size + 2));
      *p++ = '"';
      CopyText(p, row.text_data(v), v.size);
      p += v.size;
      *p++ = '"';
      break;
    case FlatKind::kSmallDecimal:
      // Its digits, '-' and '.': nothing to escape.
      p = prefix(out.Reserve(prefix_room + kSmallDecimalRoom + 2));
      *p++ = '"';
      p = PutSmallDecimal(p, FlatRow::small_decimal(v));
      *p++ = '"';
      break;
    case FlatKind::kString: {
      p = prefix(out.Reserve(prefix_room + JsonStringRoom(v.size)));
      const char* text = row.text_data(v);
      if (PlainText(text, v.size) || Utf8Text(text, v.size)) {  // as PutJsonString would
        *p++ = '"';
        CopyText(p, text, v.size);
        p += v.size;
        *p++ = '"';
      } else {
        p = PutJsonString(p, std::string_view(text, v.size));
      }
      break;
    }
    case FlatKind::kBytes:
      p = prefix(out.Reserve(prefix_room + 2 + (v.size + 2) / 3 * 4));
      *p++ = '"';
      p = PutBase64(p, row.text(v));
      *p++ = '"';
      break;
    case FlatKind::kDate:
      if (!FastDate(v.date)) return false;
      p = prefix(out.Reserve(prefix_room + kScalarRoom));
      *p++ = '"';
      p = PutDate(p, v.date);
      *p++ = '"';
      break;
    case FlatKind::kTime: {
      if (!FastTimeOfDay(v.time)) return false;
      const TimeParts& t = v.time;
      p = prefix(out.Reserve(prefix_room + kScalarRoom));
      *p++ = '"';
      if (t.negative && (t.hours != 0 || t.minutes != 0 || t.seconds != 0 || t.micros != 0)) {
        *p++ = '-';
      }
      p = PutTimeOfDay(p, t);
      *p++ = '"';
      break;
    }
    case FlatKind::kDateTime:
      if (!FastDate(v.datetime.date) || !FastTimeOfDay(v.datetime.time)) return false;
      p = prefix(out.Reserve(prefix_room + kScalarRoom));
      *p++ = '"';
      p = PutDate(p, v.datetime.date);
      *p++ = ' ';
      p = PutTimeOfDay(p, v.datetime.time);  // a DATETIME's time has no sign
      *p++ = '"';
      break;
    case FlatKind::kTimestampMicros:
      if (!FastTimestamp(v.i64)) return false;
      p = PutTimestamp(prefix(out.Reserve(prefix_room + kScalarRoom)), v.i64);
      break;
    default:  // kValue
      return false;
  }
  out.Commit(p);
  return true;
}

// Everything PutValue does not write: through the v1::Value and AppendValueJson.
[[gnu::noinline]] void AppendSlow(const FlatRow& row, const FlatValue& v, TextBuffer& out) {
  struct Scratch {
    v1::Value value;
    std::string json;
  };
  thread_local Scratch scratch;
  scratch.json.clear();
  if (v.kind == FlatKind::kValue) {
    AppendValueJson(row.slot(v), scratch.json);
  } else {
    FlatValueToProto(row, v, scratch.value);
    AppendValueJson(scratch.value, scratch.json);
  }
  out.Append(scratch.json);
}

// A buffer per thread for the std::string overloads.
TextBuffer& ThreadBuffer() {
  thread_local TextBuffer buffer;
  buffer.Clear();
  return buffer;
}

}  // namespace

ColumnKeys::ColumnKeys(const TableMap& table) {
  offsets_.reserve(table.columns.size() + 1);
  for (size_t i = 0; i < table.columns.size(); ++i) {
    offsets_.push_back(text_.size());
    AppendJsonString(table.ColumnName(i), text_);
    text_.push_back(':');
  }
  offsets_.push_back(text_.size());
  text_.append(kKeyPad, '\0');
}

void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, TextBuffer& out) {
  if (!PutValue(row, v, 0, [](char* p) { return p; }, out)) AppendSlow(row, v, out);
}

namespace {

// Writes `"key":value` of `v` (a value of `row`), after a ',' unless `comma` is 0.
[[gnu::always_inline]] inline void PutKeyedValue(const FlatRow& row, const FlatValue& v,
                                                 const ColumnKeys& keys, size_t comma,
                                                 TextBuffer& out) {
  const char* key = keys.key_block(v.column);
  const size_t key_size = keys.key_size(v.column);
  // ',' and the key: short keys are copied as a fixed-size block (the spare bytes are
  // overwritten by what follows).
  auto prefix = [&](char* p) {
    *p = ',';
    p += comma;
    std::memcpy(p, key, ColumnKeys::kKeyPad);
    if (key_size > ColumnKeys::kKeyPad) [[unlikely]] std::memcpy(p, key, key_size);
    return p + key_size;
  };
  const size_t prefix_room = 1 + std::max(key_size, ColumnKeys::kKeyPad);
  if (!PutValue(row, v, prefix_room, prefix, out)) {
    out.Commit(prefix(out.Reserve(prefix_room)));
    AppendSlow(row, v, out);
  }
}

// The value of `column` in `row`, or null when the image does not hold it.
const FlatValue* FindColumn(const FlatRow& row, uint32_t column) {
  for (const FlatValue& v : row.values()) {
    if (v.column == column) return &v;
    if (v.column > column) break;  // values are in column order
  }
  return nullptr;
}

}  // namespace

void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, TextBuffer& out) {
  out.Push('{');
  size_t comma = 0;  // 1 after the first value
  for (const FlatValue& v : row.values()) {
    PutKeyedValue(row, v, keys, comma, out);
    comma = 1;
  }
  out.Push('}');
}

void AppendFlatKeyJson(const FlatRow* after, const FlatRow* before,
                       std::span<const uint32_t> columns, const ColumnKeys& keys,
                       TextBuffer& out) {
  out.Push('{');
  size_t comma = 0;
  for (uint32_t k : columns) {
    if (k >= keys.size()) continue;
    const FlatRow* image = after;
    const FlatValue* value = image != nullptr ? FindColumn(*image, k) : nullptr;
    if (value == nullptr && before != nullptr) {
      image = before;
      value = FindColumn(*image, k);
    }
    if (value == nullptr) continue;
    PutKeyedValue(*image, *value, keys, comma, out);
    comma = 1;
  }
  out.Push('}');
}

void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, std::string& out) {
  TextBuffer& buffer = ThreadBuffer();
  AppendFlatValueJson(row, v, buffer);
  out.append(buffer.view());
}

void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, std::string& out) {
  TextBuffer& buffer = ThreadBuffer();
  AppendFlatRowJson(row, keys, buffer);
  out.append(buffer.view());
}

}  // namespace sluice::mysql
