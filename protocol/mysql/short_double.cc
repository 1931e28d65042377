#include "protocol/mysql/short_double.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "proto/base/digit_text.h"

namespace sluice::mysql {
namespace {

constexpr int kDigits = 15;
// 10^n as exact doubles (n <= 22).
constexpr double kExactPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr uint64_t Pow5(int n) {
  uint64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 5;
  return v;
}
// 5^n for n <= 22 (5^22 < 2^52).
constexpr auto kPow5 = [] {
  struct Table {
    uint64_t v[23];
  } t{};
  for (int n = 0; n < 23; ++n) t.v[n] = Pow5(n);
  return t;
}();

// m * 2^e * 10^n rounded to the nearest integer (halves up), for n in [0, 22] and a result
// below 2^64. Exact: m * 5^n < 2^53 * 2^52 fits in 128 bits.
uint64_t ScaleRound(uint64_t m, int e, int n) {
  const unsigned __int128 product = static_cast<unsigned __int128>(m) * kPow5.v[n];
  const int shift = e + n;
  if (shift >= 0) return static_cast<uint64_t>(product << shift);
  const int s = -shift;
  if (s >= 120) return 0;
  return static_cast<uint64_t>((product + (static_cast<unsigned __int128>(1) << (s - 1))) >> s);
}

// The 8 decimal digits of v < 10^8 as ASCII, the first digit in the low byte: the two 4-digit
// halves in 32-bit lanes, then hundreds and tens split in every lane at once (x * 10486 >> 20
// is x / 100 and x * 103 >> 10 is x / 10 for the values here; no lane carries into the next).
[[gnu::always_inline]] inline uint64_t EightDigits(uint32_t v) {
  const uint64_t halves = uint64_t{v / 10000} | uint64_t{v % 10000} << 32;
  const uint64_t hundreds = ((halves * 10486) >> 20) & 0x0000007F0000007FULL;
  const uint64_t pairs = hundreds | (halves - hundreds * 100) << 16;
  const uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000FULL;
  const uint64_t digits = tens | (pairs - tens * 10) << 8;
  return digits | 0x3030303030303030ULL;
}

// The 16 bytes of `text` at p (the room for them is there: see PutShortDouble).
[[gnu::always_inline]] inline void Put16(char* p, unsigned __int128 text) {
  const auto low = static_cast<uint64_t>(text);
  const auto high = static_cast<uint64_t>(text >> 64);
  std::memcpy(p, &low, 8);
  std::memcpy(p + 8, &high, 8);
}

}  // namespace

char* PutShortDouble(char* p, double d) {
  const uint64_t bits = std::bit_cast<uint64_t>(d);
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  if (biased == 0 || biased == 0x7FF) return nullptr;  // zero, subnormal, NaN, infinity
  const double a = d < 0 ? -d : d;
  if (!(a >= 1e-7 && a < 1e15)) return nullptr;
  const uint64_t m = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  const int e = biased - 1075;  // a = m * 2^e
  // floor(log10(a)) is floor(log2(a) * log10(2)) or one more.
  const int log2 = biased - 1023;
  const int exp10 = (log2 * 78913) >> 18;  // floor(log2 * 0.30103...), also for log2 < 0
  int n = kDigits - 1 - exp10;
  if (n < 0 || n > 22) return nullptr;
  uint64_t digits = ScaleRound(m, e, n);
  if (digits >= kPowersOf10[kDigits]) {  // floor(log10(a)) is exp10 + 1
    --n;
    if (n < 0) return nullptr;
    digits = ScaleRound(m, e, n);
    if (digits >= kPowersOf10[kDigits]) return nullptr;
  }
  if (digits < kPowersOf10[kDigits - 1]) return nullptr;  // not expected; leave it to to_chars
  // Reads back as `a`? Both operands are exact doubles: one correctly rounded operation.
  if (static_cast<double>(digits) / kExactPow10[n] != a) return nullptr;

  // The 15 digits as text in registers (text[0] the first digit, text[15] zero): built and
  // stored a word at a time and never read back from memory. (Built with 2-byte stores into a
  // stack array and copied out with 8- and 16-byte loads, every double cost the CPU two
  // store-forwarding stalls.)
  const uint64_t first = EightDigits(static_cast<uint32_t>(digits / 100000000));  // "0" + 7
  const uint64_t last = EightDigits(static_cast<uint32_t>(digits % 100000000));   // 8 digits
  const unsigned __int128 text = static_cast<unsigned __int128>(last) << 56 | first >> 8;
  // The trailing '0's of the 15 digits, a word at a time (text[0] is not '0'): in the high word
  // the last digit is byte 6 and byte 7 is zero.
  constexpr uint64_t kZeros = 0x3030303030303030ULL;
  int zeros;
  if (const uint64_t x = static_cast<uint64_t>(text >> 64) ^ (kZeros >> 8); x != 0) {
    zeros = std::countl_zero(x) / 8 - 1;
  } else {
    zeros = 7 + std::countl_zero(static_cast<uint64_t>(text) ^ kZeros) / 8;
  }
  const int k = kDigits - zeros;
  const int q = kDigits - k - n;
  if (d < 0) *p++ = '-';
  const int x = k - 1 + q;  // the scientific exponent, in [-7, 14]
  const int sci_len = k + (k > 1 ? 1 : 0) + 4;
  const int fixed_len = q >= 0 ? k + q : (k + q > 0 ? k + 1 : 2 - q);
  if (fixed_len <= sci_len) {
    if (q >= 0) {
      // The k digits and q zeros are text[0, k + q): the digits after the k are '0'.
      Put16(p, text);
      return p + k + q;
    }
    if (k + q > 0) {
      const int before = k + q;  // < k <= 15
      Put16(p, text);
      p[before] = '.';
      Put16(p + before + 1, text >> (8 * before));
      return p + k + 1;
    }
    // "0." and -q - k <= 6 zeros, then the digits.
    std::memcpy(p, "0.000000", 8);
    Put16(p + 2 + (-q - k), text);
    return p + 2 - q;
  }
  *p++ = static_cast<char>(text);
  if (k > 1) {
    *p++ = '.';
    Put16(p, text >> 8);
    p += k - 1;
  }
  *p++ = 'e';
  *p++ = x < 0 ? '-' : '+';
  const int ax = x < 0 ? -x : x;
  std::memcpy(p, &kDigitPairs[2 * ax], 2);
  return p + 2;
}

}  // namespace sluice::mysql
