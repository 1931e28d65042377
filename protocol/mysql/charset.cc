#include "protocol/mysql/charset.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <span>
#include <vector>

#include "proto/base/utf8.h"

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
    {1, 1, CharsetKind::kMultiByte, "big5"},
    {3, 3, CharsetKind::kOther, "dec8"},
    {4, 4, CharsetKind::kOther, "cp850"},
    {5, 5, CharsetKind::kLatin1, "latin1"},
    {6, 6, CharsetKind::kOther, "hp8"},
    {7, 7, CharsetKind::kOther, "koi8r"},
    {8, 8, CharsetKind::kLatin1, "latin1"},
    {9, 9, CharsetKind::kOther, "latin2"},
    {10, 10, CharsetKind::kOther, "swe7"},
    {11, 11, CharsetKind::kUtf8, "ascii"},
    {12, 12, CharsetKind::kMultiByte, "ujis"},
    {13, 13, CharsetKind::kMultiByte, "sjis"},
    {14, 14, CharsetKind::kOther, "cp1251"},
    {15, 15, CharsetKind::kLatin1, "latin1"},
    {16, 16, CharsetKind::kOther, "hebrew"},
    {18, 18, CharsetKind::kOther, "tis620"},
    {19, 19, CharsetKind::kMultiByte, "euckr"},
    {22, 22, CharsetKind::kOther, "koi8u"},
    {24, 24, CharsetKind::kMultiByte, "gb2312"},
    {25, 25, CharsetKind::kOther, "greek"},
    {26, 26, CharsetKind::kOther, "cp1250"},
    {28, 28, CharsetKind::kMultiByte, "gbk"},
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
    {84, 84, CharsetKind::kMultiByte, "big5"},
    {85, 85, CharsetKind::kMultiByte, "euckr"},
    {86, 86, CharsetKind::kMultiByte, "gb2312"},
    {87, 87, CharsetKind::kMultiByte, "gbk"},
    {88, 88, CharsetKind::kMultiByte, "sjis"},
    {90, 90, CharsetKind::kUcs2, "ucs2"},
    {91, 91, CharsetKind::kMultiByte, "ujis"},
    {94, 94, CharsetKind::kLatin1, "latin1"},
    {95, 96, CharsetKind::kMultiByte, "cp932"},
    {97, 98, CharsetKind::kMultiByte, "eucjpms"},
    {101, 124, CharsetKind::kUtf16, "utf16"},
    {128, 159, CharsetKind::kUcs2, "ucs2"},
    {160, 183, CharsetKind::kUtf32, "utf32"},
    {192, 223, CharsetKind::kUtf8, "utf8mb3"},
    {224, 247, CharsetKind::kUtf8, "utf8mb4"},
    {248, 250, CharsetKind::kMultiByte, "gb18030"},
    {255, 323, CharsetKind::kUtf8, "utf8mb4"},
    // MariaDB 10.10+ UCA-14.0.0 collations.
    {2048, 2303, CharsetKind::kUtf8, "utf8mb3"},
    {2304, 2559, CharsetKind::kUtf8, "utf8mb4"},
    {2560, 2815, CharsetKind::kUcs2, "ucs2"},
    {2816, 3071, CharsetKind::kUtf16, "utf16"},
    {3072, 3327, CharsetKind::kUtf32, "utf32"},
};

// MariaDB's NO PAD collations are numbered 1024 + the id of a PAD SPACE collation of the same
// charset (utf8mb4_general_nopad_ci = 1069 = 1024 + 45, gbk_nopad_bin = 1111 = 1024 + 87, ...).
constexpr uint32_t kMariaNopadFirst = 1024;
constexpr uint32_t kMariaNopadLast = 2047;

// --- Multi-byte CJK charsets ---------------------------------------------------------------

// How to find where one character ends, for the charsets whose exceptions are applied by hand.
enum class Framing : uint8_t {
  kNone,   // iconv sees the whole text; no exceptions
  kBig5,   // lead 0x81-0xFE: 2 bytes
  kSjis,   // lead 0x81-0x9F, 0xE0-0xFC: 2 bytes
  kEucJp,  // 0x8E, 0xA1-0xFE: 2 bytes; 0x8F: 3 bytes
};

// A code (its bytes as a big-endian number) that MySQL maps to `cp` where glibc differs.
struct Exception {
  uint32_t code;
  uint32_t cp;
};
// Codes first..last (same lead byte) map to consecutive code points from `cp`.
struct ExceptionRange {
  uint32_t first, last, cp;
};

constexpr Exception kBig5Exceptions[] = {{0xA145, 0x2022}, {0xA14E, 0xFF64}, {0xA1C2, 0x203E},
                                         {0xA1E3, 0x223C}, {0xA1F2, 0x2641}, {0xA1F3, 0x2609},
                                         {0xA241, 0xFF0F}, {0xA242, 0xFF3C}, {0xA244, 0x00A5},
                                         {0xA246, 0x00A2}, {0xA247, 0x00A3}};
