// AppendBinaryDecimal on random values of every DECIMAL(p, s), encoded here from their digits by
// the layout in decimal.h, against the text they must give (both the small-decimal path, up to 18
// integer and 9 fraction digits, and the general one).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocol/mysql/decimal.h"

namespace sluice::mysql {
namespace {

constexpr size_t kDig2Bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

// `digits` (count of them, as text) big-endian in the bytes a group of that many digits takes.
void PutGroup(std::string_view digits, std::string& out) {
  uint32_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<uint32_t>(c - '0');
  const size_t n = digits.size() == 9 ? 4 : kDig2Bytes[digits.size()];
  for (size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The binary DECIMAL(p, s) of the value with these digits (int_digits has p - s of them).
std::string Encode(const std::string& int_digits, const std::string& frac_digits, bool negative) {
  std::string out;
  const size_t lead = int_digits.size() % 9;
  if (lead > 0) PutGroup(std::string_view(int_digits).substr(0, lead), out);
  for (size_t i = lead; i < int_digits.size(); i += 9) {
    PutGroup(std::string_view(int_digits).substr(i, 9), out);
  }
  const size_t full = frac_digits.size() / 9 * 9;
  for (size_t i = 0; i < full; i += 9) PutGroup(std::string_view(frac_digits).substr(i, 9), out);
  if (full < frac_digits.size()) PutGroup(std::string_view(frac_digits).substr(full), out);
  out[0] = static_cast<char>(out[0] ^ 0x80);
  if (negative) {
    for (char& c : out) c = static_cast<char>(~c);
  }
  return out;
}

TEST(DecimalTest, RandomValuesOfEveryPrecisionAndScale) {
  std::mt19937_64 rng(17);
  for (int precision = 1; precision <= 65; ++precision) {
    for (int scale = 0; scale <= std::min(precision, 30); ++scale) {
      for (int round = 0; round < 40; ++round) {
        const int intg = precision - scale;
        // Some values with many leading zeros, some zero.
        const int nonzero_int = round % 5 == 0 ? 0 : static_cast<int>(rng() % (intg + 1));
        std::string int_digits(static_cast<size_t>(intg), '0');
        for (int i = intg - nonzero_int; i < intg; ++i) {
          int_digits[static_cast<size_t>(i)] = static_cast<char>('0' + rng() % 10);
        }
        std::string frac_digits(static_cast<size_t>(scale), '0');
        if (round % 7 != 0) {
          for (char& c : frac_digits) c = static_cast<char>('0' + rng() % 10);
        }
        const bool negative = rng() % 2 == 0;
        const std::string bytes = Encode(int_digits, frac_digits, negative);
        ASSERT_EQ(bytes.size(), BinaryDecimalSize(precision, scale));
        std::string want;
        const size_t first = int_digits.find_first_not_of('0');
        const bool zero = first == std::string::npos &&
                          frac_digits.find_first_not_of('0') == std::string::npos;
        if (negative && !zero) want += '-';
        want += first == std::string::npos ? "0" : int_digits.substr(first);
        if (scale > 0) want += "." + frac_digits;
        std::string got = "x";
        wire::ByteReader r(bytes);
        ASSERT_TRUE(AppendBinaryDecimal(r, precision, scale, got).ok());
        ASSERT_EQ(got, "x" + want) << "DECIMAL(" << precision << "," << scale << ")";
        EXPECT_EQ(r.remaining(), 0u);
      }
    }
  }
}

TEST(DecimalTest, GroupsAboveTheirDigitCountFailAndLeaveTheOutputAlone) {
  // DECIMAL(12,2) (small path) and DECIMAL(40,20) (general path), a full group of 10^9.
  for (const auto& [precision, scale] : {std::pair{12, 2}, std::pair{40, 20}}) {
    std::string bytes(BinaryDecimalSize(precision, scale), '\0');
    bytes[0] = static_cast<char>(0x80);
    const size_t group = (precision - scale) % 9 == 0 ? 0 : kDig2Bytes[(precision - scale) % 9];
    bytes[group] = static_cast<char>(0x3B);  // 0x3B9ACA00 = 10^9
    bytes[group + 1] = static_cast<char>(0x9A);
    bytes[group + 2] = static_cast<char>(0xCA);
    bytes[group + 3] = static_cast<char>(0x00);
    std::string out = "kept";
    wire::ByteReader r(bytes);
    const absl::Status st = AppendBinaryDecimal(r, precision, scale, out);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(st.message().find("a digit group exceeds its digit count"), std::string::npos);
    EXPECT_EQ(out, "kept");
  }
}

}  // namespace
}  // namespace sluice::mysql
