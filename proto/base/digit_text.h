#pragma once
// Decimal digits for the text writers (MySQL's flat_row_json, decimal and short_double, the
// Postgres binary numeric): the "00".."99" pairs they copy two digits at a time, and the powers
// of ten that fit in 64 bits.

#include <array>
#include <cstdint>

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

}  // namespace sluice
