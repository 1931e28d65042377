#include "protocol/mysql/charset.h"

namespace sluice::mysql {
namespace {

// Windows-1252 code points for 0x80..0x9F (undefined positions map to the C1 control itself).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

struct Range {
  uint32_t first, last;
  CharsetKind kind;
  std::string_view name;
};

// MySQL 8 and MariaDB 10.x/11.x collation ids, by range.
constexpr Range kRanges[] = {
    {1, 1, CharsetKind::kOther, "big5"},
    {3, 3, CharsetKind::kOther, "dec8"},
    {4, 4, CharsetKind::kOther, "cp850"},
    {5, 5, CharsetKind::kLatin1, "latin1"},
    {6, 6, CharsetKind::kOther, "hp8"},
    {7, 7, CharsetKind::kOther, "koi8r"},
    {8, 8, CharsetKind::kLatin1, "latin1"},
    {9, 9, CharsetKind::kOther, "latin2"},
    {10, 10, CharsetKind::kOther, "swe7"},
    {11, 11, CharsetKind::kUtf8, "ascii"},
    {12, 12, CharsetKind::kOther, "ujis"},
    {13, 13, CharsetKind::kOther, "sjis"},
    {14, 14, CharsetKind::kOther, "cp1251"},
    {15, 15, CharsetKind::kLatin1, "latin1"},
    {16, 16, CharsetKind::kOther, "hebrew"},
    {18, 18, CharsetKind::kOther, "tis620"},
    {19, 19, CharsetKind::kOther, "euckr"},
    {22, 22, CharsetKind::kOther, "koi8u"},
    {24, 24, CharsetKind::kOther, "gb2312"},
    {25, 25, CharsetKind::kOther, "greek"},
    {26, 26, CharsetKind::kOther, "cp1250"},
    {28, 28, CharsetKind::kOther, "gbk"},
    {31, 31, CharsetKind::kLatin1, "latin1"},
    {33, 33, CharsetKind::kUtf8, "utf8mb3"},
    {35, 35, CharsetKind::kUcs2, "ucs2"},
    {45, 46, CharsetKind::kUtf8, "utf8mb4"},
    {47, 49, CharsetKind::kLatin1, "latin1"},
    {51, 51, CharsetKind::kOther, "cp1251"},
    {54, 55, CharsetKind::kUtf16, "utf16"},
    {56, 56, CharsetKind::kUtf16Le, "utf16le"},
    {57, 57, CharsetKind::kOther, "cp1256"},
    {60, 61, CharsetKind::kUtf32, "utf32"},
    {62, 62, CharsetKind::kUtf16Le, "utf16le"},
    {63, 63, CharsetKind::kBinary, "binary"},
    {65, 65, CharsetKind::kUtf8, "ascii"},
    {76, 76, CharsetKind::kUtf8, "utf8mb3"},
    {83, 83, CharsetKind::kUtf8, "utf8mb3"},
    {84, 84, CharsetKind::kOther, "big5"},
    {85, 85, CharsetKind::kOther, "euckr"},
    {86, 86, CharsetKind::kOther, "gb2312"},
    {87, 87, CharsetKind::kOther, "gbk"},
    {88, 88, CharsetKind::kOther, "sjis"},
    {90, 90, CharsetKind::kUcs2, "ucs2"},
    {91, 91, CharsetKind::kOther, "ujis"},
    {94, 94, CharsetKind::kLatin1, "latin1"},
    {95, 96, CharsetKind::kOther, "cp932"},
    {97, 98, CharsetKind::kOther, "eucjpms"},
    {101, 124, CharsetKind::kUtf16, "utf16"},
    {128, 159, CharsetKind::kUcs2, "ucs2"},
    {160, 183, CharsetKind::kUtf32, "utf32"},
    {192, 223, CharsetKind::kUtf8, "utf8mb3"},
    {224, 247, CharsetKind::kUtf8, "utf8mb4"},
    {248, 250, CharsetKind::kOther, "gb18030"},
    {255, 323, CharsetKind::kUtf8, "utf8mb4"},
    // MariaDB 10.10+ UCA-14.0.0 collations.
    {2048, 2303, CharsetKind::kUtf8, "utf8mb3"},
    {2304, 2559, CharsetKind::kUtf8, "utf8mb4"},
    {2560, 2815, CharsetKind::kUcs2, "ucs2"},
    {2816, 3071, CharsetKind::kUtf16, "utf16"},
    {3072, 3327, CharsetKind::kUtf32, "utf32"},
};

void AppendUtf8(uint32_t cp, std::string& out) {
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

}  // namespace

CharsetInfo CharsetForCollation(uint32_t id) {
  for (const Range& r : kRanges) {
    if (id >= r.first && id <= r.last) return {r.kind, r.name};
  }
  return {CharsetKind::kUnknown, ""};
}

std::string Latin1ToUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  for (char ch : in) {
    uint8_t b = static_cast<uint8_t>(ch);
    AppendUtf8(b >= 0x80 && b < 0xA0 ? kCp1252High[b - 0x80] : b, out);
  }
  return out;
}

std::optional<std::string> WideToUtf8(std::string_view in, CharsetKind kind) {
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[i])); };
  std::string out;
  out.reserve(in.size() * 3 / 2);
  if (kind == CharsetKind::kUtf32) {
    if (in.size() % 4 != 0) return std::nullopt;
    for (size_t i = 0; i < in.size(); i += 4) {
      uint32_t cp = byte(i) << 24 | byte(i + 1) << 16 | byte(i + 2) << 8 | byte(i + 3);
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return std::nullopt;
      AppendUtf8(cp, out);
    }
    return out;
  }
  if (kind != CharsetKind::kUcs2 && kind != CharsetKind::kUtf16 && kind != CharsetKind::kUtf16Le) {
    return std::nullopt;
  }
  if (in.size() % 2 != 0) return std::nullopt;
  bool le = kind == CharsetKind::kUtf16Le;
  auto unit = [&](size_t i) {
    return le ? (byte(i + 1) << 8 | byte(i)) : (byte(i) << 8 | byte(i + 1));
  };
  for (size_t i = 0; i < in.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u < 0xE000) {
      if (kind == CharsetKind::kUcs2 || u >= 0xDC00 || i + 3 >= in.size()) return std::nullopt;
      uint32_t lo = unit(i + 2);
      if (lo < 0xDC00 || lo >= 0xE000) return std::nullopt;
      u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
      i += 2;
    }
    AppendUtf8(u, out);
  }
  return out;
}

}  // namespace sluice::mysql
