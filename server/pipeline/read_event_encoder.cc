#include "server/pipeline/read_event_encoder.h"

#include <cstring>

#include "proto/base/value_wire.h"
#include "proto/base/varint.h"
#include "storage/table_state.h"

namespace sluice::pipeline {
namespace {

// ChangeEvent fields (event.proto), as wire tags.
constexpr char kOpTag = 0x10;         // 2: op, varint
constexpr char kKeyColumnTag = 0x22;  // 4: key_columns, length-delimited
constexpr char kAfterTag = 0x32;      // 6: after, length-delimited
// Row.fields (1) and Field.name (1) / Field.value (2).
constexpr char kRowFieldTag = 0x0A;
constexpr char kFieldNameTag = 0x0A;
constexpr char kFieldValueTag = 0x12;

using value_wire::VarintSize;

using value_wire::PutVarint;

// Copies `bytes` to `p` (room for them); returns the position after them.
char* Put(std::string_view bytes, char* p) {
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

}  // namespace

void ReadEventEncoder::Reset(const std::vector<std::string>& key_columns,
                             const std::vector<std::string>& columns) {
  prefix_.clear();
  prefix_.push_back(kOpTag);
  AppendVarint(v1::OP_READ, prefix_);
  for (const std::string& k : key_columns) {
    value_wire::AppendLengthDelimited(kKeyColumnTag, k, prefix_);
  }
  key_positions_.clear();
  for (const std::string& k : key_columns) {
    size_t found = columns.size();
    for (size_t c = 0; c < columns.size() && found == columns.size(); ++c) {
      if (columns[c] == k) found = c;
    }
    if (found == columns.size()) {
      key_positions_.clear();  // a key column is missing: no table-state key
      break;
    }
    key_positions_.push_back(found);
  }
  names_.clear();
  for (const std::string& c : columns) {
    std::string& n = names_.emplace_back();
    // proto3: an empty name is not written.
    if (!c.empty()) value_wire::AppendLengthDelimited(kFieldNameTag, c, n);
  }
  ends_.assign(names_.size() + 1, 0);
  BeginRow();
}

void ReadEventEncoder::BeginRow() {
  values_.clear();
  added_ = 0;
}

void ReadEventEncoder::FinishRow(storage::EncodedChunk& out) {
  EndColumn();
  const size_t n = std::min(added_, names_.size());
  // Sizes first (a length precedes each message), then the body written in one pass straight
  // into the chunk's buffer, grown once to its end.
  size_t row_size = 0;
  size_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t value_size = ends_[i] - begin;
    const size_t field_size = names_[i].size() + 1 + VarintSize(value_size) + value_size;
    row_size += 1 + VarintSize(field_size) + field_size;
    begin = ends_[i];
  }
  std::string& bytes = out.bytes();
  const size_t start = bytes.size();
  const size_t body_end = start + prefix_.size() + 1 + VarintSize(row_size) + row_size;
  bytes.resize(body_end);
  char* p = bytes.data() + start;
  p = Put(prefix_, p);
  *p++ = kAfterTag;
  p = PutVarint(row_size, p);
  begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t value_size = ends_[i] - begin;
    *p++ = kRowFieldTag;
    p = PutVarint(names_[i].size() + 1 + VarintSize(value_size) + value_size, p);
    p = Put(names_[i], p);
    *p++ = kFieldValueTag;
    p = PutVarint(value_size, p);
    p = Put(std::string_view(values_).substr(begin, value_size), p);
    begin = ends_[i];
  }
  // The table-state key, from the key columns' value bytes (no v1::Row, no parse for int64,
  // uint64, string and bytes keys), after the body; none (empty) when the table has no key or
  // a key column is missing or does not parse.
  for (const size_t c : key_positions_) {
    const size_t from = c == 0 ? 0 : ends_[c - 1];
    if (c >= n || !storage::AppendRowKeyComponent(
                      std::string_view(values_).substr(from, ends_[c] - from), bytes)) {
      bytes.resize(body_end);
      break;
    }
  }
  out.EndRow(body_end);
  BeginRow();
}

}  // namespace sluice::pipeline
