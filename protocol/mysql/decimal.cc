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

absl::Status AppendBinaryDecimal(wire::ByteReader& r, int precision, int scale, std::string& out) {
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
  // At most 65 digits in all (precision <= 65), each part in its own buffer.
  char int_digits[72];
  char frac_digits[72];
  size_t n_int = 0, n_frac = 0;
  auto append_group = [](char* digits, size_t& n, uint32_t v, int count) -> bool {
    if (v >= kPow10[count]) return false;
    for (int i = count - 1; i >= 0; --i) {
      digits[n + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    n += static_cast<size_t>(count);
    return true;
  };
  int intg = precision - scale;
  bool ok = true;
  int lead = intg % kDigitsPerGroup;
  if (lead > 0) ok &= append_group(int_digits, n_int, take(kDig2Bytes[lead]), lead);
  for (int g = 0; g < intg / kDigitsPerGroup; ++g)
    ok &= append_group(int_digits, n_int, take(4), kDigitsPerGroup);
  for (int g = 0; g < scale / kDigitsPerGroup; ++g)
    ok &= append_group(frac_digits, n_frac, take(4), kDigitsPerGroup);
  int tail = scale % kDigitsPerGroup;
  if (tail > 0) ok &= append_group(frac_digits, n_frac, take(kDig2Bytes[tail]), tail);
  if (!ok) {
    return absl::DataLossError(absl::StrCat("DECIMAL(", precision, ",", scale, ") at offset ",
                                            start, ": a digit group exceeds its digit count"));
  }
  const std::string_view ints(int_digits, n_int);
  const std::string_view fracs(frac_digits, n_frac);
  const size_t first = ints.find_first_not_of('0');
  const bool zero =
      first == std::string_view::npos && fracs.find_first_not_of('0') == std::string_view::npos;
  if (negative && !zero) out.push_back('-');
  if (first == std::string_view::npos) {
    out.push_back('0');
  } else {
    out.append(ints.substr(first));
  }
  if (scale > 0) {
    out.push_back('.');
    out.append(fracs);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadBinaryDecimal(wire::ByteReader& r, int precision, int scale) {
  std::string out;
  absl::Status st = AppendBinaryDecimal(r, precision, scale, out);
  if (!st.ok()) return st;
  return out;
}

}  // namespace sluice::mysql
