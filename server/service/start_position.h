#pragma once
// Resolves a v1::StartPosition (earliest, latest, an offset, a commit time) to the first offset
// to deliver from a source's log.
//
// Errors: InvalidArgument for offset 0 and for snapshot_then_stream (Subscribe and creating a
// durable subscription resolve that themselves, from the table state: state_bootstrap.h), OutOfRange (naming the earliest stored offset) for an
// offset retention removed, and the log's errors. Thread-safety: as ChangeLog.

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "sluice/v1/service.pb.h"
#include "storage/change_log.h"

namespace sluice::service {

// An unset position is the earliest stored offset.
absl::StatusOr<LogOffset> ResolveStart(const storage::ChangeLog& log, storage::SourceId source,
                                       const v1::StartPosition& start);

}  // namespace sluice::service
