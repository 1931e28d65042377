#pragma once
// MariaDB compressed events (log_bin_compress=ON, MariaDB 10.2+): QUERY_COMPRESSED_EVENT (165),
// WRITE/UPDATE/DELETE_ROWS_COMPRESSED_EVENT_V1 (166-168, the v1 row layout of types 23-25) and
// WRITE/UPDATE/DELETE_ROWS_COMPRESSED_EVENT (169-171, the v2 layout of types 30-32).
//
// Each is its uncompressed event with the variable tail replaced by one compressed record:
//   QUERY_COMPRESSED := post-header · status_vars · db · NUL · record(query)
//   ROWS_COMPRESSED  := table_id · flags · [v2: extra_len u16le · extra_data[extra_len - 2]]
//                       · ncols lenenc · present_bitmap · [UPDATE: present_after]
//                       · record(rows)
//   record           := header u8 · uncompressed_length uNbe · zlib stream (RFC 1950)
//   header           := 0x80 (compressed) | algorithm << 4 (bits 4-6; 0 = zlib, the only one)
//                       | N (bits 0-2; 1..4 bytes of big-endian uncompressed length)
// The post-header lengths come from the FORMAT_DESCRIPTION's entries for the compressed types
// (MariaDB writes the same values as for the uncompressed ones, which is required here).
//
// Pure; no I/O. Errors are DataLoss naming the event and the offset in the body: a bad record
// header, an unknown algorithm, an uncompressed length of 0 or above the caller's limit, a
// corrupt or short zlib stream, or a stream that inflates to another size than declared.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "protocol/mysql/control_events.h"

namespace sluice::mysql {

// The event type a compressed type decodes as (165 -> QUERY_EVENT, 166 -> WRITE_ROWS_EVENT_V1,
// ..., 171 -> DELETE_ROWS_EVENT), or nullopt when `type` is not a MariaDB compressed event.
std::optional<uint8_t> UncompressedEventType(uint8_t type);

struct DecompressedEvent {
  uint8_t type = 0;  // the uncompressed event type, see UncompressedEventType
  std::string body;  // the uncompressed body (after the common header, without checksum)
};

// Rebuilds the uncompressed body of a compressed event. `body` is the event after the common
// header and without the checksum, as for the other body decoders. The inflated record may be at
// most `max_uncompressed` bytes; memory grows with the bytes actually produced, never with the
// declared length alone.
absl::StatusOr<DecompressedEvent> DecompressEvent(uint8_t type, Bytes body,
                                                  const FormatDescription& fde,
                                                  uint64_t max_uncompressed);

// Inflates one compressed record (header, length, zlib stream) that fills all of `record`.
// `what` names the event in errors and `offset` is the record's offset in the event body.
absl::StatusOr<std::string> DecompressRecord(Bytes record, uint64_t max_uncompressed,
                                             std::string_view what, size_t offset);

}  // namespace sluice::mysql
