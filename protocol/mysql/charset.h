#pragma once
// Collation ids (as sent in TABLE_MAP charset metadata) mapped to the character set that decides
// how a string column is rendered: UTF-8 text, bytes, or a raw value tagged with the charset name.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::mysql {

enum class CharsetKind : uint8_t {
  kUtf8,     // utf8mb4, utf8mb3 (utf8), ascii: the bytes are already UTF-8
  kLatin1,   // MySQL latin1 (cp1252): converted to UTF-8
  kBinary,   // collation 63: bytes
  kUcs2,     // UCS-2 big-endian: converted to UTF-8
  kUtf16,    // UTF-16 big-endian: converted to UTF-8
  kUtf16Le,  // UTF-16 little-endian: converted to UTF-8
  kUtf32,    // UTF-32 big-endian: converted to UTF-8
  // A multi-byte CJK charset (big5, cp932, eucjpms, euckr, gb18030, gb2312, gbk, sjis, ujis):
  // converted to UTF-8 with glibc iconv and MySQL's own deviations from it (see MultiByteToUtf8).
  kMultiByte,
  kOther,    // a known charset that sluice does not convert: kept raw, with its name
  kUnknown,  // an id sluice does not know: kept raw
};

struct CharsetInfo {
  CharsetKind kind = CharsetKind::kUnknown;
  std::string_view
      name;  // "utf8mb4", "latin1", "gbk", ...; "collation_<id>" names are built by callers
};

CharsetInfo CharsetForCollation(uint32_t collation_id);

// MySQL latin1 (Windows-1252, with 0x81 0x8D 0x8F 0x90 0x9D mapped to the C1 controls) to UTF-8.
std::string Latin1ToUtf8(std::string_view latin1);

// UCS-2 / UTF-16 (BE or LE) / UTF-32 text to UTF-8; nullopt if `kind` is none of those or the
// bytes are not valid in it (odd length, unpaired surrogate, code point above U+10FFFF).
std::optional<std::string> WideToUtf8(std::string_view text, CharsetKind kind);

// CJK text in the MySQL charset `name` (a kMultiByte name) to UTF-8; nullopt if `name` is not one
// of them or the bytes are not valid in it (then callers keep the raw bytes).
//   gbk -> GBK, gb2312 -> EUC-CN, gb18030 -> GB18030, cp932 -> CP932, eucjpms -> EUC-JP-MS,
//   euckr -> CP949 (MySQL's euckr includes the CP949 extension), and with a few code points that
//   MySQL maps differently from glibc: big5 -> BIG5 (the ETEN kana/Cyrillic rows C6A1-C7FC and
//   11 symbols), sjis -> CP932 (7 symbols, e.g. 0x815F is U+005C), ujis -> EUC-JP (0xA1C0 is
//   U+005C, 0x8FA2B7 is U+007E, the user-defined rows 0xF5-0xFE are U+E000...). These tables were
//   checked code by code against MariaDB 10.11's CONVERT(... USING utf8mb4) (gb18030 is MySQL-only
//   and follows glibc).
// Thread-safe: each thread keeps its own iconv descriptors, opened on first use.
std::optional<std::string> MultiByteToUtf8(std::string_view text, std::string_view name);

// Text of a converting kind (kUcs2, kUtf16, kUtf16Le, kUtf32, kMultiByte) to UTF-8; nullopt for
// other kinds or bytes that are not valid in the charset.
std::optional<std::string> ConvertToUtf8(std::string_view text, const CharsetInfo& charset);

}  // namespace sluice::mysql
