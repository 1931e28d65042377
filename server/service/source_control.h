#pragma once
// SourceControl: what the Admin service asks of the process that runs the sources (sluiced's
// daemon implements it): the configured sources, pausing and resuming one, and its retention
// policy. Keeps server/service free of the daemon.
//
// Errors: NotFound naming the known sources for an unknown name; FailedPrecondition for an
// operation that does not apply now (pausing a paused source, or anything during shutdown).
// Thread-safety: implementations must allow calls from any thread.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sluice/v1/service.pb.h"
#include "storage/change_log.h"

namespace sluice::service {

class SourceControl {
 public:
  virtual ~SourceControl() = default;

  // The configured sources, secrets redacted, with their current state and retention.
  virtual std::vector<v1::ConfiguredSource> ListSources() const = 0;

  // Stops reading `source` (its appends finish and the source is acknowledged up to them) and
  // marks it PAUSED. Returns when it has stopped.
  virtual absl::Status Pause(const std::string& source) = 0;
  // Starts reading a paused source again from its stored position.
  virtual absl::Status Resume(const std::string& source) = 0;

  // The retention policy of a stored or configured source.
  virtual absl::StatusOr<storage::RetentionPolicy> Retention(const std::string& source) const = 0;
  // Changes the fields that are set and returns the policy now in force. Takes effect at once
  // (the retention loop runs) and lasts until sluiced restarts.
  virtual absl::StatusOr<storage::RetentionPolicy> SetRetention(
      const std::string& source, std::optional<int64_t> max_age_micros,
      std::optional<uint64_t> max_bytes) = 0;

  // Queues an on-demand re-snapshot of `table` on `source` (pipeline::SourceRunner::
  // RequestSnapshot); progress shows in Status. FailedPrecondition for a paused source.
  virtual absl::Status Snapshot(const std::string& source, const std::string& table,
                                const std::string& where) {
    return absl::UnimplementedError("this server cannot re-snapshot tables");
  }
};

}  // namespace sluice::service
