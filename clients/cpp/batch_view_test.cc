// WireReader, EventView and BatchView against protobuf's own serializer and parser: the lazy
// views must read exactly what the generated code wrote, and bad bytes must be errors.
#include "clients/cpp/batch_view.h"

#include <gtest/gtest.h>

#include <string>

#include "clients/cpp/event_view.h"
#include "clients/cpp/wire_reader.h"
#include "sluice/v1/service.pb.h"

namespace sluice::client {
namespace {

void AddField(v1::Row& row, const std::string& name, int64_t v) {
  v1::Field* f = row.add_fields();
  f->set_name(name);
  f->mutable_value()->set_int64(v);
}

v1::ChangeEvent Insert(uint64_t offset, int64_t id) {
  v1::ChangeEvent e;
  e.set_offset(offset);
  e.set_op(v1::OP_INSERT);
  e.mutable_source()->set_name("shop");
  e.mutable_source()->set_table("orders");
  e.mutable_source()->set_position("binlog.000003:1234");
  e.add_key_columns("id");
  AddField(*e.mutable_after(), "id", id);
  AddField(*e.mutable_after(), "ts_us", -1700000000000000 - id);  // negative: a 10-byte varint
  v1::Field* note = e.mutable_after()->add_fields();
  note->set_name("note");
  note->mutable_value()->set_string("hello");
  e.mutable_after()->add_fields()->set_name("nothing");  // a Field without a value
  v1::Field* missing = e.mutable_after()->add_fields();
  missing->set_name("gone");
  missing->mutable_value()->set_null(true);
  e.set_transaction_index(static_cast<uint32_t>(offset % 3));
  e.set_last_in_transaction(offset % 3 == 2);
  e.set_ingest_ts_micros(1700000000123456);
  return e;
}

TEST(EventView, ReadsTheTopLevelAndFindsColumnsLikeTheParsedMessage) {
  const v1::ChangeEvent e = Insert(42, 7);
  const std::string bytes = e.SerializeAsString();
  absl::StatusOr<EventView> v = EventView::Read(bytes);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->offset(), 42u);
  EXPECT_EQ(v->op(), v1::OP_INSERT);
  EXPECT_EQ(v->transaction_index(), 0u);
  EXPECT_FALSE(v->last_in_transaction());
  EXPECT_EQ(v->ingest_ts_micros(), 1700000000123456);
  EXPECT_TRUE(v->has_after());
  EXPECT_FALSE(v->has_before());
  EXPECT_EQ(v->bytes(), bytes);

  auto id = v->After("id");
  ASSERT_TRUE(id.ok() && id->has_value());
  EXPECT_EQ(*(*id)->int64(), 7);
  auto ts = v->After("ts_us");
  ASSERT_TRUE(ts.ok() && ts->has_value());
  EXPECT_EQ(*(*ts)->int64(), -1700000000000007);
  auto note = v->After("note");
  ASSERT_TRUE(note.ok() && note->has_value());
  EXPECT_EQ((*note)->kind(), v1::Value::kString);
  EXPECT_EQ((*note)->payload(), "hello");
  EXPECT_FALSE((*note)->int64().ok());  // a string is not an int64
  v1::Value parsed;
  ASSERT_TRUE((*note)->Parse(parsed).ok());
  EXPECT_EQ(parsed.string(), "hello");
  auto nothing = v->After("nothing");
  ASSERT_TRUE(nothing.ok() && nothing->has_value());
  EXPECT_EQ((*nothing)->kind(), v1::Value::KIND_NOT_SET);
  auto gone = v->After("gone");
  ASSERT_TRUE(gone.ok() && gone->has_value());
  EXPECT_TRUE((*gone)->is_null());
  auto absent = v->After("no_such_column");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  auto before = v->Before("id");  // no before row
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->has_value());

  v1::ChangeEvent full;
  ASSERT_TRUE(v->Parse(full).ok());
  EXPECT_EQ(full.SerializeAsString(), bytes);
}

TEST(EventView, DefaultsWhenFieldsAreLeftOut) {
  v1::ChangeEvent e;  // proto3 leaves zero scalars out: an empty message
  absl::StatusOr<EventView> v = EventView::Read(e.SerializeAsString());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->offset(), 0u);
  EXPECT_EQ(v->op(), v1::OP_UNSPECIFIED);
  EXPECT_FALSE(v->has_after());
}

