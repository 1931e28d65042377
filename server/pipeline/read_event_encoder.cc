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

// `value` from the wire bytes of a Value's contents: an int64 (the common key) directly, any
// other kind through the parser. False if the bytes do not parse.
bool SetKeyValue(std::string_view bytes, v1::Value& value) {
  if (bytes.size() >= 2 && bytes.size() <= 11 && bytes[0] == value_wire::kInt64) {
    uint64_t v = 0;
    size_t i = 1;
    for (int shift = 0; i < bytes.size(); ++i, shift += 7) {
      const auto b = static_cast<uint8_t>(bytes[i]);
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) break;
    }
    if (i + 1 == bytes.size()) {  // one varint, ending at the last byte
      value.set_int64(static_cast<int64_t>(v));
      return true;
    }
  }
  return value.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// Copies `bytes` to `p` (room for them); returns the position after them.
char* Put(std::string_view bytes, char* p) {
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

}  // namespace

void ReadEventEncoder::Reset(std::string table, const std::vector<std::string>& key_columns,
                             const std::vector<std::string>& columns) {
  table_ = std::move(table);
  prefix_.clear();
  prefix_.push_back(kOpTag);
  AppendVarint(v1::OP_READ, prefix_);
  for (const std::string& k : key_columns) {
    value_wire::AppendLengthDelimited(kKeyColumnTag, k, prefix_);
  }
  key_columns_.Clear();
  key_row_.Clear();
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
    key_row_.add_fields()->set_name(k);
    *key_columns_.Add() = k;
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

void ReadEventEncoder::FinishRow(storage::EncodedEvent& e) {
  EndColumn();
  const size_t n = std::min(added_, names_.size());
  // Sizes first (a length precedes each message), then the body written in one pass into a
  // buffer of exactly its size.
  size_t row_size = 0;
  size_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t value_size = ends_[i] - begin;
    const size_t field_size = names_[i].size() + 1 + VarintSize(value_size) + value_size;
    row_size += 1 + VarintSize(field_size) + field_size;
    begin = ends_[i];
  }
  e.op = v1::OP_READ;
  e.table = table_;
  // Constructed at its size (one allocation and a fill), not resized from empty (libstdc++'s
  // general replace path, ~100 instructions more per row), then moved in.
  std::string body(prefix_.size() + 1 + VarintSize(row_size) + row_size, '\0');
  char* p = body.data();
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
  e.body = std::move(body);
  std::string& row_key = e.row_key.emplace();
  if (!key_positions_.empty()) {
    bool parsed = true;
    for (size_t k = 0; k < key_positions_.size() && parsed; ++k) {
      const size_t c = key_positions_[k];
      if (c >= n) {
        parsed = false;
        break;
      }
      const size_t from = c == 0 ? 0 : ends_[c - 1];
      parsed = SetKeyValue(std::string_view(values_).substr(from, ends_[c] - from),
                           *key_row_.mutable_fields(static_cast<int>(k))->mutable_value());
    }
    if (parsed) {
      std::optional<std::string> key = storage::EncodeRowKey(key_columns_, key_row_);
      if (key) row_key = *std::move(key);
    }
  }
  BeginRow();
}

}  // namespace sluice::pipeline
