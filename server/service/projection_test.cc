#include "server/service/projection.h"

#include <gtest/gtest.h>

#include "sluice/v1/event.pb.h"

namespace sluice::service {
namespace {

void AddField(v1::Row& row, const std::string& name, int64_t v) {
  auto* f = row.add_fields();
  f->set_name(name);
  f->mutable_value()->set_int64(v);
}

v1::ChangeEvent Update() {
  v1::ChangeEvent e;
  e.set_offset(7);
  e.set_op(v1::OP_UPDATE);
  e.mutable_source()->set_table("orders");
  e.add_key_columns("id");
  e.add_key_columns("region");
  for (auto* row : {e.mutable_before(), e.mutable_after()}) {
    AddField(*row, "id", 1);
    AddField(*row, "region", 2);
    AddField(*row, "total", 3);
    AddField(*row, "note", 4);
    AddField(*row, "secret", 5);
  }
  e.add_unchanged("blob");
  e.add_unchanged("note");
  return e;
}

std::vector<std::string> Names(const v1::Row& row) {
  std::vector<std::string> out;
  for (const auto& f : row.fields()) out.push_back(f.name());
  return out;
}

TEST(ColumnProjector, KeepsListedAndKeyColumnsInColumnOrder) {
  ColumnProjector projector({Projection{"shop.orders", {"note", "total"}}});
  const Projection* p = projector.Match("shop.orders");
  ASSERT_NE(p, nullptr);
  auto bytes = ColumnProjector::Apply(*p, Update().SerializeAsString());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  v1::ChangeEvent e;
  ASSERT_TRUE(e.ParseFromString(*bytes));
  const std::vector<std::string> want = {"id", "region", "total", "note"};
  EXPECT_EQ(Names(e.before()), want);
  EXPECT_EQ(Names(e.after()), want);
  EXPECT_EQ(e.after().fields(2).value().int64(), 3);
  ASSERT_EQ(e.unchanged_size(), 1);
  EXPECT_EQ(e.unchanged(0), "note");
  EXPECT_EQ(e.offset(), 7u);
  EXPECT_EQ(e.op(), v1::OP_UPDATE);
}

TEST(ColumnProjector, FirstMatchingGlobWinsAndOtherTablesAreUntouched) {
  ColumnProjector projector(
      {Projection{"shop.ord*", {"total"}}, Projection{"shop.*", {"note", "secret"}}});
  EXPECT_EQ(projector.Match("shop.orders")->columns.size(), 1u);
  EXPECT_EQ(projector.Match("shop.items")->columns.size(), 2u);
  EXPECT_EQ(projector.Match("other.items"), nullptr);
  EXPECT_TRUE(ColumnProjector().empty());
}

TEST(ColumnProjector, AnInsertKeepsItsMissingBeforeImageMissing) {
  v1::ChangeEvent e = Update();
  e.clear_before();
  auto bytes = ColumnProjector::Apply(Projection{"*", {"total"}}, e.SerializeAsString());
  ASSERT_TRUE(bytes.ok());
  v1::ChangeEvent out;
  ASSERT_TRUE(out.ParseFromString(*bytes));
  EXPECT_FALSE(out.has_before());
  EXPECT_EQ(Names(out.after()), (std::vector<std::string>{"id", "region", "total"}));
}

TEST(ColumnProjector, BadStoredBytesAreDataLoss) {
  auto r = ColumnProjector::Apply(Projection{"*", {"x"}}, "\xff\xff\xff");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sluice::service
