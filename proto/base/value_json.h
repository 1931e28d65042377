#pragma once
// The canonical JSON encoding of sluice values: the one Value -> JSON function that every
// renderer (sluicectl, the Debezium renderer, tests) uses. Specified in docs/event-format.md.
//
// All functions are pure and thread-compatible. They never fail: any Value, including one built
// from hostile source bytes, renders to valid JSON (invalid UTF-8 is replaced by U+FFFD, a `json`
// value whose text is not valid JSON renders as a JSON string of that text). Fields outside their
// documented range (month 13, micros 1000000) are printed as they are, not checked.

#include <cstddef>
#include <string>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice {

// Appends the canonical JSON for `value` to `out`.
//   integers -> exact JSON numbers; double -> shortest round-trip (std::to_chars: 1, 0.1,
//   1e+20, -0), NaN/Infinity as the strings "NaN", "Infinity", "-Infinity";
//   decimal -> string; bytes -> padded base64; date -> "YYYY-MM-DD" (Date.year -44 is
//   "0044-03-15 BC"); time -> "[-]HH:MM:SS[.f][+HH:MM]";
//   datetime -> "YYYY-MM-DD HH:MM:SS[.f]"; timestamp -> "YYYY-MM-DDTHH:MM:SS[.f]Z";
//   json -> the nested value, whitespace removed; array -> JSON array;
//   interval -> ISO 8601 duration as Postgres prints it; raw -> its text as a string;
//   unset or null -> null.
void AppendValueJson(const v1::Value& value, std::string& out);
std::string ValueToJson(const v1::Value& value);

// Appends {"col":value,...} in column order.
void AppendRowJson(const v1::Row& row, std::string& out);

// Appends `s` as a quoted JSON string with RFC 8259 escaping: \" \\ \b \f \n \r \t, other
// control characters as \u00XX. Each maximal ill-formed UTF-8 subsequence becomes one U+FFFD.
void AppendJsonString(std::string_view s, std::string& out);

// Writes the canonical JSON of a double (as AppendValueJson) at `out`, which must have room for
// kMaxDoubleJson bytes; returns its end.
inline constexpr size_t kMaxDoubleJson = 32;
char* PutDoubleJson(char* out, double d);

// Writes the bytes AppendJsonString(s, ...) appends, starting at `out`, and returns their end.
// `out` must have room for JsonStringRoom(s.size()) bytes: every input byte takes at most 6, and
// a short plain tail is copied as one 8-byte block. For renderers that write into a raw buffer
// (text_buffer.h); plain ASCII is checked and copied 8 bytes at a time.
constexpr size_t JsonStringRoom(size_t size) { return 6 * size + 8; }
char* PutJsonString(char* out, std::string_view s);

// Appends standard padded base64 of `bytes`.
void AppendBase64(std::string_view bytes, std::string& out);
// Writes the same at `out`, which must have room for (bytes.size() + 2) / 3 * 4 bytes; returns
// their end.
char* PutBase64(char* out, std::string_view bytes);

// Containers nested deeper than this make a `json` value invalid (it then renders as a string).
inline constexpr size_t kMaxJsonNestingDepth = 512;

// If `text` is one valid RFC 8259 JSON text (UTF-8, no byte-order mark, at most
// kMaxJsonNestingDepth nested containers, no unpaired \uD800-\uDFFF escapes), appends it with the
// insignificant whitespace removed (strings and numbers are copied byte for byte) and returns
// true. Otherwise appends nothing and returns false.
bool AppendMinifiedJson(std::string_view text, std::string& out);

}  // namespace sluice
