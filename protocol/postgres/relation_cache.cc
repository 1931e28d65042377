#include "protocol/postgres/relation_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {

RelationChange RelationCache::Apply(const RelationMessage& message) {
  CachedRelation relation;
  relation.relid = message.relid;
  relation.schema = message.schema.empty() ? "pg_catalog" : message.schema;
  relation.name = message.name;
  relation.replica_identity = message.replica_identity;
  relation.columns = message.columns;

  RelationChange change;
  auto it = relations_.find(message.relid);
  if (it == relations_.end()) {
    change.is_new = true;
  } else {
    change.shape_changed = it->second.columns != relation.columns;
  }
  change.columns = ColumnSchemas(relation);
  relations_[message.relid] = std::move(relation);
  return change;
}

void RelationCache::ApplyType(const TypeMessage& message) {
  type_names_[message.oid] =
      message.schema.empty() ? message.name : absl::StrCat(message.schema, ".", message.name);
}

const CachedRelation* RelationCache::Find(uint32_t relid) const {
  auto it = relations_.find(relid);
  return it == relations_.end() ? nullptr : &it->second;
}

std::string RelationCache::TypeName(uint32_t oid) const {
  if (auto builtin = BuiltinTypeName(oid)) return *builtin;
  auto it = type_names_.find(oid);
  if (it != type_names_.end()) return it->second;
  return absl::StrCat("oid:", oid);
}

TypeResolver RelationCache::Resolver(TypeResolver fallback) const {
  return [this, fallback = std::move(fallback)](uint32_t oid) {
    if (fallback) {
      TypeResolution r = fallback(oid);
      if (r.kind != TypeResolution::Kind::kUnknown) {
        if (r.type_name.empty()) r.type_name = TypeName(oid);
        return r;
      }
    }
    TypeResolution r;
    r.type_name = TypeName(oid);
    return r;
  };
}

std::vector<v1::ColumnSchema> RelationCache::ColumnSchemas(const CachedRelation& relation) const {
  std::vector<v1::ColumnSchema> out;
  out.reserve(relation.columns.size());
  for (const RelationColumn& c : relation.columns) {
    v1::ColumnSchema s;
    s.set_name(c.name);
    s.set_type_name(TypeName(c.type_oid));
    s.set_nullable(true);
    s.set_key(c.key());
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sluice::postgres
