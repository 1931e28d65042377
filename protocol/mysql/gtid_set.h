#pragma once
// GtidSet: a set of MySQL GTIDs (uuid[:tag]:gno), the position type of GTID replication, as a
// value: parse MySQL's text form, format it canonically, add and test single GTIDs, and encode
// it for COM_BINLOG_DUMP_GTID. (MariaDB's domain-server-seq GTIDs are a different thing.)
//
// Text grammar (what @@gtid_executed prints; whitespace, including newlines, may surround any
// token; uuids and tags are case-insensitive):
//   set      := [ uuid_set { ',' uuid_set } ]         ; empty elements (",,") are ignored
//   uuid_set := uuid ':' group { ':' group }
//   group    := [ tag ':' ] interval { ':' interval }  ; a tag applies until the next tag
//   interval := gno [ '-' gno ]                        ; 1 <= first <= last <= 2^63 - 2
//   uuid     := 8-4-4-4-12 hex digits
//   tag      := [a-z_][a-z0-9_]{0,31}                  ; MySQL 8.3+
// e.g. "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1-3".
//
// Canonical text (ToString): uuids lowercase in ascending byte order, each once; under each uuid
// first its untagged intervals, then each tag (lowercase, ascending) with its intervals;
// intervals merged, ascending, "first-last" or "gno":
//   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:tag:1-3,4f...:1"
//
// Wire encoding (Encode; also the body of PREVIOUS_GTIDS_LOG_EVENT), little-endian:
//   untagged := n_sids u64 · { uuid[16] · n_intervals u64 · { start u64 · end u64 } }
//   tagged   := (1 << 56 | n_sids << 8 | 1) u64
//               · { uuid[16] · tag_len·2 u8 · tag · n_intervals u64 · { start u64 · end u64 } }
// with `end` exclusive, one entry per (uuid, tag) in ascending order. The tagged form (MySQL
// 8.3+, sql/rpl_gtid_set.cc encode_nsids_format) is used only when the set holds a tagged GTID,
// so untagged sets stay readable by older servers, which reject the tagged form.
//
// Pure; no I/O. Thread-safety: a const GtidSet may be shared; mutation needs exclusive access.

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/mysql/control_events.h"

namespace sluice::mysql {

// Parses "3e11fa47-71ca-11e1-9e33-c80aa9429562" (either case). InvalidArgument otherwise.
absl::StatusOr<Uuid> ParseUuid(std::string_view text);

class GtidSet {
 public:
  // The largest GNO MySQL assigns (GNO_END - 1).
  static constexpr int64_t kMaxGno = INT64_MAX - 1;
  static constexpr size_t kMaxTagLength = 32;

  // Half-open [start, end), as on the wire.
  struct Interval {
    int64_t start = 0;
    int64_t end = 0;
    bool operator==(const Interval&) const = default;
  };
  struct Key {
    Uuid uuid{};
    std::string tag;  // lowercase; empty for untagged GTIDs
    auto operator<=>(const Key&) const = default;
  };

  GtidSet() = default;

  // Parses the text form. InvalidArgument naming the offset and what was expected.
  static absl::StatusOr<GtidSet> Parse(std::string_view text);
  // The set a PREVIOUS_GTIDS_LOG_EVENT holds. InvalidArgument for an invalid tag or interval.
  static absl::StatusOr<GtidSet> FromPreviousGtids(const PreviousGtids& previous);

  // Adds one GTID. InvalidArgument if `tag` is not a valid tag (it is lowercased) or gno is
  // outside [1, kMaxGno].
  absl::Status Add(const Uuid& uuid, std::string_view tag, int64_t gno);
  // Adds [first, last]. InvalidArgument as Add, or if first > last.
  absl::Status AddRange(const Uuid& uuid, std::string_view tag, int64_t first, int64_t last);
  // Adds every GTID of `other`.
  void AddAll(const GtidSet& other);

  // Whether the GTID is in the set (`tag` compared case-insensitively).
  bool Contains(const Uuid& uuid, std::string_view tag, int64_t gno) const;
  // Whether every GTID of `other` is in this set.
  bool ContainsAll(const GtidSet& other) const;

  bool empty() const { return entries_.empty(); }
  bool has_tags() const;
  // Sorted, disjoint, non-adjacent intervals per (uuid, tag); no empty entries.
  const std::map<Key, std::vector<Interval>>& entries() const { return entries_; }

  std::string ToString() const;
  // The COM_BINLOG_DUMP_GTID / PREVIOUS_GTIDS encoding (see the grammar above).
  std::string Encode() const;

  bool operator==(const GtidSet&) const = default;

 private:
  void AddInterval(const Key& key, Interval iv);

  std::map<Key, std::vector<Interval>> entries_;
};

}  // namespace sluice::mysql
