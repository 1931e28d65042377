#pragma once
// ReadEventEncoder: writes snapshot rows straight into the stored form of an op "r" event
// (storage::EncodedEvent), without a v1::ChangeEvent per row or a v1::Value per column.
//
// The body is exactly what v1::ChangeEvent::SerializeToString gives for
//   { op: OP_READ, key_columns: <table's key>, after: { fields: [{name, value}, ...] } }
// (fields in number order: 2 op, 4 key_columns, 6 after); the source fields come from the
// chunk's commit info, which the log appends (ChangeLog::AppendEncodedAsync). A reader appends
// each column's Value contents (value_wire.h, mysqlclient::AppendTextColumnWire, ...) to the
// buffer that AddColumn returns. Each event also carries its table-state row key
// (storage::EncodedEvent::row_key), computed from the key columns' values alone.
//
// Usage per chunk: Reset(table, key columns, column names); then per row: BeginRow(),
// AddColumn() + append the value, once per column in order, then FinishRow(). The scratch
// buffers are reused, so a row costs one allocation (its body).
//
// Thread-compatible.

#include <cstddef>
#include <string>
#include <vector>

#include "sluice/v1/event.pb.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

class ReadEventEncoder {
 public:
  // `table` goes into every event's record header ("db.table" / "schema.table").
  void Reset(std::string table, const std::vector<std::string>& key_columns,
             const std::vector<std::string>& columns);

  void BeginRow();
  // The buffer to append column `i`'s Value contents to (columns in order, each once).
  // Inline: a reader calls it once per column of every row.
  std::string& AddColumn() {
    EndColumn();
    ++added_;
    return values_;
  }
  // The row as an event; BeginRow starts the next one.
  storage::EncodedEvent FinishRow() {
    storage::EncodedEvent e;
    FinishRow(e);
    return e;
  }
  // The same, written into `e` (a new event, e.g. one just emplaced in the chunk's vector).
  void FinishRow(storage::EncodedEvent& e);

  size_t columns() const { return names_.size(); }

 private:
  std::string table_;
  std::string prefix_;              // op and key_columns, the same for every row
  std::vector<std::string> names_;  // per column: the Field's name field (tag, length, name)
  std::string values_;              // the current row's Value contents, back to back
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
