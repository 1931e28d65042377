#include "server/service/start_position.h"

#include "absl/strings/str_cat.h"

namespace sluice::service {

absl::StatusOr<LogOffset> ResolveStart(const storage::ChangeLog& log, storage::SourceId source,
                                       const v1::StartPosition& start) {
  auto bounds = log.Bounds(source);
  if (!bounds.ok()) return bounds.status();
  switch (start.kind_case()) {
    case v1::StartPosition::kLatest:
      return bounds->last.next();
    case v1::StartPosition::kOffset:
      if (start.offset() == 0) {
        return absl::InvalidArgumentError("start offset 0 is not valid: offsets start at 1");
      }
      if (start.offset() < bounds->first.value()) {
        return absl::OutOfRangeError(absl::StrCat(
            "offset ", start.offset(),
            " is no longer stored (retention removed it); the earliest available offset is ",
            bounds->first.value()));
      }
      return LogOffset(start.offset());
    case v1::StartPosition::kCommitTsMicros:
      return log.OffsetForTime(source, start.commit_ts_micros());
    case v1::StartPosition::kSnapshotThenStream:
      return absl::InvalidArgumentError(
          "snapshot_then_stream is not a log position: it starts a Subscribe stream or a new "
          "durable subscription with the table state; a reset goes to earliest, latest, an "
          "offset or a time");
    case v1::StartPosition::kEarliest:
    case v1::StartPosition::KIND_NOT_SET:
      return bounds->first;
  }
  return bounds->first;
}

}  // namespace sluice::service
