#pragma once
// RelationCache: what a pgoutput stream has said about relations and types so far.
//
// pgoutput sends a Relation message before the first change of a relation in a session and again
// whenever the relation's definition changes; a Type message before a non-built-in column type is
// used. Insert/Update/Delete carry only the relation id, so decoding them needs this cache.
//
// Apply(Relation) reports whether the relation's shape (column names, type OIDs, type
// modifiers, key flags) differs from the cached one, and the new column list as
// v1::ColumnSchema, so the caller can emit an OP_DDL event. A relation seen for the first time
// in this cache is `is_new`, not `shape_changed`: after a restart the cache is empty, and the
// caller compares the returned columns with the schema it persisted.
//
// ColumnSchema.nullable is always true: pgoutput does not carry NOT NULL.
//
// Thread-compatible: one cache per replication stream, used from one thread.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/postgres/pg_text_value.h"
#include "protocol/postgres/pgoutput.h"
#include "sluice/v1/event.pb.h"

namespace sluice::postgres {

struct CachedRelation {
  uint32_t relid = 0;
  std::string schema;  // "pg_catalog" when the Relation message said ""
  std::string name;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;
  std::vector<RelationColumn> columns;
};

struct RelationChange {
  bool is_new = false;                    // first Relation message for this relid
  bool shape_changed = false;             // cached before, and columns/types/keys differ
  std::vector<v1::ColumnSchema> columns;  // the relation's columns after this message
};

class RelationCache {
 public:
  // Records (or replaces) a relation.
  RelationChange Apply(const RelationMessage& message);
  // Records a type's namespace and name, for type names of non-built-in columns.
  void ApplyType(const TypeMessage& message);

  // nullptr when the relation was never announced. The pointer is valid until the next Apply
  // for the same relid or the cache's destruction.
  const CachedRelation* Find(uint32_t relid) const;

  // "int4", "int4[]" for built-ins; "schema.name" from a Type message; else "oid:N".
  std::string TypeName(uint32_t oid) const;

  // A resolver for DecodeTextValue that knows the names from Type messages but not their kinds
  // (Type messages do not say whether a type is an enum or a domain): types are then kept as
  // RawValue with their name. If `fallback` is set it is asked first and its answer is used
  // unless it is kUnknown. The resolver borrows this cache; it must not outlive it.
  TypeResolver Resolver(TypeResolver fallback = nullptr) const;

  // The columns of `relation` as v1::ColumnSchema.
  std::vector<v1::ColumnSchema> ColumnSchemas(const CachedRelation& relation) const;

 private:
  std::unordered_map<uint32_t, CachedRelation> relations_;
  std::unordered_map<uint32_t, std::string> type_names_;
};

}  // namespace sluice::postgres
