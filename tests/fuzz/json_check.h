#pragma once
// An independent, deliberately simple checker for the JSON that sluice renders, used by the fuzz
// targets as an oracle. It shares no code with proto/base/value_json.cc, so the two can be
// compared (a differential test of AppendMinifiedJson).
//
// Grammar: RFC 8259 (one JSON text, any value at the top, whitespace = space, tab, LF, CR),
// strings of well-formed UTF-8 (Unicode 15, table 3-7: no overlong forms, no encoded surrogates,
// nothing above U+10FFFF), no unpaired \uD800-\uDFFF escapes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::fuzz {

// True if `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// True if `text` is one valid JSON text with at most `max_depth` nested arrays/objects. When it
// is and `minified` is not null, appends `text` with the insignificant whitespace removed.
bool CheckJson(std::string_view text, size_t max_depth, std::string* minified);

// The value of `literal`, one complete JSON string literal with its quotes, with escapes
// resolved to UTF-8; nullopt when it is not one valid JSON string literal.
std::optional<std::string> DecodeJsonString(std::string_view literal);

// The bytes of standard padded base64 `text`; nullopt when it is not canonical padded base64.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace sluice::fuzz