TEST(BatchView, IndexesEveryEventAndTheOffsetsOfAMessage) {
  v1::SubscribeResponse r;
  for (uint64_t o = 100; o < 110; ++o) *r.add_events() = Insert(o, static_cast<int64_t>(o) * 2);
  r.set_next_offset(112);
  r.set_last_offset(500);
  r.set_committed_offset(99);
  r.set_snapshot_offset(77);
  r.set_snapshot_done(true);
  BatchView view;
  view.Fresh() = r.SerializeAsString();
  ASSERT_TRUE(view.Index().ok());
  ASSERT_EQ(view.events().size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(view.events()[i].offset(), 100 + i);
    EXPECT_EQ(view.events()[i].bytes(), r.events(static_cast<int>(i)).SerializeAsString());
    EXPECT_EQ(*(*view.events()[i].After("id"))->int64(), static_cast<int64_t>(200 + 2 * i));
  }
  EXPECT_EQ(view.next_offset(), LogOffset(112));
  EXPECT_EQ(view.last_offset(), LogOffset(500));
  EXPECT_EQ(view.committed_offset(), LogOffset(99));
  EXPECT_EQ(view.snapshot_offset(), 77u);
  EXPECT_TRUE(view.snapshot_done());
  EXPECT_FALSE(view.heartbeat());
  view.DropFront(4);
  ASSERT_EQ(view.events().size(), 6u);
  EXPECT_EQ(view.events()[0].offset(), 104u);

  // The same message adopted as a slice (no copy) reads the same.
  const std::string serialized = r.SerializeAsString();
  view.Adopt(grpc::Slice(serialized));
  ASSERT_TRUE(view.Index().ok());
  ASSERT_EQ(view.events().size(), 10u);
  EXPECT_EQ(view.bytes(), serialized);
  EXPECT_EQ(view.events()[9].offset(), 109u);
  EXPECT_EQ(view.next_offset(), LogOffset(112));

  // The next message replaces everything; a heartbeat has no events.
  v1::SubscribeResponse heartbeat;
  heartbeat.set_next_offset(112);
  view.Fresh() = heartbeat.SerializeAsString();
  ASSERT_TRUE(view.Index().ok());
  EXPECT_TRUE(view.heartbeat());
  EXPECT_EQ(view.committed_offset(), LogOffset(0));
  EXPECT_FALSE(view.snapshot_done());
}

TEST(BatchView, EveryTruncationThatProtobufRejectsIsAnError) {
  v1::SubscribeResponse r;
  for (uint64_t o = 1; o <= 3; ++o) *r.add_events() = Insert(o, static_cast<int64_t>(o));
  r.set_next_offset(4);
  r.set_last_offset(300);
  const std::string bytes = r.SerializeAsString();
  int rejected = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    BatchView view;
    view.Fresh() = bytes.substr(0, n);
    const absl::Status s = view.Index();
    // The view reads the response and each event's top level. A cut there that protobuf
    // rejects must be rejected too (a cut inside a nested row is found when the row is read).
    v1::SubscribeResponse parsed;
    if (!parsed.ParseFromString(bytes.substr(0, n)) && !s.ok()) ++rejected;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n;
    }
    if (s.ok()) {
      // What it did read is a prefix of the real events.
      for (size_t i = 0; i < view.events().size(); ++i) {
        EXPECT_EQ(view.events()[i].offset(), i + 1) << n;
      }
    }
  }
  EXPECT_GT(rejected, static_cast<int>(bytes.size()) / 2);
}

TEST(BatchView, WrongWireTypesAndGroupsAreDataLoss) {
  BatchView view;
  view.Fresh() = std::string("\x08\x05", 2);  // events (field 1) as a varint
  EXPECT_EQ(view.Index().code(), absl::StatusCode::kDataLoss);
  view.Fresh() = std::string("\x12\x00", 2);  // next_offset (field 2) length-delimited
  EXPECT_EQ(view.Index().code(), absl::StatusCode::kDataLoss);
  view.Fresh() = std::string("\x0b\x0c", 2);  // a group
  EXPECT_EQ(view.Index().code(), absl::StatusCode::kDataLoss);
  view.Fresh() = std::string("\x0a\x02\x0a\x05", 4);  // an event whose source overruns it
  EXPECT_EQ(view.Index().code(), absl::StatusCode::kDataLoss);
  // Unknown fields are skipped, as protobuf does.
  view.Fresh() = std::string("\xf8\x01\x07\x10\x09", 5);  // field 31 = 7, next_offset = 9
  ASSERT_TRUE(view.Index().ok());
  EXPECT_EQ(view.next_offset(), LogOffset(9));
}

TEST(WireReader, ReadsEachWireTypeAndStaysFailed) {
  // field 1 varint 300; field 2 fixed64; field 3 bytes "ab"; field 4 fixed32.
  const std::string bytes("\x08\xac\x02\x11\x01\x02\x03\x04\x05\x06\x07\x08\x1a\x02"
                          "ab\x25\x01\x00\x00\x80",
                          21);
  WireReader r(bytes);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 1u);
  EXPECT_EQ(r.value(), 300u);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.wire_type(), WireType::kFixed64);
  EXPECT_EQ(r.value(), 0x0807060504030201u);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.bytes(), "ab");
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.wire_type(), WireType::kFixed32);
  EXPECT_EQ(r.value(), 0x80000001u);
  EXPECT_FALSE(r.Next());
  EXPECT_TRUE(r.status().ok());

  // A WireReader views its bytes: they must outlive it.
  const std::string eleven_ff = std::string(11, '\xff') + "\x01";
  WireReader too_long(eleven_ff);
  EXPECT_FALSE(too_long.Next());
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(too_long.Next());  // stays failed

  const std::string field_zero("\x00\x01", 2);
  WireReader zero_field(field_zero);  // field number 0
  EXPECT_FALSE(zero_field.Next());
  EXPECT_FALSE(zero_field.status().ok());

  const std::string truncated_fixed("\x09\x01\x02", 3);
  WireReader short_fixed(truncated_fixed);
  EXPECT_FALSE(short_fixed.Next());
  EXPECT_NE(short_fixed.status().message().find("at byte"), std::string::npos);
}

}  // namespace
}  // namespace sluice::client