// The ETEN extension rows: glibc maps them to the private use area, MySQL to kana and Cyrillic.
constexpr ExceptionRange kBig5Ranges[] = {
    {0xC6A1, 0xC6A1, 0x30FE}, {0xC6A2, 0xC6A3, 0x309D}, {0xC6A4, 0xC6A4, 0x3005},
    {0xC6A5, 0xC6F7, 0x3041}, {0xC6F8, 0xC6FE, 0x30A1}, {0xC740, 0xC77E, 0x30A8},
    {0xC7A1, 0xC7B0, 0x30E7}, {0xC7B1, 0xC7B2, 0x0414}, {0xC7B3, 0xC7B3, 0x0401},
    {0xC7B4, 0xC7BA, 0x0416}, {0xC7BB, 0xC7CD, 0x0423}, {0xC7CE, 0xC7CE, 0x0451},
    {0xC7CF, 0xC7E8, 0x0436}, {0xC7E9, 0xC7F2, 0x2460}, {0xC7F3, 0xC7FC, 0x2474}};
constexpr Exception kSjisExceptions[] = {{0x815F, 0x005C}, {0x8160, 0x301C}, {0x8161, 0x2016},
                                         {0x817C, 0x2212}, {0x8191, 0x00A2}, {0x8192, 0x00A3},
                                         {0x81CA, 0x00AC}};
constexpr uint32_t kEucJpUserDefined = 0xE000;
constexpr uint32_t kEucJpUserDefinedRows = 10 * 94;
constexpr Exception kUjisExceptions[] = {{0xA1C0, 0x005C}, {0x8FA2B7, 0x007E}};

struct MultiByteCharset {
  std::string_view name;   // MySQL's
  const char* iconv_name;  // glibc's
  Framing framing;
  std::span<const Exception> exceptions;
  std::span<const ExceptionRange> ranges;
  // ujis: MySQL maps the user-defined rows 0xF5-0xFE (2 bytes, then 3 bytes after 0x8F) to the
  // private use area from U+E000, 94 codes per row; glibc's EUC-JP rejects them.
  bool eucjp_user_defined = false;
};

constexpr MultiByteCharset kMultiByte[] = {
    {"big5", "BIG5", Framing::kBig5, kBig5Exceptions, kBig5Ranges},
    {"cp932", "CP932", Framing::kNone, {}, {}},
    {"eucjpms", "EUC-JP-MS", Framing::kNone, {}, {}},
    {"euckr", "CP949", Framing::kNone, {}, {}},
    {"gb18030", "GB18030", Framing::kNone, {}, {}},
    {"gb2312", "EUC-CN", Framing::kNone, {}, {}},
    {"gbk", "GBK", Framing::kNone, {}, {}},
    {"sjis", "CP932", Framing::kSjis, kSjisExceptions, {}},
    {"ujis", "EUC-JP", Framing::kEucJp, kUjisExceptions, {}, true},
};
constexpr size_t kMultiByteCount = sizeof(kMultiByte) / sizeof(kMultiByte[0]);

// One iconv descriptor per charset and thread, opened on first use and closed at thread exit.
class IconvCache {
 public:
  ~IconvCache() {
    for (iconv_t cd : cds_)
      if (cd != kUnopened && cd != kFailed) iconv_close(cd);
  }
  // nullopt if glibc lacks the conversion.
  std::optional<iconv_t> Get(size_t index) {
    iconv_t& cd = cds_[index];
    if (cd == kUnopened) {
      cd = iconv_open("UTF-8", kMultiByte[index].iconv_name);
      if (cd == kFailed) return std::nullopt;
    }
    if (cd == kFailed) return std::nullopt;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset the shift state
    return cd;
  }

 private:
  static inline const iconv_t kUnopened = nullptr;
  static inline const iconv_t kFailed = reinterpret_cast<iconv_t>(-1);
  std::array<iconv_t, kMultiByteCount> cds_{};
};

// Appends `in` converted by `cd`; false on an invalid or incomplete sequence.
bool IconvAppend(iconv_t cd, std::string_view in, std::string& out) {
  if (in.empty()) return true;
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  size_t at = out.size();
  // Every charset here needs at most 3 UTF-8 bytes per input byte (1-byte kana -> 3 bytes).
  out.resize(at + 3 * in.size() + 4);
  while (true) {
    char* dst = out.data() + at;
    size_t dst_left = out.size() - at;
    size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
    at = out.size() - dst_left;
    if (r != static_cast<size_t>(-1)) break;
    if (errno != E2BIG) return false;
    out.resize(out.size() + 2 * src_left + 16);
  }
  // Flush any pending shift state (none of these charsets has one, but be correct).
  char* dst = out.data() + at;
  size_t dst_left = out.size() - at;
  if (iconv(cd, nullptr, nullptr, &dst, &dst_left) == static_cast<size_t>(-1)) return false;
  out.resize(out.size() - dst_left);
  return src_left == 0;
}

