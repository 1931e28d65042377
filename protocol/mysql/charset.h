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

}  // namespace sluice::mysql
