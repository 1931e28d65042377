#pragma once
// EncodedChunk: the rows of one snapshot chunk in stored form, packed into one buffer, as the
// snapshot readers hand them to the log (ChangeLog::AppendSnapshotChunkAsync).
//
// Each row is an op "r" event of the chunk's table: its body (as EncodedEvent::body, the
// protobuf wire format of a v1::ChangeEvent without the fields the log assigns) and its
// table-state key (EncodeRowKey(key_columns, after), storage/table_state.h; empty when the table
// has no key). Rows are written straight into the buffer, so a chunk of any number of rows costs
// a few allocations, not one or more per row, and its memory is what the buffer holds.
//
// Building: append a row's body to bytes(), note where it ends (body_end = bytes().size()),
// append its key, then EndRow(body_end). A row is everything after the previous one.
//
// Thread-compatible.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::storage {

class EncodedChunk {
 public:
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

  std::string_view body(size_t i) const {
    const size_t begin = i == 0 ? 0 : rows_[i - 1].key_end;
    return std::string_view(bytes_).substr(begin, rows_[i].body_end - begin);
  }
  std::string_view row_key(size_t i) const {
    return std::string_view(bytes_).substr(rows_[i].body_end,
                                           rows_[i].key_end - rows_[i].body_end);
  }

  // The buffer the row being built is appended to (after the rows before it).
  std::string& bytes() { return bytes_; }
  // Ends the row being built: its body is bytes()[previous row's end, body_end), its key the
  // rest. body_end must lie between the previous row's end and bytes().size().
  void EndRow(size_t body_end) { rows_.push_back({body_end, bytes_.size()}); }

  // Bytes of all rows so far.
  size_t byte_size() const { return bytes_.size(); }

  void Reserve(size_t rows, size_t bytes) {
    rows_.reserve(rows);
    bytes_.reserve(bytes);
  }
  // Gives back room reserved beyond twice what the rows use (a short chunk, such as a table's
  // last, that reserved for a full one): the log's queue budget counts capacity, not use.
  void ReleaseSlack() {
    if (bytes_.capacity() > 2 * bytes_.size() + 4096) bytes_.shrink_to_fit();
    if (rows_.capacity() > 2 * rows_.size() + 256) rows_.shrink_to_fit();
  }
  // Bytes held (what the log's queue budget counts).
  size_t MemoryCost() const { return bytes_.capacity() + rows_.capacity() * sizeof(Row); }

 private:
  struct Row {
    size_t body_end;
    size_t key_end;
  };
  std::string bytes_;
  std::vector<Row> rows_;
};

}  // namespace sluice::storage
