#include "protocol/postgres/row_mapping.h"

#include <gtest/gtest.h>

#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/relation_cache.h"

namespace sluice::postgres {
namespace {

TupleColumn T(std::string s) { return {TupleColumn::Kind::kText, std::move(s)}; }
TupleColumn N() { return {TupleColumn::Kind::kNull, ""}; }
TupleColumn U() { return {TupleColumn::Kind::kUnchangedToast, ""}; }

RelationMessage Rel(ReplicaIdentity ident = ReplicaIdentity::kDefault) {
  RelationMessage r;
  r.relid = 100;
  r.schema = "public";
  r.name = "docs";
  r.replica_identity = ident;
  r.columns = {
      {kColumnFlagKey, "id", kInt4Oid, -1}, {0, "title", kTextOid, -1}, {0, "body", kTextOid, -1}};
  return r;
}

std::vector<std::string> Names(const v1::Row& row) {
  std::vector<std::string> out;
  for (const auto& f : row.fields()) out.push_back(f.name());
  return out;
}

TEST(RowMappingTest, Insert) {
  RelationCache cache;
  cache.Apply(Rel());
  InsertMessage m{std::nullopt, 100, {T("1"), N(), T("text")}};
  auto e = MapInsert(cache, m);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->op(), v1::OP_INSERT);
  EXPECT_EQ(e->source().kind(), v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(e->source().schema(), "public");
  EXPECT_EQ(e->source().table(), "docs");
  ASSERT_EQ(e->key_columns_size(), 1);
  EXPECT_EQ(e->key_columns(0), "id");
  EXPECT_FALSE(e->has_before());
  ASSERT_EQ(e->after().fields_size(), 3);
  EXPECT_EQ(e->after().fields(0).value().int64(), 1);
  EXPECT_TRUE(e->after().fields(1).value().null());
  EXPECT_EQ(e->after().fields(2).value().string(), "text");
}

TEST(RowMappingTest, UpdateUnchangedToastWithoutOldTuple) {
  RelationCache cache;
  cache.Apply(Rel());
  UpdateMessage m;
  m.relid = 100;
  m.new_tuple = {T("1"), T("new title"), U()};
  auto e = MapUpdate(cache, m);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->op(), v1::OP_UPDATE);
  EXPECT_FALSE(e->has_before());
  EXPECT_EQ(Names(e->after()), (std::vector<std::string>{"id", "title"}));
  ASSERT_EQ(e->unchanged_size(), 1);
  EXPECT_EQ(e->unchanged(0), "body");
}

TEST(RowMappingTest, UpdateWithKeyImageKeepsOnlyKeyColumns) {
  RelationCache cache;
  cache.Apply(Rel());
  UpdateMessage m;
  m.relid = 100;
  m.old_kind = OldTupleKind::kKey;
  m.old_tuple = {T("1"), N(), N()};
  m.new_tuple = {T("2"), T("t"), U()};
  auto e = MapUpdate(cache, m);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(Names(e->before()), (std::vector<std::string>{"id"}));
  EXPECT_EQ(e->before().fields(0).value().int64(), 1);
  EXPECT_EQ(e->after().fields(0).value().int64(), 2);
  EXPECT_EQ(e->unchanged_size(), 1);  // a key image cannot fill TOAST
}

TEST(RowMappingTest, UpdateUnchangedToastFilledFromFullOldTuple) {
  RelationCache cache;
  cache.Apply(Rel(ReplicaIdentity::kFull));
  UpdateMessage m;
  m.relid = 100;
  m.old_kind = OldTupleKind::kOld;
  m.old_tuple = {T("1"), T("old title"), T("big body")};
  m.new_tuple = {T("1"), T("new title"), U()};
  auto e = MapUpdate(cache, m);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->unchanged_size(), 0);
  EXPECT_EQ(Names(e->before()), (std::vector<std::string>{"id", "title", "body"}));
  ASSERT_EQ(e->after().fields_size(), 3);
  EXPECT_EQ(e->after().fields(2).value().string(), "big body");
  EXPECT_EQ(e->before().fields(1).value().string(), "old title");

  // An old tuple that itself lacks the value cannot fill it.
  m.old_tuple = {T("1"), T("old title"), U()};
  e = MapUpdate(cache, m);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(Names(e->before()), (std::vector<std::string>{"id", "title"}));
  ASSERT_EQ(e->unchanged_size(), 1);
  EXPECT_EQ(e->after().fields_size(), 2);
}

