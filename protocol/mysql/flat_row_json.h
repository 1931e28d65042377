#pragma once
// The canonical JSON of flat rows (flat_row.h): the bytes AppendValueJson / AppendRowJson
// (proto/base/value_json.h) give for the same v1::Value / v1::Row, written straight from the
// flat values. The TextBuffer overloads are the fast path (`sluicectl binlog decode`): each value
// reserves room for its longest rendering once and is written through a raw pointer (integers and
// doubles with std::to_chars, the common dates and times digit by digit, strings by
// PutJsonString, which copies plain ASCII 8 bytes at a time and still validates and escapes
// every byte). What is outside the fast forms (JSON, VECTOR, the converting charsets' slots, dates
// past year 9999, times past 9999 hours) goes through AppendValueJson. The std::string overloads
// give the same bytes.
//
// flat_row_test compares every column type, and 20,000 random date/time values, with
// AppendValueJson; rows_fuzz compares fuzzed rows. Pure; thread-compatible (a thread-local
// scratch value serves the slow path).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/base/text_buffer.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/table_map.h"

namespace sluice::mysql {

// The JSON object keys of a table's columns, escaped and quoted once: `"name":`. They are kept
// back to back in one block followed by kKeyPad spare bytes, so that a key of up to kKeyPad bytes
// can be copied as a fixed-size block (key_block).
class ColumnKeys {
 public:
  static constexpr size_t kKeyPad = 32;

  explicit ColumnKeys(const TableMap& table);
  std::string_view key(size_t column) const {
    return std::string_view(text_).substr(offsets_[column], offsets_[column + 1] - offsets_[column]);
  }
  // The key's first byte; kKeyPad bytes are readable from there.
  const char* key_block(size_t column) const { return text_.data() + offsets_[column]; }
  size_t key_size(size_t column) const { return offsets_[column + 1] - offsets_[column]; }
  size_t size() const { return offsets_.size() - 1; }

 private:
  std::string text_;
  std::vector<size_t> offsets_;  // key i is text_[offsets_[i], offsets_[i + 1])
};

// Appends the canonical JSON of `v` (the bytes AppendValueJson appends for the same v1::Value).
void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, TextBuffer& out);
void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, std::string& out);

// Appends {"col":value,...} in column order, as AppendRowJson does for the same v1::Row.
// `keys` must be of the table the row was decoded with.
void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, TextBuffer& out);
void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, std::string& out);

// Appends {"col":value,...} for the key columns `columns` (in that order): each from `after`
// when that image holds the column, else from `before`; a column in neither image, or past the
// table's columns, is left out (as EventToJson does for a v1::Row key). Either image may be
// null. The same bytes as '{', then per column ',' (not before the first), keys.key(column) and
// AppendFlatValueJson, then '}'.
void AppendFlatKeyJson(const FlatRow* after, const FlatRow* before,
                       std::span<const uint32_t> columns, const ColumnKeys& keys, TextBuffer& out);

}  // namespace sluice::mysql
