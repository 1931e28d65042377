#pragma once
// MySQL's binary JSON (the JSON column format in row events) rendered as JSON text.
//
// Grammar (little-endian; "large" containers use 4-byte counts/offsets, "small" 2-byte):
//   doc      := type u8 · value
//   value    := object | array | literal u8 (0 null, 1 true, 2 false) | int16 | uint16 | int32
//             | uint32 | int64 | uint64 | double f64 | string | opaque
//   object   := count · size · key_entry[count] · value_entry[count] · keys · values
//   array    := count · size · value_entry[count] · values
//   key_entry   := offset · length u16
//   value_entry := type u8 · (offset | inlined literal/int16/uint16, and int32/uint32 if large)
//   string   := varlen length · UTF-8 bytes        opaque := column type u8 · varlen length · bytes
//   varlen   := 7 bits per byte, least significant first, high bit = more (at most 5 bytes)
// Offsets are relative to the start of the enclosing container's count field.
//
// Opaque DECIMAL renders as a JSON number, DATE/TIME/DATETIME/TIMESTAMP as strings, any other
// opaque value as the string "base64:type<N>:<base64>" (as MySQL prints it). Pure; never reads
// outside `doc`; nesting beyond 100 levels is an error.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::mysql {

// Appends the JSON text of binary document `doc` to `out`. An empty document is JSON null.
// DataLoss naming the offset within the document on malformed input (out is then unspecified).
absl::Status AppendJsonFromBinary(std::string_view doc, std::string& out);

// A small JSON tree, for applying partial-update diffs. Scalars keep their rendered JSON text;
// object keys are raw (unescaped) UTF-8 in MySQL's order (by length, then bytes).
struct JsonDom {
  enum class Kind : uint8_t { kScalar, kObject, kArray };
  Kind kind = Kind::kScalar;
  std::string text;               // kScalar: the JSON text ("1", "\"x\"", "null")
  std::vector<std::string> keys;  // kObject: one per child
  std::vector<JsonDom> children;  // kObject and kArray
};

// Builds the tree of binary document `doc` (empty = JSON null). Same errors as above.
absl::StatusOr<JsonDom> JsonDomFromBinary(std::string_view doc);
// Appends the JSON text of `dom`.
void AppendJsonDom(const JsonDom& dom, std::string& out);

}  // namespace sluice::mysql
