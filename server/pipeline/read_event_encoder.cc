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

// The size of FinishRow's fixed copies (a column's head and most short values are no longer).
constexpr size_t kCopy = 32;

using value_wire::PutVarint;
using value_wire::VarintSize;

// Copies `bytes` to `p` (room for them); returns the position after them.
char* Put(std::string_view bytes, char* p) {
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// The same, for `size` bytes at `from` when kCopy bytes may be read there and written at `p`:
// a copy of kCopy bytes (a few moves, no call) when `size` is at most that.
char* PutPadded(const char* from, size_t size, char* p) {
  if (size <= kCopy) {
    std::memcpy(p, from, kCopy);
  } else {
    std::memcpy(p, from, size);
  }
  return p + size;
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
  prefix_size_ = prefix_.size();
  prefix_.append(kCopy, '\0');
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
  heads_.clear();
  head_ends_.clear();
  for (const std::string& c : columns) {
    // proto3: an empty name is not written.
    if (!c.empty()) value_wire::AppendLengthDelimited(kFieldNameTag, c, heads_);
    heads_.push_back(kFieldValueTag);
    head_ends_.push_back(heads_.size());
  }
  heads_.append(kCopy, '\0');
  ends_.assign(head_ends_.size() + 1, 0);
  BeginRow();
}

void ReadEventEncoder::BeginRow() {
  values_.clear();
  added_ = 0;
}

void ReadEventEncoder::FinishRow(storage::EncodedChunk& out) {
  EndColumn();
  const size_t n = std::min(added_, head_ends_.size());
  // Sizes first (a length precedes each message), then the body written in one pass straight
  // into the chunk's buffer, grown once to its end and kCopy bytes past it (the padded copies'
  // room, cut off again before the key).
  size_t row_size = 0;
  size_t begin = 0;
  size_t head_begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t value_size = ends_[i] - begin;
    const size_t field_size =
        head_ends_[i] - head_begin + VarintSize(value_size) + value_size;
    row_size += 1 + VarintSize(field_size) + field_size;
    begin = ends_[i];
    head_begin = head_ends_[i];
  }
  std::string& bytes = out.bytes();
  const size_t start = bytes.size();
  const size_t body_end = start + prefix_size_ + 1 + VarintSize(row_size) + row_size;
  bytes.resize(body_end + kCopy);
  char* p = bytes.data() + start;
  p = PutPadded(prefix_.data(), prefix_size_, p);
  *p++ = kAfterTag;
  p = PutVarint(row_size, p);
  begin = 0;
  head_begin = 0;
  // A value is copied kCopy bytes at a time when it starts before padded_values_end, i.e. when
  // at least kCopy bytes of values_ follow its start (none do when values_ is shorter).
  const size_t padded_values_end = values_.size() < kCopy ? 0 : values_.size() - kCopy + 1;
  for (size_t i = 0; i < n; ++i) {
    const size_t value_size = ends_[i] - begin;
    const size_t head_size = head_ends_[i] - head_begin;
    *p++ = kRowFieldTag;
    p = PutVarint(head_size + VarintSize(value_size) + value_size, p);
    p = PutPadded(heads_.data() + head_begin, head_size, p);
    p = PutVarint(value_size, p);
    if (begin < padded_values_end) {
      p = PutPadded(values_.data() + begin, value_size, p);
    } else {
      p = Put(std::string_view(values_).substr(begin, value_size), p);
    }
    begin = ends_[i];
    head_begin = head_ends_[i];
  }
  bytes.resize(body_end);
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
