#pragma once
// The binary format of COPY ... TO STDOUT (FORMAT binary), one CopyData message at a time.
// Grammar (all integers big-endian; PG docs "COPY", "Binary Format"):
//
//   stream    = header tuple* trailer
//   header    = "PGCOPY\n\xff\r\n\0" Int32 flags Int32 extension_length Byte{extension_length}
//   tuple     = Int16 field_count(>= 0) field{field_count}
//   field     = Int32 length(-1 = NULL) Byte{length}
//   trailer   = Int16 -1
//
// The server sends the header in the same CopyData message as the first tuple (or as the
// trailer, for no rows), then one tuple per message, then the trailer alone. Each field's bytes
// are the type's send function output (int4send, numeric_send, ...): pg_binary_value.h decodes
// them. Flags bit 16 (OIDs included) is rejected, as are other critical bits (0-15).
//
// Pure; thread-compatible (the parser keeps the header state and its value views).

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sluice::postgres {

inline constexpr std::string_view kCopyBinarySignature{"PGCOPY\n\xff\r\n\0", 11};
inline constexpr size_t kCopyBinaryHeaderSize = 11 + 4 + 4;  // without the extension area

class CopyBinaryRow {
 public:
  // Before the first message of a COPY: the next message must start with the header.
  void Reset() {
    header_pending_ = true;
    ended_ = false;
  }
  // Reads one CopyData message. On success either a tuple of exactly `columns` fields is in
  // values() (views into `message`, valid while it is) or the trailer was read (ended()).
  // DataLoss naming the offset and what was expected for: a missing or bad header, unknown
  // critical flags, a field count other than `columns`, a length below -1 or past the end,
  // bytes after a tuple or the trailer, and any message after the trailer.
  absl::Status Parse(std::string_view message, size_t columns);
  bool ended() const { return ended_; }
  // One entry per column; nullopt is SQL NULL.
  const std::vector<std::optional<std::string_view>>& values() const { return values_; }

 private:
  // The common message, a tuple of `columns` fields after the header: true when it is one (the
  // values are set), false for anything else (values() then undefined until ParseChecked).
  bool ParseTuple(std::string_view message, size_t columns);
  // Any message, every check with its own error.
  absl::Status ParseChecked(std::string_view message, size_t columns);

  bool header_pending_ = true;
  bool ended_ = false;
  std::vector<std::optional<std::string_view>> values_;
};

}  // namespace sluice::postgres
