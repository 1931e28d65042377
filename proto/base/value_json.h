#pragma once
// The canonical JSON encoding of sluice values: the one Value -> JSON function that every
// renderer (sluicectl, the Debezium renderer, tests) uses. Specified in docs/event-format.md.
//
// All functions are pure and thread-compatible. They never fail: any Value, including one built
// from hostile source bytes, renders to valid JSON (invalid UTF-8 is replaced by U+FFFD, a `json`
// value whose text is not valid JSON renders as a JSON string of that text).

#include <string>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice {

// Appends the canonical JSON for `value` to `out`.
//   integers -> exact JSON numbers; double -> shortest round-trip, NaN/Infinity as strings;
//   decimal -> string; bytes -> padded base64; date -> "YYYY-MM-DD"; time -> "[-]HH:MM:SS[.f]";
//   datetime -> "YYYY-MM-DD HH:MM:SS[.f]"; timestamp -> "YYYY-MM-DDTHH:MM:SS[.f]Z";
//   json -> the nested value; array -> JSON array; interval -> ISO 8601 duration;
//   raw -> its text as a string; unset or null -> null.
void AppendValueJson(const v1::Value& value, std::string& out);
std::string ValueToJson(const v1::Value& value);

// Appends {"col":value,...} in column order.
void AppendRowJson(const v1::Row& row, std::string& out);

// Appends `s` as a quoted JSON string with RFC 8259 escaping.
void AppendJsonString(std::string_view s, std::string& out);

// Appends standard padded base64 of `bytes`.
void AppendBase64(std::string_view bytes, std::string& out);

}  // namespace sluice
