#include "protocol/mysql/decimal.h"

#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"

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

absl::StatusOr<std::string> ReadBinaryDecimal(wire::ByteReader& r, int precision, int scale) {
  if (precision <= 0 || precision > 65 || scale < 0 || scale > precision) {
    return absl::DataLossError(
        absl::StrCat("DECIMAL(", precision, ",", scale, ") is out of range"));
  }
  size_t start = r.position();
  size_t size = BinaryDecimalSize(precision, scale);
  std::string_view raw = r.ReadString(size);
  if (!r.ok()) return r.status("DECIMAL value");
  uint8_t buf[40] = {};
  for (size_t i = 0; i < size; ++i) buf[i] = static_cast<uint8_t>(raw[i]);
  bool negative = (buf[0] & 0x80) == 0;
  buf[0] ^= 0x80;
  if (negative)
    for (size_t i = 0; i < size; ++i) buf[i] = static_cast<uint8_t>(~buf[i]);

  size_t pos = 0;
  auto take = [&](size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | buf[pos++];
    return v;
  };
  int intg = precision - scale;
  std::string int_digits;
  std::string frac_digits;
  auto append_group = [&](std::string& out, uint32_t v, int digits) -> bool {
    if (v >= kPow10[digits]) return false;
    char tmp[10];
    for (int i = digits - 1; i >= 0; --i) {
      tmp[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out.append(tmp, static_cast<size_t>(digits));
    return true;
  };
  bool ok = true;
  int lead = intg % kDigitsPerGroup;
  if (lead > 0) ok &= append_group(int_digits, take(kDig2Bytes[lead]), lead);
  for (int g = 0; g < intg / kDigitsPerGroup; ++g)
    ok &= append_group(int_digits, take(4), kDigitsPerGroup);
  for (int g = 0; g < scale / kDigitsPerGroup; ++g)
    ok &= append_group(frac_digits, take(4), kDigitsPerGroup);
  int tail = scale % kDigitsPerGroup;
  if (tail > 0) ok &= append_group(frac_digits, take(kDig2Bytes[tail]), tail);
  if (!ok) {
    return absl::DataLossError(absl::StrCat("DECIMAL(", precision, ",", scale, ") at offset ",
                                            start, ": a digit group exceeds its digit count"));
  }
  size_t first = int_digits.find_first_not_of('0');
  std::string out;
  bool zero = first == std::string::npos && frac_digits.find_first_not_of('0') == std::string::npos;
  if (negative && !zero) out.push_back('-');
  if (first == std::string::npos) {
    out.push_back('0');
  } else {
    out.append(int_digits, first, std::string::npos);
  }
  if (scale > 0) {
    out.push_back('.');
    out.append(frac_digits);
  }
  return out;
}

}  // namespace sluice::mysql
