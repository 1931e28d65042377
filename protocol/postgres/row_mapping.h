#pragma once
// Mapping of decoded pgoutput row changes into sluice::v1::ChangeEvent fields.
//
// Filled here: op, source.kind (POSTGRES), source.schema, source.table, key_columns (columns with
// the key flag of the cached Relation), before, after and unchanged. Everything else (offset,
// source name/database/position/txid/commit time, transaction index) is the caller's.
//
// Row images:
//   * Insert: after = the new tuple.
//   * Update: after = the new tuple; before = the old tuple when one was sent: a 'K' image holds
//     only the key columns (the others are not known, so they are absent, not NULL), an 'O'
//     image (REPLICA IDENTITY FULL) holds every column.
//   * Delete: before = the 'K' or 'O' image as above.
//   * An unchanged TOAST column ('u') is never NULL. In `after` it is filled from the 'O' image
//     when that has the value; otherwise it is left out of `after` and its name is listed in
//     `unchanged`. A 'u' in an old image is left out of `before`.
//
// Errors: InvalidArgument when the relation was never announced or the tuple's column count
// differs from the relation's; Unimplemented for binary-format ('b') columns (sluice asks for
// text format). Text values never fail (see pg_text_value.h).
//
// Pure; thread-compatible (reads the cache).

#include "absl/status/statusor.h"
#include "protocol/postgres/pg_text_value.h"
#include "protocol/postgres/pgoutput.h"
#include "protocol/postgres/relation_cache.h"
#include "sluice/v1/event.pb.h"

namespace sluice::postgres {

absl::StatusOr<v1::ChangeEvent> MapInsert(const RelationCache& cache, const InsertMessage& insert,
                                          const TypeResolver& resolver = nullptr);
absl::StatusOr<v1::ChangeEvent> MapUpdate(const RelationCache& cache, const UpdateMessage& update,
                                          const TypeResolver& resolver = nullptr);
absl::StatusOr<v1::ChangeEvent> MapDelete(const RelationCache& cache, const DeleteMessage& del,
                                          const TypeResolver& resolver = nullptr);

}  // namespace sluice::postgres