TEST(RowMappingTest, Delete) {
  RelationCache cache;
  cache.Apply(Rel());
  DeleteMessage k{std::nullopt, 100, OldTupleKind::kKey, {T("5"), N(), N()}};
  auto e = MapDelete(cache, k);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->op(), v1::OP_DELETE);
  EXPECT_EQ(Names(e->before()), (std::vector<std::string>{"id"}));
  EXPECT_FALSE(e->has_after());
  DeleteMessage o{std::nullopt, 100, OldTupleKind::kOld, {T("5"), N(), T("b")}};
  e = MapDelete(cache, o);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(Names(e->before()), (std::vector<std::string>{"id", "title", "body"}));
  EXPECT_TRUE(e->before().fields(1).value().null());
}

TEST(RowMappingTest, Errors) {
  RelationCache cache;
  InsertMessage m{std::nullopt, 100, {T("1"), N(), T("x")}};
  EXPECT_EQ(MapInsert(cache, m).status().code(), absl::StatusCode::kInvalidArgument);
  cache.Apply(Rel());
  m.new_tuple.pop_back();
  auto e = MapInsert(cache, m);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("expected 3"), absl::string_view::npos) << e.status();
  m.new_tuple = {T("1"), {TupleColumn::Kind::kBinary, "\x01"}, N()};
  EXPECT_EQ(MapInsert(cache, m).status().code(), absl::StatusCode::kUnimplemented);
  UpdateMessage u;
  u.relid = 100;
  u.old_kind = OldTupleKind::kKey;
  u.old_tuple = {T("1")};
  u.new_tuple = {T("1"), N(), N()};
  EXPECT_EQ(MapUpdate(cache, u).status().code(), absl::StatusCode::kInvalidArgument);
  DeleteMessage d{std::nullopt, 101, OldTupleKind::kKey, {}};
  EXPECT_EQ(MapDelete(cache, d).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RelationCacheTest, DetectsShapeChanges) {
  RelationCache cache;
  RelationChange c = cache.Apply(Rel());
  EXPECT_TRUE(c.is_new);
  EXPECT_FALSE(c.shape_changed);
  ASSERT_EQ(c.columns.size(), 3u);
  EXPECT_EQ(c.columns[0].name(), "id");
  EXPECT_EQ(c.columns[0].type_name(), "int4");
  EXPECT_TRUE(c.columns[0].key());
  EXPECT_TRUE(c.columns[0].nullable());

  c = cache.Apply(Rel());  // re-sent unchanged (e.g. after a reconnect)
  EXPECT_FALSE(c.is_new);
  EXPECT_FALSE(c.shape_changed);

  RelationMessage added = Rel();
  added.columns.push_back({0, "extra", kJsonbOid, -1});
  c = cache.Apply(added);
  EXPECT_TRUE(c.shape_changed);
  EXPECT_EQ(c.columns.size(), 4u);
  EXPECT_EQ(cache.Find(100)->columns.size(), 4u);

  RelationMessage retyped = added;
  retyped.columns[3].type_oid = kTextOid;
  EXPECT_TRUE(cache.Apply(retyped).shape_changed);
  RelationMessage rekeyed = retyped;
  rekeyed.columns[1].flags = kColumnFlagKey;
  EXPECT_TRUE(cache.Apply(rekeyed).shape_changed);
  RelationMessage renamed_table = rekeyed;
  renamed_table.name = "documents";  // not a shape change
  EXPECT_FALSE(cache.Apply(renamed_table).shape_changed);
  EXPECT_EQ(cache.Find(100)->name, "documents");

  RelationMessage catalog = Rel();
  catalog.relid = 5;
  catalog.schema = "";
  cache.Apply(catalog);
  EXPECT_EQ(cache.Find(5)->schema, "pg_catalog");
}

TEST(RelationCacheTest, TypeNamesAndResolver) {
  RelationCache cache;
  cache.ApplyType(TypeMessage{std::nullopt, 70001, "public", "mood"});
  EXPECT_EQ(cache.TypeName(70001), "public.mood");
  EXPECT_EQ(cache.TypeName(1009), "text[]");
  EXPECT_EQ(cache.TypeName(70009), "oid:70009");
  RelationMessage r = Rel();
  r.columns[2].type_oid = 70001;
  RelationChange c = cache.Apply(r);
  EXPECT_EQ(c.columns[2].type_name(), "public.mood");

  // Without a catalog resolver the enum stays raw, named.
  InsertMessage m{std::nullopt, 100, {T("1"), N(), T("happy")}};
  auto e = MapInsert(cache, m, cache.Resolver());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->after().fields(2).value().raw().type_name(), "public.mood");
  // With one that knows it is an enum, it is a string.
  TypeResolver catalog = [](uint32_t oid) {
    TypeResolution t;
    if (oid == 70001) t.kind = TypeResolution::Kind::kEnum;
    return t;
  };
  e = MapInsert(cache, m, cache.Resolver(catalog));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->after().fields(2).value().string(), "happy");
}

}  // namespace
}  // namespace sluice::postgres
