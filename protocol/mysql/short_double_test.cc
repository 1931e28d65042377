// PutShortDouble against std::to_chars on millions of doubles: random bit patterns, decimals of
// every digit count and magnitude (and their neighbouring doubles), floats widened to double,
// integers, powers of ten and the edges of the fast range. The bytes must be equal whenever the
// fast path answers, and it must answer for most short decimals.
#include "protocol/mysql/short_double.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <string_view>

namespace sluice::mysql {
namespace {

struct Counts {
  size_t checked = 0;
  size_t fast = 0;
};

void Check(double d, Counts& counts) {
  char want[64];
  const char* want_end = std::to_chars(want, want + sizeof want, d).ptr;
  char got[64];
  std::memset(got, 'x', sizeof got);
  const char* got_end = PutShortDouble(got, d);
  ++counts.checked;
  if (got_end == nullptr) return;
  ++counts.fast;
  ASSERT_EQ(std::string_view(got, static_cast<size_t>(got_end - got)),
            std::string_view(want, static_cast<size_t>(want_end - want)))
      << "bits 0x" << std::hex << std::bit_cast<uint64_t>(d);
  ASSERT_LE(got_end - got, 32);
}

TEST(ShortDoubleTest, SameBytesAsToChars) {
  std::mt19937_64 rng(1);
  Counts all;
  Counts decimals;
  // Random bit patterns (mostly outside the fast range) and random doubles in it.
  for (int i = 0; i < 300000; ++i) {
    Check(std::bit_cast<double>(rng()), all);
    const double in_range = std::ldexp(static_cast<double>(rng() >> 11), -53) *
                            std::pow(10.0, static_cast<int>(rng() % 24) - 8);
    Check(in_range, all);
    Check(-in_range, all);
  }
  // Decimals i / 10^j of 1..17 digits, their neighbours, and floats.
  for (int i = 0; i < 400000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 17);
    uint64_t v = rng() % static_cast<uint64_t>(std::pow(10.0, digits));
    const int scale = static_cast<int>(rng() % 23);
    const double d = static_cast<double>(v) / std::pow(10.0, scale);
    Check(d, decimals);
    Check(-d, decimals);
    Check(std::nextafter(d, 0.0), all);
    Check(std::nextafter(d, 1e300), all);
    Check(static_cast<double>(static_cast<float>(d)), all);
    if (HasFailure()) return;
  }
  // Powers of ten, the edges of the range and their neighbours, integers.
  for (int e = -12; e <= 17; ++e) {
    const double p = std::pow(10.0, e);
    for (const double d : {p, std::nextafter(p, 0.0), std::nextafter(p, 1e300), 9.5 * p,
                           9.999999999999999 * p, 9.9999999999999999 * p, 1.5 * p}) {
      Check(d, all);
      Check(-d, all);
    }
  }
  for (const double d : {1e-7, 1e15, 999999999999999.0, 999999999999999.9, 0.0, -0.0, 5e-324,
                         1.7976931348623157e308, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 100.0, 1e14}) {
    Check(d, all);
    Check(-d, all);
  }
  for (uint64_t v = 0; v < 200000; ++v) Check(static_cast<double>(v * 7919), all);
  // Most short decimals take the fast path (else the formatter would be pointless).
  EXPECT_GT(decimals.fast * 2, decimals.checked) << decimals.fast << " of " << decimals.checked;
  RecordProperty("checked", static_cast<int>(all.checked + decimals.checked));
}

}  // namespace
}  // namespace sluice::mysql
