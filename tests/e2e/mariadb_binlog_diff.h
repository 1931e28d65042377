#pragma once
// The differential check between `mariadb-binlog --verbose --base64-output=decode-rows` and
// `sluicectl binlog decode --format json` on the same binlog files: both outputs are parsed into
// row changes and compared row by row, value by value, after normalising each side's notation
// (see ValueKind for what each kind compares and the documented skips).
//
// Test-only code; the parsers accept exactly what those two programs print.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::e2e {

// A parsed JSON value. Objects keep their member order; numbers keep their exact text.
struct JsonNode {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  std::string text;  // number token, decoded string, "true"/"false"
  std::vector<std::pair<std::string, JsonNode>> members;  // object members; array items (key "")

  const JsonNode* Find(std::string_view key) const;
};
absl::StatusOr<JsonNode> ParseJson(std::string_view text);

// One row change printed by mariadb-binlog -v: "### INSERT INTO `db`.`t`" / "### UPDATE" /
// "### DELETE FROM", then "### WHERE" (before image) and/or "### SET" (after image) with
// "###   @N=value" lines. Values are the text after '=' (NULL is "NULL").
struct BinlogRow {
  char op = '?';  // 'c', 'u', 'd'
  std::string database;
  std::string table;
  std::optional<std::vector<std::string>> before;
  std::optional<std::vector<std::string>> after;
};
absl::StatusOr<std::vector<BinlogRow>> ParseMariadbBinlogVerbose(std::string_view output);

// One c/u/d line of sluicectl binlog decode --format json (ddl lines are skipped).
struct SluiceRow {
  char op = '?';
  std::string database;
  std::string table;
  std::string position;
  std::optional<std::vector<std::pair<std::string, JsonNode>>> before;
  std::optional<std::vector<std::pair<std::string, JsonNode>>> after;
};
absl::StatusOr<std::vector<SluiceRow>> ParseSluiceJsonLines(std::string_view output);

// How a column's two renderings are brought to one form.
enum class ValueKind {
  kInt,        // signed integer: mariadb-binlog's number == sluice's number
  kUint,       // unsigned: mariadb-binlog prints "-1 (255)" for values above the signed range;
               // the number in parentheses (or the only one) == sluice's number
  kDecimal,    // text == text (both keep the scale)
  kFloat,      // FLOAT: mariadb-binlog prints "%g" (6 significant digits) of the float, sluice
               // the widened double exactly: equal within half a unit of the 6th digit
  kDouble,     // DOUBLE: mariadb-binlog prints 20 significant digits; both parse to the same bits
  kBit,        // b'0101' == the number
  kYear,       // number == number; mariadb-binlog prints the zero year as 1900 (0 + 1900)
  kDate,       // mariadb-binlog prints 'YYYY:MM:DD' (colons); == "YYYY-MM-DD"
  kTime,       // '[-]H:MM:SS[.ffffff]' == "[-]HH:MM:SS[.f]" with fraction zeros trimmed
  kDateTime,   // 'YYYY-MM-DD HH:MM:SS[.fff]' == the same with fraction zeros trimmed
  kTimestamp,  // seconds[.fraction] since the epoch == the UTC timestamp text, in microseconds
  kUtf8,       // quoted bytes (\xNN below 0x20) == the JSON string's UTF-8
  kLatin1,     // quoted latin1 (cp1252) bytes, converted to UTF-8 with iconv == the JSON string
  kBytes,      // quoted bytes == the base64-decoded JSON string. For fixed-length binary columns
               // (BINARY(N), UUID, INET6: ColumnSpec::fixed_length = N) the binlog holds the value
               // without its trailing 0x00 padding, which mariadb-binlog prints as it is; sluice
               // may print it so or padded to N (the value SELECT returns): both are accepted
  kEnum,       // the 1-based index (0 = '') == the member name
  kSet,        // b'bitmap' == the member names joined by ","
  kJsonText,   // MariaDB JSON is LONGTEXT: as kUtf8
};
std::string_view ValueKindName(ValueKind kind);

struct ColumnSpec {
  std::string name;
  std::string sql_type;
  ValueKind kind = ValueKind::kInt;
  std::vector<std::string> members;  // ENUM / SET
  size_t fixed_length = 0;           // BINARY(N), UUID, INET6: N
};

// "db.table" -> columns in table order.
using DiffSchema = std::map<std::string, std::vector<ColumnSpec>>;

struct DiffReport {
  size_t rows = 0;                       // row changes compared
  std::map<ValueKind, size_t> compared;  // non-NULL values compared, by kind
  size_t nulls = 0;                      // NULLs both sides agree on
  std::vector<std::string> mismatches;   // one line each; empty when both agree
};

// Compares the rows of the tables in `schema` (rows of other tables are ignored on both sides),
// in order: op, table, column names, column count, then every value of both images.
DiffReport CompareBinlogRows(const std::vector<BinlogRow>& mariadb,
                             const std::vector<SluiceRow>& sluice, const DiffSchema& schema);

}  // namespace sluice::e2e
