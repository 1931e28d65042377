#pragma once
// ReadEventEncoder: writes snapshot rows straight into the stored form of op "r" events
// (a storage::EncodedChunk), without a v1::ChangeEvent per row or a v1::Value per column.
//
// A row's body is exactly what v1::ChangeEvent::SerializeToString gives for
//   { op: OP_READ, key_columns: <table's key>, after: { fields: [{name, value}, ...] } }
// (fields in number order: 2 op, 4 key_columns, 6 after); the table and the source fields come
// from the chunk's commit info, which the log appends (ChangeLog::AppendSnapshotChunkAsync). A
// reader appends each column's Value contents (value_wire.h, mysqlclient::AppendTextColumnWire,
// ...) to the buffer that AddColumn returns. Each row also carries its table-state row key,
// computed from the key columns' values alone.
//
// Usage per chunk: Reset(key columns, column names); then per row: BeginRow(), AddColumn() +
// append the value, once per column in order, then FinishRow(chunk). The scratch buffers are
// reused and the row goes straight into the chunk's buffer: no allocation per row.
//
// Thread-compatible.

#include <cstddef>
#include <string>
#include <vector>

#include "sluice/v1/event.pb.h"
#include "storage/encoded_chunk.h"

namespace sluice::pipeline {

class ReadEventEncoder {
 public:
  void Reset(const std::vector<std::string>& key_columns, const std::vector<std::string>& columns);

  void BeginRow();
  // The buffer to append column `i`'s Value contents to (columns in order, each once).
  // Inline: a reader calls it once per column of every row.
  std::string& AddColumn() {
    EndColumn();
    ++added_;
    return values_;
  }
  // Appends the row to `out` (body and table-state key); BeginRow starts the next one.
  void FinishRow(storage::EncodedChunk& out);

  size_t columns() const { return head_ends_.size(); }

 private:
  // Op and key_columns, the same for every row: prefix_size_ bytes, then 32 bytes of padding.
  std::string prefix_;
  size_t prefix_size_ = 0;
  // Per column, what follows the Field's length up to the value's length: the name field (tag,
  // length, name) and the value's tag; all back to back in heads_, then kCopy bytes of padding
  // (FinishRow copies a short head or prefix as a fixed number of bytes).
  std::string heads_;
  std::vector<size_t> head_ends_;
  std::string values_;  // the current row's Value contents, back to back
  // Where each column's contents end in values_ (sized by Reset: one more than the columns, so
  // that a reader that adds too many still finds the end of the last named one), and how many
  // columns the row has so far.
  std::vector<size_t> ends_;
  size_t added_ = 0;
  // Notes where the last added column ends (now).
  void EndColumn() {
    if (added_ > 0 && added_ <= ends_.size()) ends_[added_ - 1] = values_.size();
  }
  // The table-state key: where each key column is among the columns (empty when the table
  // has no key or a key column is missing); storage::AppendRowKeyComponent per key column.
  std::vector<size_t> key_positions_;
};

}  // namespace sluice::pipeline