size_t CharLength(Framing framing, uint8_t lead) {
  switch (framing) {
    case Framing::kBig5:
      return lead >= 0x81 && lead <= 0xFE ? 2 : 1;
    case Framing::kSjis:
      return (lead >= 0x81 && lead <= 0x9F) || (lead >= 0xE0 && lead <= 0xFC) ? 2 : 1;
    case Framing::kEucJp:
      return lead == 0x8F ? 3 : (lead == 0x8E || (lead >= 0xA1 && lead <= 0xFE)) ? 2 : 1;
    case Framing::kNone:
      break;
  }
  return 1;
}

std::optional<uint32_t> ExceptionFor(const MultiByteCharset& cs, uint32_t code) {
  for (const Exception& e : cs.exceptions)
    if (e.code == code) return e.cp;
  for (const ExceptionRange& r : cs.ranges)
    if (code >= r.first && code <= r.last) return r.cp + (code - r.first);
  if (cs.eucjp_user_defined) {
    const bool three = code > 0xFFFF;
    const uint32_t row = (code >> 8) & 0xFF, cell = code & 0xFF;
    if ((!three || code >> 16 == 0x8F) && row >= 0xF5 && row <= 0xFE && cell >= 0xA1 &&
        cell <= 0xFE) {
      return kEucJpUserDefined + (three ? kEucJpUserDefinedRows : 0) + (row - 0xF5) * 94 +
             (cell - 0xA1);
    }
  }
  return std::nullopt;
}

}  // namespace

namespace {

CharsetInfo LookUpCollation(uint32_t id) {
  if (id >= kMariaNopadFirst && id <= kMariaNopadLast) id -= kMariaNopadFirst;
  for (const Range& r : kRanges) {
    if (id >= r.first && id <= r.last) return {r.kind, r.name};
  }
  return {CharsetKind::kUnknown, ""};
}

// Every id below this is looked up once, in a table (the row decoders ask once per string value).
constexpr uint32_t kTabulatedIds = 2048;

}  // namespace

CharsetInfo CharsetForCollation(uint32_t id) {
  static const std::vector<CharsetInfo>* const table = [] {
    auto* t = new std::vector<CharsetInfo>(kTabulatedIds);
    for (uint32_t i = 0; i < kTabulatedIds; ++i) (*t)[i] = LookUpCollation(i);
    return t;
  }();
  return id < kTabulatedIds ? (*table)[id] : LookUpCollation(id);
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

namespace sluice::mysql {

std::optional<std::string> MultiByteToUtf8(std::string_view in, std::string_view name) {
  size_t index = 0;
  while (index < kMultiByteCount && kMultiByte[index].name != name) ++index;
  if (index == kMultiByteCount) return std::nullopt;
  const MultiByteCharset& cs = kMultiByte[index];
  thread_local IconvCache cache;
  std::optional<iconv_t> cd = cache.Get(index);
  if (!cd) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 2);
  if (cs.framing == Framing::kNone) {
    if (!IconvAppend(*cd, in, out)) return std::nullopt;
    return out;
  }
  // Hand whole runs to iconv and write the exceptions in between.
  size_t run = 0;
  size_t i = 0;
  while (i < in.size()) {
    uint8_t lead = static_cast<uint8_t>(in[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t len = CharLength(cs.framing, lead);
    if (i + len > in.size()) return std::nullopt;  // a truncated character
    uint32_t code = 0;
    for (size_t k = 0; k < len; ++k) code = code << 8 | static_cast<uint8_t>(in[i + k]);
    if (std::optional<uint32_t> cp = ExceptionFor(cs, code)) {
      if (!IconvAppend(*cd, in.substr(run, i - run), out)) return std::nullopt;
      AppendUtf8(*cp, out);
      run = i + len;
    }
    i += len;
  }
  if (!IconvAppend(*cd, in.substr(run), out)) return std::nullopt;
  return out;
}

std::optional<std::string> ConvertToUtf8(std::string_view text, const CharsetInfo& charset) {
  switch (charset.kind) {
    case CharsetKind::kUcs2:
    case CharsetKind::kUtf16:
    case CharsetKind::kUtf16Le:
    case CharsetKind::kUtf32:
      return WideToUtf8(text, charset.kind);
    case CharsetKind::kMultiByte:
      return MultiByteToUtf8(text, charset.name);
    default:
      return std::nullopt;
  }
}

}  // namespace sluice::mysql
