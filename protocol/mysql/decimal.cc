#include "protocol/mysql/decimal.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "protocol/mysql/digit_text.h"

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

// The digits of `v`, no leading zeros ("0" for 0), two at a time; returns the end.
char* PutUnsignedDigits(char* p, uint64_t v) {
  char digits[20];
  char* end = digits + sizeof digits;
  char* q = end;
  while (v >= 100) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[2 * (v % 100)], 2);
    v /= 100;
  }
  if (v >= 10) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[2 * v], 2);
  } else {
    *--q = static_cast<char>('0' + v);
  }
  std::memcpy(p, q, static_cast<size_t>(end - q));
  return p + (end - q);
}

// AppendBinaryDecimal for at most 18 integer and 9 fraction digits (DECIMAL(12,2) and the like):
// the integer part is one number below 10^18, the fraction one below 10^9. The same text and
// errors as the general code below.
absl::Status AppendSmallDecimal(std::string_view raw, int precision, int scale, size_t start,
                                std::string& out) {
  const auto* b = reinterpret_cast<const uint8_t*>(raw.data());
  const uint8_t mask = (b[0] & 0x80) == 0 ? 0xFF : 0x00;  // negative: complemented
  const bool negative = mask != 0;
  size_t pos = 0;
  bool ok = true;
  // A group of `digits` digits in its bytes, big-endian; the first byte's sign bit flipped back.
  auto take = [&](int digits) {
    const size_t n = digits == kDigitsPerGroup ? 4 : kDig2Bytes[digits];
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      uint8_t byte = b[pos] ^ mask;
      if (pos == 0) byte ^= 0x80;
      v = (v << 8) | byte;
      ++pos;
    }
    ok &= v < kPow10[digits];
    return v;
  };
  const int intg = precision - scale;
  uint64_t integer = 0;
  const int lead = intg % kDigitsPerGroup;
  if (lead > 0) integer = take(lead);
  for (int g = 0; g < intg / kDigitsPerGroup; ++g) integer = integer * kPow10[9] + take(9);
  const uint32_t fraction = scale > 0 ? take(scale) : 0;
  if (!ok) return GroupTooLarge(precision, scale, start);
  char text[40];
  char* q = text;
  if (negative && (integer != 0 || fraction != 0)) *q++ = '-';
  q = PutUnsignedDigits(q, integer);
  if (scale > 0) {
    *q++ = '.';
    q += scale;
    uint32_t f = fraction;
    char* d = q;
    for (int i = 0; i < scale; ++i) {
      *--d = static_cast<char>('0' + f % 10);
      f /= 10;
    }
  }
  out.append(text, static_cast<size_t>(q - text));
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendBinaryDecimal(wire::ByteReader& r, int precision, int scale, std::string& out) {
  if (precision <= 0 || precision > 65 || scale < 0 || scale > precision) {
    return absl::DataLossError(
        absl::StrCat("DECIMAL(", precision, ",", scale, ") is out of range"));
  }
  const size_t start = r.position();
  const size_t size = BinaryDecimalSize(precision, scale);
  std::string_view raw = r.ReadString(size);
  if (!r.ok()) return r.status("DECIMAL value");
  if (precision - scale <= 18 && scale <= 9) {
    return AppendSmallDecimal(raw, precision, scale, start, out);
  }
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
