#pragma once
// UTF-8: encoding one code point, and checking that bytes are well-formed UTF-8 (what protobuf
// requires of every `string` field: a stored event with an ill-formed one cannot be parsed by any
// reader). Header-only; pure.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

inline void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The length (2..4) of the well-formed UTF-8 sequence at p[0, n), where p[0] >= 0x80, or minus
// the length of the maximal ill-formed subpart there (Unicode §3.9, "U+FFFD Substitution of
// Maximal Subparts": each such subpart is replaced by one U+FFFD).
inline int Utf8Sequence(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  int len;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;  // a continuation byte, C0, C1 or F5..FF
  }
  if (n < 2 || p[1] < lo || p[1] > hi) return -1;
  for (int k = 2; k < len; ++k) {
    if (static_cast<size_t>(k) >= n || (p[k] & 0xC0) != 0x80) return -k;
  }
  return len;
}

// True when every byte of p[0, n) is below 0x80: eight bytes at a time, the last word
// overlapping the one before it (n >= 8); two overlapping 4-byte words (4 <= n < 8); else each
// byte.
inline bool IsAscii(const unsigned char* p, size_t n) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  if (n >= 8) {
    uint64_t word;
    for (size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&word, p + i, 8);
      if ((word & kHighBits) != 0) return false;
    }
    std::memcpy(&word, p + n - 8, 8);
    return (word & kHighBits) == 0;
  }
  uint32_t bits = 0;
  if (n >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    bits = head | tail;
  } else {
    for (size_t i = 0; i < n; ++i) bits |= p[i];
  }
  return (bits & static_cast<uint32_t>(kHighBits)) == 0;
}

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). Plain ASCII (most text) is recognised by IsAscii first; otherwise the bytes are
// walked from the start, ASCII eight bytes at a time.
inline bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (IsAscii(p, n)) return true;
  size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const int len = Utf8Sequence(p + i, n - i);
    if (len < 0) return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

// `s` with each maximal ill-formed subpart replaced by U+FFFD (well-formed input is unchanged).
inline std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      out.push_back(static_cast<char>(p[i++]));
      continue;
    }
    const int len = Utf8Sequence(p + i, s.size() - i);
    if (len > 0) {
      out.append(s.substr(i, static_cast<size_t>(len)));
      i += static_cast<size_t>(len);
    } else {
      out += "\xEF\xBF\xBD";
      i += static_cast<size_t>(-len);
    }
  }
  return out;
}

}  // namespace sluice
