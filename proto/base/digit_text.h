#pragma once
// Decimal digits for the text writers (MySQL's flat_row_json, decimal and short_double, the
// Postgres binary numeric): the "00".."99" pairs they copy two digits at a time, and the powers
// of ten that fit in 64 bits.

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice {

// "00" to "99": the two characters of n (< 100) are at [2n] and [2n + 1].
inline constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

// 10^0 to 10^19.
inline constexpr std::array<uint64_t, 20> kPowersOf10 = [] {
  std::array<uint64_t, 20> powers{};
  uint64_t p = 1;
  for (int i = 0; i < 20; ++i, p *= 10) powers[i] = p;
  return powers;
}();

// The number of decimal digits of `v` (1 for 0): floor(log10) from the bit width (1233 / 4096
// is just above log10(2)), corrected by one comparison.
[[gnu::always_inline]] inline int DecimalDigits(uint64_t v) {
  const uint64_t x = v | 1;
  const int t = (std::bit_width(x) * 1233) >> 12;
  return t + 1 - (x < kPowersOf10[t] ? 1 : 0);
}

// Writes the decimal digits of `v` backwards, two at a time, ending at `q` (which is returned);
// the caller leaves DecimalDigits(v) bytes of room before `q`.
template <typename Uint>
[[gnu::always_inline]] inline char* PutDigitsBackwards(char* q, Uint v) {
  char* const end = q;
  while (v >= 100) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[2 * (v % 100)], 2);
    v /= 100;
  }
  if (v >= 10) {
    std::memcpy(q - 2, &kDigitPairs[2 * v], 2);
  } else {
    q[-1] = static_cast<char>('0' + v);
  }
  return end;
}

}  // namespace sluice
