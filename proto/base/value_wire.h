#pragma once
// The protobuf wire format of a sluice.v1.Value, written field by field into a caller's buffer
// (for encoders that build stored events without a message per value, e.g. snapshot rows).
// Each Append* writes the *contents* of one Value message (its one `kind` field), the bytes
// that Value::SerializeToString gives for the same value: generated code writes fields in
// number order, skips proto3 scalars that are zero, and always writes the set oneof member.
// Pure; no allocation beyond growing `out`. Tags, lengths and small messages are put together in
// a few bytes on the stack and appended at once (one append per value rather than per byte).

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "proto/base/utf8.h"
#include "proto/base/varint.h"

namespace sluice::value_wire {

// Wire tags: field number << 3 | wire type (0 varint, 1 fixed64, 2 length-delimited).
inline constexpr char kNull = 0x08;       // 1 bool
inline constexpr char kInt64 = 0x10;      // 2 int64
inline constexpr char kUint64 = 0x18;     // 3 uint64
inline constexpr char kDouble = 0x21;     // 4 double
inline constexpr char kDecimal = 0x2A;    // 5 string
inline constexpr char kString = 0x32;     // 6 string
inline constexpr char kBytes = 0x3A;      // 7 bytes
inline constexpr char kBool = 0x40;       // 8 bool
inline constexpr char kDate = 0x4A;       // 9 Date
inline constexpr char kTime = 0x52;       // 10 Time
inline constexpr char kDateTime = 0x5A;   // 11 DateTime
inline constexpr char kTimestamp = 0x60;  // 12 int64
inline constexpr char kJson = 0x6A;       // 13 string
inline constexpr char kRaw = 0x7A;        // 15 RawValue

// A v1::Date / v1::Time as plain numbers (the fields a text decoder fills).
struct DateParts {
  int32_t year = 0;
  uint32_t month = 0;
  uint32_t day = 0;
};
struct TimeParts {
  bool negative = false;
  uint32_t hours = 0;
  uint32_t minutes = 0;
  uint32_t seconds = 0;
  uint32_t micros = 0;
};

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes the varint of `v` at `p` (room for 10 bytes); returns the position after it.
inline char* PutVarint(uint64_t v, char* p) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// A proto3 scalar field at `p` (nothing when zero).
inline char* PutScalar(char tag, uint64_t v, char* p) {
  if (v == 0) return p;
  *p++ = tag;
  return PutVarint(v, p);
}

// tag, length, bytes. Up to 64 bytes (most text values) they are put together on the stack and
// appended at once (one append per value instead of two).
inline void AppendLengthDelimited(char tag, std::string_view bytes, std::string& out) {
  if (bytes.size() <= 64) {
    char field[66];
    field[0] = tag;
    field[1] = static_cast<char>(bytes.size());
    if (!bytes.empty()) std::memcpy(field + 2, bytes.data(), bytes.size());
    out.append(field, bytes.size() + 2);
    return;
  }
  char head[11];
  head[0] = tag;
  out.append(head, static_cast<size_t>(PutVarint(bytes.size(), head + 1) - head));
  out.append(bytes);
}

inline void AppendVarintField(char tag, uint64_t v, std::string& out) {
  char field[11];
  field[0] = tag;
  out.append(field, static_cast<size_t>(PutVarint(v, field + 1) - field));
}

// A proto3 scalar field: nothing when zero.
inline void AppendScalar(char tag, uint64_t v, std::string& out) {
  if (v != 0) AppendVarintField(tag, v, out);
}

inline void AppendNull(std::string& out) { AppendVarintField(kNull, 1, out); }
// int64 and int32 are varints of the two's complement (a negative one takes 10 bytes).
inline void AppendInt64(int64_t v, std::string& out) {
  AppendVarintField(kInt64, static_cast<uint64_t>(v), out);
}
inline void AppendUint64(uint64_t v, std::string& out) { AppendVarintField(kUint64, v, out); }
inline void AppendBool(bool v, std::string& out) { AppendVarintField(kBool, v ? 1 : 0, out); }
inline void AppendTimestampMicros(int64_t v, std::string& out) {
  AppendVarintField(kTimestamp, static_cast<uint64_t>(v), out);
}
inline void AppendDouble(double v, std::string& out) {
  char field[9];
  field[0] = kDouble;
  uint64_t bits = std::bit_cast<uint64_t>(v);
  for (int i = 1; i < 9; ++i) {
    field[i] = static_cast<char>(bits & 0xFF);
    bits >>= 8;
  }
  out.append(field, sizeof field);
}
// Text that is not well-formed UTF-8 is written as `bytes` (the same bytes), as MakeUtf8Safe
// (utf8_safe.h) does to a message: a `string` field holding it would make the event unparseable.
inline void AppendDecimal(std::string_view s, std::string& out) {
  AppendLengthDelimited(IsValidUtf8(s) ? kDecimal : kBytes, s, out);
}
inline void AppendString(std::string_view s, std::string& out) {
  AppendLengthDelimited(IsValidUtf8(s) ? kString : kBytes, s, out);
}
inline void AppendBytes(std::string_view s, std::string& out) {
  AppendLengthDelimited(kBytes, s, out);
}
inline void AppendJson(std::string_view s, std::string& out) {
  AppendLengthDelimited(IsValidUtf8(s) ? kJson : kBytes, s, out);
}

// The contents of a Date / Time message (no tag, no length) at `p`: at most 23 and 26 bytes (a
// negative year is a 10-byte varint).
inline char* PutDateFields(const DateParts& d, char* p) {
  p = PutScalar(0x08, static_cast<uint64_t>(static_cast<int64_t>(d.year)), p);
  p = PutScalar(0x10, d.month, p);
  return PutScalar(0x18, d.day, p);
}
inline char* PutTimeFields(const TimeParts& t, char* p) {
  p = PutScalar(0x08, t.negative ? 1 : 0, p);
  p = PutScalar(0x10, t.hours, p);
  p = PutScalar(0x18, t.minutes, p);
  p = PutScalar(0x20, t.seconds, p);
  return PutScalar(0x28, t.micros, p);
}

// Writes `tag`, then the length of what `put` writes, then those bytes, at `p`. `put` writes at
// most 127 bytes (one length byte), which every Date/Time/DateTime does.
template <typename Put>
inline char* PutSmallMessage(char tag, char* p, Put put) {
  *p++ = tag;
  char* const length = p++;
  p = put(p);
  *length = static_cast<char>(p - length - 1);
  return p;
}

inline void AppendDate(const DateParts& d, std::string& out) {
  char field[40];
  char* end = PutSmallMessage(kDate, field, [&](char* p) { return PutDateFields(d, p); });
  out.append(field, static_cast<size_t>(end - field));
}
inline void AppendTime(const TimeParts& t, std::string& out) {
  char field[48];
  char* end = PutSmallMessage(kTime, field, [&](char* p) { return PutTimeFields(t, p); });
  out.append(field, static_cast<size_t>(end - field));
}
inline void AppendDateTime(const DateParts& d, const TimeParts& t, std::string& out) {
  char field[96];
  char* end = PutSmallMessage(kDateTime, field, [&](char* p) {
    p = PutSmallMessage(0x0A, p, [&](char* q) { return PutDateFields(d, q); });
    return PutSmallMessage(0x12, p, [&](char* q) { return PutTimeFields(t, q); });
  });
  out.append(field, static_cast<size_t>(end - field));
}

// RawValue{type_name, text}: empty strings are skipped like any proto3 string.
inline void AppendRaw(std::string_view type_name, std::string_view text, std::string& out) {
  if (!IsValidUtf8(text) || !IsValidUtf8(type_name)) {
    AppendLengthDelimited(kBytes, text, out);
    return;
  }
  size_t inner = 0;
  if (!type_name.empty()) inner += 1 + VarintSize(type_name.size()) + type_name.size();
  if (!text.empty()) inner += 1 + VarintSize(text.size()) + text.size();
  out.push_back(kRaw);
  AppendVarint(inner, out);
  if (!type_name.empty()) AppendLengthDelimited(0x0A, type_name, out);
  if (!text.empty()) AppendLengthDelimited(0x12, text, out);
}

}  // namespace sluice::value_wire
