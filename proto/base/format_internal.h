#pragma once
// Small append-to-string helpers shared by the renderers in proto/base. Internal to proto/base:
// other folders use value_json.h and time_format.h instead.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::internal {

// Appends the decimal digits of `v`, left-padded with zeros to at least `width` digits.
inline void AppendPaddedDecimal(uint64_t v, int width, std::string& out) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  const int len = static_cast<int>(result.ptr - buf);
  if (len < width) out.append(static_cast<size_t>(width - len), '0');
  out.append(buf, result.ptr);
}

// Appends the decimal digits of `v` (with a leading '-' when negative).
template <typename Int>
inline void AppendDecimal(Int v, std::string& out) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

// `text` in double quotes for an error message: at most 64 bytes of it, with quotes,
// backslashes and bytes outside printable ASCII written as \xNN, and "..." when cut.
inline std::string QuoteForError(std::string_view text) {
  constexpr size_t kMaxBytes = 64;
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxBytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  if (text.size() > kMaxBytes) out += "...";
  return out;
}

}  // namespace sluice::internal
