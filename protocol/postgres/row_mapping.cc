#include "protocol/postgres/row_mapping.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"

namespace sluice::postgres {
namespace {

absl::StatusOr<const CachedRelation*> Lookup(const RelationCache& cache, uint32_t relid,
                                             std::string_view what) {
  const CachedRelation* relation = cache.Find(relid);
  if (relation == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("pgoutput ", std::string(what), ": relation ",
                                                   relid,
                                                   " was not announced by a Relation message"));
  }
  return relation;
}

absl::Status CheckTuple(const CachedRelation& relation, const TupleData& tuple,
                        std::string_view what, std::string_view image) {
  if (tuple.size() != relation.columns.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pgoutput ", std::string(what), ": ", std::string(image), " tuple of ", relation.schema,
        ".", relation.name, " has ", tuple.size(), " columns: expected ", relation.columns.size(),
        " as announced by its Relation message"));
  }
  for (size_t i = 0; i < tuple.size(); ++i) {
    if (tuple[i].kind == TupleColumn::Kind::kBinary) {
      return absl::UnimplementedError(absl::StrCat(
          "pgoutput ", std::string(what), ": column ", relation.columns[i].name, " of ",
          relation.schema, ".", relation.name,
          " is in binary format: expected text format (start replication without binary)"));
    }
  }
  return absl::OkStatus();
}

v1::Value ColumnValue(const RelationColumn& column, const TupleColumn& value,
                      const TypeResolver& resolver) {
  if (value.kind == TupleColumn::Kind::kNull) return NullValue();
  return DecodeTextValue(column.type_oid, value.data, resolver);
}

v1::ChangeEvent Skeleton(const CachedRelation& relation, v1::Op op) {
  v1::ChangeEvent event;
  event.set_op(op);
  event.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  event.mutable_source()->set_schema(relation.schema);
  event.mutable_source()->set_table(relation.name);
  for (const RelationColumn& c : relation.columns) {
    if (c.key()) event.add_key_columns(c.name);
  }
  return event;
}

// The old image: key columns only for 'K', all for 'O'; 'u' columns left out.
v1::Row OldRow(const CachedRelation& relation, OldTupleKind kind, const TupleData& tuple,
               const TypeResolver& resolver) {
  v1::Row row;
  for (size_t i = 0; i < tuple.size(); ++i) {
    const RelationColumn& column = relation.columns[i];
    if (kind == OldTupleKind::kKey && !column.key()) continue;
    if (tuple[i].kind == TupleColumn::Kind::kUnchangedToast) continue;
    v1::Field* field = row.add_fields();
    field->set_name(column.name);
    *field->mutable_value() = ColumnValue(column, tuple[i], resolver);
  }
  return row;
}

// The new image. `full_old` is the 'O' tuple or nullptr; it fills 'u' columns.
void NewRow(const CachedRelation& relation, const TupleData& tuple, const TupleData* full_old,
            const TypeResolver& resolver, v1::ChangeEvent& event) {
  v1::Row* row = event.mutable_after();
  for (size_t i = 0; i < tuple.size(); ++i) {
    const RelationColumn& column = relation.columns[i];
    const TupleColumn* value = &tuple[i];
    if (value->kind == TupleColumn::Kind::kUnchangedToast) {
      if (full_old == nullptr || (*full_old)[i].kind == TupleColumn::Kind::kUnchangedToast) {
        event.add_unchanged(column.name);
        continue;
      }
      value = &(*full_old)[i];
    }
    v1::Field* field = row->add_fields();
    field->set_name(column.name);
    *field->mutable_value() = ColumnValue(column, *value, resolver);
  }
}

}  // namespace

absl::StatusOr<v1::ChangeEvent> MapInsert(const RelationCache& cache, const InsertMessage& insert,
                                          const TypeResolver& resolver) {
  SLUICE_ASSIGN_OR_RETURN(const CachedRelation* relation, Lookup(cache, insert.relid, "Insert"));
  SLUICE_RETURN_IF_ERROR(CheckTuple(*relation, insert.new_tuple, "Insert", "new"));
  v1::ChangeEvent event = Skeleton(*relation, v1::OP_INSERT);
  NewRow(*relation, insert.new_tuple, nullptr, resolver, event);
  return event;
}

absl::StatusOr<v1::ChangeEvent> MapUpdate(const RelationCache& cache, const UpdateMessage& update,
                                          const TypeResolver& resolver) {
  SLUICE_ASSIGN_OR_RETURN(const CachedRelation* relation, Lookup(cache, update.relid, "Update"));
  SLUICE_RETURN_IF_ERROR(CheckTuple(*relation, update.new_tuple, "Update", "new"));
  v1::ChangeEvent event = Skeleton(*relation, v1::OP_UPDATE);
  const TupleData* full_old = nullptr;
  if (update.old_kind != OldTupleKind::kNone) {
    SLUICE_RETURN_IF_ERROR(CheckTuple(*relation, update.old_tuple, "Update", "old"));
    *event.mutable_before() = OldRow(*relation, update.old_kind, update.old_tuple, resolver);
    if (update.old_kind == OldTupleKind::kOld) full_old = &update.old_tuple;
  }
  NewRow(*relation, update.new_tuple, full_old, resolver, event);
  return event;
}

absl::StatusOr<v1::ChangeEvent> MapDelete(const RelationCache& cache, const DeleteMessage& del,
                                          const TypeResolver& resolver) {
  SLUICE_ASSIGN_OR_RETURN(const CachedRelation* relation, Lookup(cache, del.relid, "Delete"));
  SLUICE_RETURN_IF_ERROR(CheckTuple(*relation, del.old_tuple, "Delete", "old"));
  v1::ChangeEvent event = Skeleton(*relation, v1::OP_DELETE);
  *event.mutable_before() = OldRow(*relation, del.old_kind, del.old_tuple, resolver);
  return event;
}

}  // namespace sluice::postgres
