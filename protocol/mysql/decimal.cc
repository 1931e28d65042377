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

// The big-endian value of the n (0..4) bytes at p.
inline uint32_t LoadBigEndian(const uint8_t* p, size_t n) {
  switch (n) {
    case 4:
      return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    case 3:
      return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
    case 2:
      return uint32_t{p[0]} << 8 | p[1];
    case 1:
      return p[0];
    default:
      return 0;
  }
}

// AppendBinaryDecimal for at most 18 integer and 9 fraction digits (DECIMAL(12,2) and the like):
// the integer part is one number below 10^18, the fraction one below 10^9. The same text and
// errors as the general code below. Precondition: raw.size() == BinaryDecimalSize(precision,
// scale), which is at most 12 here (8 bytes of integer groups, 4 of fraction).
absl::Status AppendSmallDecimal(std::string_view raw, int precision, int scale, size_t start,
                                std::string& out) {
  // The bytes with the sign bit flipped back and, for a negative value, complemented: then every
  // group is its digits' value, big-endian.
  // Copied as overlapping words (1 <= raw.size() <= 12) and flipped a word at a time; the
  // bytes past raw.size() are not used.
  uint8_t b[16] = {};
  const char* s = raw.data();
  const size_t size = raw.size();
  if (size >= 8) {
    std::memcpy(b, s, 8);
    std::memcpy(b + size - 8, s + size - 8, 8);
  } else if (size >= 4) {
    std::memcpy(b, s, 4);
    std::memcpy(b + size - 4, s + size - 4, 4);
  } else {
    b[0] = static_cast<uint8_t>(s[0]);
    b[size / 2] = static_cast<uint8_t>(s[size / 2]);
    b[size - 1] = static_cast<uint8_t>(s[size - 1]);
  }
  const bool negative = (b[0] & 0x80) == 0;
  const uint64_t mask = negative ? ~uint64_t{0} : 0;
  uint64_t words[2];
  std::memcpy(words, b, 16);
  words[0] ^= mask;
  words[1] ^= mask;
  std::memcpy(b, words, 16);
  b[0] ^= 0x80;
  const int intg = precision - scale;
  const int lead = intg % kDigitsPerGroup;
  size_t pos = kDig2Bytes[lead];
  uint64_t integer = LoadBigEndian(b, pos);
  bool ok = integer < kPow10[lead];
  for (int g = 0; g < intg / kDigitsPerGroup; ++g) {
    const uint32_t group = LoadBigEndian(b + pos, 4);
    ok &= group < kPow10[kDigitsPerGroup];
    integer = integer * kPow10[kDigitsPerGroup] + group;
    pos += 4;
  }
  const uint32_t fraction = LoadBigEndian(b + pos, kDig2Bytes[scale]);
  ok &= fraction < kPow10[scale];
  if (!ok) return GroupTooLarge(precision, scale, start);
  // '-', up to 18 integer digits ("0" for 0), '.', up to 9 fraction digits (zero-padded).
  char text[32];
  char* q = text;
  if (negative && (integer != 0 || fraction != 0)) *q++ = '-';
  // floor(log10) from the bit width (1233 / 4096 is just above log10(2)), corrected by one
  // comparison; integer < 10^18.
  const int t = (std::bit_width(integer | 1) * 1233) >> 12;
  const int digits = t + 1 - ((integer | 1) < kPowersOf10[t] ? 1 : 0);
  q += digits;
  char* d = q;
  while (integer >= 100) {
    d -= 2;
    std::memcpy(d, &kDigitPairs[2 * (integer % 100)], 2);
    integer /= 100;
  }
  if (integer >= 10) {
    std::memcpy(d - 2, &kDigitPairs[2 * integer], 2);
  } else {
    d[-1] = static_cast<char>('0' + integer);
  }
  if (scale > 0) {
    *q++ = '.';
    q += scale;
    PutDigitsBefore(q, fraction, scale);
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
  std::string_view raw = r.ReadString(BinaryDecimalSize(precision, scale));
  if (!r.ok()) return r.status("DECIMAL value");
  return AppendBinaryDecimalBytes(raw, precision, scale, start, out);
}

absl::Status AppendBinaryDecimalBytes(std::string_view raw, int precision, int scale, size_t start,
                                      std::string& out) {
  if (precision - scale <= 18 && scale <= 9) {
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
