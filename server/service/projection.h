#pragma once
// ColumnProjector: a subscription's per-table column projections. An event whose table matches
// a projection's glob keeps only that projection's columns plus its key columns in `before`,
// `after` and `unchanged`; the first matching projection wins, and an event of a table that
// matches none is sent as stored. Pure; no gRPC.
//
// Errors: Apply is DataLoss when the stored event bytes do not parse.
// Thread-safety: const methods may be called concurrently.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::service {

struct Projection {
  std::string table_glob;
  std::set<std::string, std::less<>> columns;
};

class ColumnProjector {
 public:
  ColumnProjector() = default;
  explicit ColumnProjector(std::vector<Projection> projections)
      : projections_(std::move(projections)) {}

  bool empty() const { return projections_.empty(); }
  // The projection for `table` ("schema.table" / "database.table"), or nullptr: send as stored.
  const Projection* Match(std::string_view table) const;
  // Appends a canonical description: equal for projectors that project the same way.
  void AppendKey(std::string& out) const;
  // `serialized_event` re-encoded with only `projection`'s columns and the event's key columns.
  static absl::StatusOr<std::string> Apply(const Projection& projection,
                                           std::string_view serialized_event);

 private:
  std::vector<Projection> projections_;
};

}  // namespace sluice::service
