#pragma once
// SourceRunner: one running source connector. It owns a thread that reads the source, assembles
// committed transactions and appends them to the change log, and acknowledges the source only
// for positions whose events are durable. It reports its state to the SourceRegistry.
//
// Lifecycle: construct, Start(), Stop() (idempotent; also run by the destructor).

#include <string>

#include "absl/status/status.h"

namespace sluice::pipeline {

class SourceRunner {
 public:
  virtual ~SourceRunner() = default;
  virtual void Start() = 0;
  virtual void Stop() = 0;
  // Queues an on-demand re-snapshot of `table` ("db.table" / "schema.table"), limited by the
  // SQL condition `where` when it is not empty, while the source keeps streaming
  // (watermark_snapshot.h). Returns once queued; progress shows in the registry. Errors:
  // InvalidArgument for a malformed table name, FailedPrecondition when the source cannot take
  // one now (not streaming, another one running), Unimplemented for sources without support.
  virtual absl::Status RequestSnapshot(const std::string& table, const std::string& where) {
    return absl::UnimplementedError("this source cannot re-snapshot a table");
  }
};

}  // namespace sluice::pipeline
