#pragma once
// Partial JSON updates (PARTIAL_UPDATE_ROWS_EVENT, binlog_row_value_options=PARTIAL_JSON): a list
// of diffs that turn the before image's JSON document into the after image's.
//
// Grammar of one partial column value (after its length prefix):
//   diff* := { op u8 (0 REPLACE, 1 INSERT, 2 REMOVE) · path_len lenenc · path[path_len]
//              · [op != REMOVE: value_len lenenc · value[value_len] (binary JSON, type byte first)]
//              }*
//   path  := "$" { "." key | "." "\"" quoted-key "\"" | "[" index "]" }*
//
// Pure. Errors are DataLoss naming the diff, its offset and the path.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/mysql/json_binary.h"

namespace sluice::mysql {

enum class JsonDiffOp : uint8_t { kReplace = 0, kInsert = 1, kRemove = 2 };

struct JsonDiff {
  JsonDiffOp op = JsonDiffOp::kReplace;
  std::string path;   // as written, e.g. "$.a[2]"
  std::string value;  // binary JSON document; empty for REMOVE
};

absl::StatusOr<std::vector<JsonDiff>> DecodeJsonDiffs(std::string_view data);

// Renders diffs as JSON text: [{"op":"replace","path":"$.a","value":<json>},...].
absl::Status AppendJsonDiffsText(const std::vector<JsonDiff>& diffs, std::string& out);

// RawValue.type_name of a partial JSON update whose before document was not in the event
// (binlog_row_image=MINIMAL); RawValue.text is AppendJsonDiffsText's output.
inline constexpr std::string_view kJsonDiffTypeName = "mysql_json_diff";

// Applies `diffs` in order to `dom`. DataLoss when a path does not exist where it must.
absl::Status ApplyJsonDiffs(const std::vector<JsonDiff>& diffs, JsonDom& dom);

}  // namespace sluice::mysql
