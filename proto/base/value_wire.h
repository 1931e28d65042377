#pragma once
// The protobuf wire format of a sluice.v1.Value, written field by field into a caller's buffer
// (for encoders that build stored events without a message per value, e.g. snapshot rows).
// Each Append* writes the *contents* of one Value message (its one `kind` field), the bytes
// that Value::SerializeToString gives for the same value: generated code writes fields in
// number order, skips proto3 scalars that are zero, and always writes the set oneof member.
// Pure; no allocation beyond growing `out`.

#include <bit>
#include <cstdint>
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

inline void AppendLengthDelimited(char tag, std::string_view bytes, std::string& out) {
  out.push_back(tag);
  AppendVarint(bytes.size(), out);
  out.append(bytes);
}

inline void AppendVarintField(char tag, uint64_t v, std::string& out) {
  out.push_back(tag);
  AppendVarint(v, out);
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
  out.push_back(kDouble);
  uint64_t bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(bits & 0xFF));
    bits >>= 8;
  }
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

// The contents of a Date / Time message (no tag, no length).
inline void AppendDateFields(const DateParts& d, std::string& out) {
  AppendScalar(0x08, static_cast<uint64_t>(static_cast<int64_t>(d.year)), out);
  AppendScalar(0x10, d.month, out);
  AppendScalar(0x18, d.day, out);
}
inline void AppendTimeFields(const TimeParts& t, std::string& out) {
  AppendScalar(0x08, t.negative ? 1 : 0, out);
  AppendScalar(0x10, t.hours, out);
  AppendScalar(0x18, t.minutes, out);
  AppendScalar(0x20, t.seconds, out);
  AppendScalar(0x28, t.micros, out);
}

// Writes `tag`, then the length of what `fill` appends, then those bytes. `fill` writes at most
// 127 bytes (one length byte), which every Date/Time/DateTime does.
template <typename Fill>
inline void AppendSmallMessage(char tag, std::string& out, Fill fill) {
  out.push_back(tag);
  const size_t at = out.size();
  out.push_back(0);
  fill();
  out[at] = static_cast<char>(out.size() - at - 1);
}

inline void AppendDate(const DateParts& d, std::string& out) {
  AppendSmallMessage(kDate, out, [&] { AppendDateFields(d, out); });
}
inline void AppendTime(const TimeParts& t, std::string& out) {
  AppendSmallMessage(kTime, out, [&] { AppendTimeFields(t, out); });
}
inline void AppendDateTime(const DateParts& d, const TimeParts& t, std::string& out) {
  AppendSmallMessage(kDateTime, out, [&] {
    AppendSmallMessage(0x0A, out, [&] { AppendDateFields(d, out); });
    AppendSmallMessage(0x12, out, [&] { AppendTimeFields(t, out); });
  });
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
