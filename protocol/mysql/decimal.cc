#include "protocol/mysql/decimal.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "proto/base/digit_text.h"

namespace sluice::mysql {
namespace {

constexpr int kDigitsPerGroup = 9;
constexpr size_t kDig2Bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

}  // namespace

size_t BinaryDecimalSize(int precision, int scale) {
  int intg = precision - scale;
  return (intg / kDigitsPerGroup) * 4 + kDig2Bytes[intg % kDigitsPerGroup] +
         (scale / kDigitsPerGroup) * 4 + kDig2Bytes[scale % kDigitsPerGroup];
}

namespace {

// Writes the `count` low decimal digits of `v` (zero-padded) ending at `end`, two at a time.
void PutDigitsBefore(char* end, uint32_t v, int count) {
  while (count >= 2) {
    end -= 2;
    std::memcpy(end, &kDigitPairs[2 * (v % 100)], 2);
    v /= 100;
    count -= 2;
  }
  if (count == 1) end[-1] = static_cast<char>('0' + v % 10);
}

// The number of decimal digits of `v` > 0.
int DigitCount(uint32_t v) {
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

absl::Status GroupTooLarge(int precision, int scale, size_t start) {
  return absl::DataLossError(absl::StrCat("DECIMAL(", precision, ",", scale, ") at offset ", start,
                                          ": a digit group exceeds its digit count"));
}

}  // namespace

bool IsSmallDecimal(int precision, int scale) {
  return precision > 0 && precision <= 65 && scale >= 0 && scale <= precision &&
         precision - scale <= 18 && scale <= 9;
}

// At most 18 integer and 9 fraction digits (DECIMAL(12,2) and the like): the integer part is one
// number below 10^18, the fraction one below 10^9, and the value's bytes (at most 8 of integer
// groups and 4 of fraction) one big-endian number in registers, from overlapping loads whose
// shared bytes are equal, flipped; each group is then a bit field. (Flipped bytes in a stack
// array read back as groups made the CPU wait for the stores.)
bool DecodeSmallDecimal(std::string_view raw, int precision, int scale, SmallDecimal& out) {
  const char* s = raw.data();
  const size_t size = raw.size();
  unsigned __int128 v;
  if (size >= 8) {
    uint64_t head, tail;
    std::memcpy(&head, s, 8);
    std::memcpy(&tail, s + size - 8, 8);
    v = static_cast<unsigned __int128>(__builtin_bswap64(head)) << (8 * (size - 8)) |
        __builtin_bswap64(tail);
  } else if (size >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, s, 4);
    std::memcpy(&tail, s + size - 4, 4);
    v = static_cast<uint64_t>(__builtin_bswap32(head)) << (8 * (size - 4)) |
        __builtin_bswap32(tail);
  } else {
    v = 0;
    for (size_t i = 0; i < size; ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  }
  // The sign bit flipped back and, for a negative value, every byte complemented: then every
  // group is its digits' value.
  const unsigned __int128 top = static_cast<unsigned __int128>(0x80) << (8 * size - 8);
  const bool negative = (v & top) == 0;
  if (negative) v = ~v & ((top << 1) - 1);
  v ^= top;
  size_t bits = 8 * size;  // not yet taken
  auto take = [&](size_t n) {
    bits -= 8 * n;
    return static_cast<uint32_t>(v >> bits) & static_cast<uint32_t>((uint64_t{1} << (8 * n)) - 1);
  };
  const int intg = precision - scale;
  const int lead = intg % kDigitsPerGroup;
  uint64_t integer = take(kDig2Bytes[lead]);
  bool ok = integer < kPow10[lead];
  for (int g = 0; g < intg / kDigitsPerGroup; ++g) {
    const uint32_t group = take(4);
    ok &= group < kPow10[kDigitsPerGroup];
    integer = integer * kPow10[kDigitsPerGroup] + group;
  }
  const uint32_t fraction = take(kDig2Bytes[scale]);
  ok &= fraction < kPow10[scale];
  out.integer = integer;
  out.fraction = fraction;
  out.scale = scale;
  out.negative = negative && (integer != 0 || fraction != 0);
  return ok;
}

char* PutSmallDecimal(char* p, const SmallDecimal& d) {
  if (d.negative) *p++ = '-';
  // integer < 10^18.
  p += DecimalDigits(d.integer);
  PutDigitsBackwards(p, d.integer);
  if (d.scale > 0) {
    *p++ = '.';
    p += d.scale;
    PutDigitsBefore(p, d.fraction, d.scale);
  }
  return p;
}

namespace {

// AppendBinaryDecimal for IsSmallDecimal(precision, scale). Precondition: raw.size() ==
// BinaryDecimalSize(precision, scale), which is at most 12 here.
absl::Status AppendSmallDecimal(std::string_view raw, int precision, int scale, size_t start,
                                std::string& out) {
  SmallDecimal d;
  if (!DecodeSmallDecimal(raw, precision, scale, d)) {
    return GroupTooLarge(precision, scale, start);
  }
  char text[kSmallDecimalRoom];
  out.append(text, static_cast<size_t>(PutSmallDecimal(text, d) - text));
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendBinaryDecimal(wire::ByteReader& r, int precision, int scale, std::string& out) {
  if (precision <= 0 || precision > 65 || scale < 0 || scale > precision) {
    return absl::DataLossError(
        absl::StrCat("DECIMAL(", precision, ",", scale, ") is out of range"));
  }
  const size_t start = r.position();
  std::string_view raw = r.ReadString(BinaryDecimalSize(precision, scale));
  if (!r.ok()) return r.status("DECIMAL value");
  return AppendBinaryDecimalBytes(raw, precision, scale, start, out);
}

absl::Status AppendBinaryDecimalBytes(std::string_view raw, int precision, int scale, size_t start,
                                      std::string& out) {
  if (IsSmallDecimal(precision, scale)) {
    return AppendSmallDecimal(raw, precision, scale, start, out);
  }
  const size_t size = raw.size();
  // The bytes with the sign bit flipped back and, for a negative value, complemented: then every
  // group is its digits' value, big-endian. At most 65 digits: 30 bytes.
  uint8_t buf[40];
  const bool negative = (static_cast<uint8_t>(raw[0]) & 0x80) == 0;
  const uint8_t mask = negative ? 0xFF : 0x00;
  for (size_t i = 0; i < size; ++i) buf[i] = static_cast<uint8_t>(raw[i]) ^ mask;
  buf[0] ^= 0x80;

  // The groups, most significant first, each with its digit count.
  uint32_t groups[16];
  int counts[16];
  int ngroups = 0;
  size_t pos = 0;
  bool ok = true;
  auto take = [&](int digits) {
    const size_t n = digits == kDigitsPerGroup ? 4 : kDig2Bytes[digits];
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | buf[pos++];
    ok &= v < kPow10[digits];
    groups[ngroups] = v;
    counts[ngroups++] = digits;
  };
  const int intg = precision - scale;
  const int lead = intg % kDigitsPerGroup;
  if (lead > 0) take(lead);
  for (int g = 0; g < intg / kDigitsPerGroup; ++g) take(kDigitsPerGroup);
  const int int_groups = ngroups;
  for (int g = 0; g < scale / kDigitsPerGroup; ++g) take(kDigitsPerGroup);
  const int tail = scale % kDigitsPerGroup;
  if (tail > 0) take(tail);
  if (!ok) return GroupTooLarge(precision, scale, start);
  // The integer part without leading zeros ("0" when it is zero), then the fraction as stored.
  char text[80];
  char* q = text;
  int first = 0;
  while (first < int_groups && groups[first] == 0) ++first;
  bool zero = first == int_groups;
  for (int g = int_groups; g < ngroups && zero; ++g) zero = groups[g] == 0;
  if (negative && !zero) *q++ = '-';
  if (first == int_groups) {
    *q++ = '0';
  } else {
    const int digits = DigitCount(groups[first]);
    q += digits;
    PutDigitsBefore(q, groups[first], digits);
    for (int g = first + 1; g < int_groups; ++g) {
      q += counts[g];
      PutDigitsBefore(q, groups[g], counts[g]);
    }
  }
  if (scale > 0) {
    *q++ = '.';
    for (int g = int_groups; g < ngroups; ++g) {
      q += counts[g];
      PutDigitsBefore(q, groups[g], counts[g]);
    }
  }
  out.append(text, static_cast<size_t>(q - text));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadBinaryDecimal(wire::ByteReader& r, int precision, int scale) {
  std::string out;
  absl::Status st = AppendBinaryDecimal(r, precision, scale, out);
  if (!st.ok()) return st;
  return out;
}

}  // namespace sluice::mysql
