#pragma once
// Decoders for the binlog's non-row events: the v4 common header, FORMAT_DESCRIPTION, ROTATE,
// QUERY, XID, MySQL GTID/ANONYMOUS_GTID/GTID_TAGGED, PREVIOUS_GTIDS, HEARTBEAT, ROWS_QUERY and the
// MariaDB GTID, GTID_LIST, BINLOG_CHECKPOINT and ANNOTATE_ROWS events.
//
// Every function is pure: it reads only the span it is given, through wire::ByteReader, and
// returns a value or an absl::Status. `body` is the event's bytes after the 19-byte common header
// and *without* the 4-byte checksum trailer (BinlogDecoder strips and verifies it). Errors are
// DataLoss / InvalidArgument naming the event type, the offset within the body and what was
// expected; they never assert on bad input.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/mysql/event_types.h"

namespace sluice::mysql {

using Bytes = std::span<const std::byte>;

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the epoch; 0 for artificial events
  uint8_t type = 0;        // an EventType code; unknown codes are kept as they are
  uint32_t server_id = 0;
  uint32_t event_size = 0;  // the whole event: header + body + checksum
  uint32_t log_pos = 0;     // position of the *next* event (0 inside payloads, MariaDB caches)
  uint16_t flags = 0;
};

// Decodes the 19-byte common header at the start of `event`. Fails if fewer than 19 bytes are
// given or event_size is smaller than the header.
absl::StatusOr<EventHeader> DecodeEventHeader(Bytes event);

struct FormatDescription {
  uint16_t binlog_version = 4;
  std::string server_version;
  uint32_t create_timestamp = 0;
  uint8_t header_length = kEventHeaderLength;
  // Post-header length of event type t is post_header_lengths[t - 1].
  std::vector<uint8_t> post_header_lengths;
  ChecksumAlg checksum = ChecksumAlg::kOff;
  // True when the server version is new enough to append the checksum-algorithm byte (and a
  // checksum field) to the FDE itself: MySQL >= 5.6.1, MariaDB >= 5.3.
  bool has_checksum_alg = false;

  // The post-header length the FDE declares for `type`, or `fallback` when the array is short.
  uint8_t PostHeaderLength(EventType type, uint8_t fallback) const;
};

// A description used before any FDE has been seen: binlog v4, no checksum, MySQL 5.7 defaults.
FormatDescription DefaultFormatDescription();

// True if `server_version` ("8.0.40", "10.5.15-MariaDB-log", "5.1.43-debug") writes a checksum
// algorithm byte into its FORMAT_DESCRIPTION event.
bool VersionHasChecksumAlg(std::string_view server_version);

// Decodes a FORMAT_DESCRIPTION body *including* its trailing checksum-algorithm byte and checksum
// field when the version has them (the FDE announces its own checksum, so the caller cannot strip
// it beforehand). The CRC itself is verified by the caller.
absl::StatusOr<FormatDescription> DecodeFormatDescription(Bytes body_with_trailer);

struct Rotate {
  uint64_t position = 0;  // where to start in the next file
  std::string next_file;
};
absl::StatusOr<Rotate> DecodeRotate(Bytes body, const FormatDescription& fde);

struct Query {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  std::string database;
  std::string query;  // "BEGIN", "COMMIT", DDL, or statement-based DML, in the client's charset
  // character_set_client of the session that ran the statement (a collation id, from the
  // Q_CHARSET_CODE status variable): the charset `query`'s bytes are in. Absent when the event
  // has none, or when a status variable sluice does not know comes before it.
  std::optional<uint16_t> client_collation;
};
absl::StatusOr<Query> DecodeQuery(Bytes body, const FormatDescription& fde);

// The character_set_client collation id in a QUERY event's status variables, if present. The
// variables are a sequence of (code, value) with code-specific lengths and no framing, so the
// scan stops at the first code it does not know (nullopt) or at a value cut short (nullopt).
std::optional<uint16_t> FindClientCollation(Bytes status_vars);

struct Xid {
  uint64_t xid = 0;
};
absl::StatusOr<Xid> DecodeXid(Bytes body);

using Uuid = std::array<uint8_t, 16>;
// "3e11fa47-71ca-11e1-9e33-c80aa9429562".
std::string UuidToString(const Uuid& uuid);

// MySQL GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34) and GTID_TAGGED_LOG_EVENT (42).
struct Gtid {
  bool anonymous = false;
  uint8_t flags = 0;  // bit 0: may commit in parallel ("commit flag")
  Uuid sid{};
  std::string tag;  // MySQL 8.3+ tagged GTIDs; empty otherwise
  int64_t gno = 0;
  std::optional<int64_t> last_committed;
  std::optional<int64_t> sequence_number;
  std::optional<uint64_t> immediate_commit_micros;
  std::optional<uint64_t> original_commit_micros;
  std::optional<uint64_t> transaction_length;
  // "uuid:gno" or "uuid:tag:gno"; "ANONYMOUS" for anonymous GTIDs.
  std::string ToString() const;
};
absl::StatusOr<Gtid> DecodeGtid(Bytes body, bool anonymous);
absl::StatusOr<Gtid> DecodeGtidTagged(Bytes body);

// PREVIOUS_GTIDS_LOG_EVENT (35): the GTID set executed before this file.
struct GtidInterval {
  int64_t start = 0;  // inclusive
  int64_t end = 0;    // exclusive
};
struct GtidSetEntry {
  Uuid sid{};
  std::string tag;
  std::vector<GtidInterval> intervals;
};
struct PreviousGtids {
  std::vector<GtidSetEntry> entries;
  // "uuid:1-5:7,uuid2:tag:1-3" (MySQL's text form, inclusive ranges).
  std::string ToString() const;
};
absl::StatusOr<PreviousGtids> DecodePreviousGtids(Bytes body);

// HEARTBEAT_LOG_EVENT (27): the header's log_pos is the position; the body is the file name.
struct Heartbeat {
  std::string file;
};
absl::StatusOr<Heartbeat> DecodeHeartbeat(Bytes body);

// ROWS_QUERY_LOG_EVENT (29, MySQL) and ANNOTATE_ROWS_EVENT (160, MariaDB): the statement text.
struct RowsQuery {
  std::string query;
};
absl::StatusOr<RowsQuery> DecodeRowsQuery(Bytes body, bool mariadb_annotate);

// MariaDB GTID_EVENT (162). The GTID's server id is the event header's server_id.
struct MariaGtid {
  uint64_t seq_no = 0;
  uint32_t domain_id = 0;
  uint32_t server_id = 0;             // copied from the header
  uint8_t flags = 0;                  // kMariaGtid* bits
  std::optional<uint64_t> commit_id;  // with kMariaGtidGroupCommitId
  bool standalone() const { return flags & kMariaGtidStandalone; }
  // "domain-server-seq", e.g. "0-1-42".
  std::string ToString() const;
};
absl::StatusOr<MariaGtid> DecodeMariaGtid(Bytes body, uint32_t header_server_id);

// MariaDB GTID_LIST_EVENT (163).
struct MariaGtidList {
  uint8_t flags = 0;  // the top 4 bits of the count field
  std::vector<MariaGtid> gtids;
  // "0-1-42,1-2-7".
  std::string ToString() const;
};
absl::StatusOr<MariaGtidList> DecodeMariaGtidList(Bytes body);

// MariaDB BINLOG_CHECKPOINT_EVENT (161).
struct BinlogCheckpoint {
  std::string file;
};
absl::StatusOr<BinlogCheckpoint> DecodeBinlogCheckpoint(Bytes body);

}  // namespace sluice::mysql
