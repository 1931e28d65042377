#include "protocol/postgres/pgoutput.h"

#include <gtest/gtest.h>

#include "protocol/postgres/test_bytes.h"

namespace sluice::postgres {
namespace {

using testing::Bytes;

template <typename T>
T DecodeAs(const std::string& bytes, bool in_stream = false) {
  auto m = DecodePgoutput(bytes, in_stream);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*m)) << "variant index " << m->index();
  if (!std::holds_alternative<T>(*m)) return T{};
  return std::get<T>(std::move(*m));
}

// Every proper prefix of `full` must fail cleanly with DataLoss naming an offset.
void ExpectEveryPrefixFails(const std::string& full, bool in_stream, std::string_view name) {
  for (size_t n = 0; n < full.size(); ++n) {
    auto m = DecodePgoutput(std::string_view(full).substr(0, n), in_stream);
    ASSERT_FALSE(m.ok()) << name << " prefix " << n << " decoded";
    if (n == 0) {
      EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss)
        << name << " " << n << ": " << m.status();
    EXPECT_NE(m.status().message().find(std::string(name)), absl::string_view::npos) << m.status();
    EXPECT_NE(m.status().message().find("offset"), absl::string_view::npos) << m.status();
  }
  // And one byte too many is trailing garbage.
  auto m = DecodePgoutput(full + "x", in_stream);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << name;
  EXPECT_NE(m.status().message().find("trailing"), absl::string_view::npos) << m.status();
}

std::string BeginBytes() { return Bytes().Ch('B').U64(0x1000).U64(777).U32(42).str(); }

std::string RelationBytes(bool in_stream = false) {
  Bytes b;
  b.Ch('R');
  if (in_stream) b.U32(99);
  b.U32(16384).Str("public").Str("t").Ch('f').U16(3);
  b.U8(1).Str("id").U32(23).U32(0xFFFFFFFF);
  b.U8(0).Str("name").U32(1043).U32(14);
  b.U8(0).Str("doc").U32(25).U32(0xFFFFFFFF);
  return b.str();
}

std::string InsertBytes(bool in_stream = false) {
  Bytes b;
  b.Ch('I');
  if (in_stream) b.U32(99);
  b.U32(16384).Ch('N').U16(3).Text("1").Ch('n').Text("héllo");
  return b.str();
}

std::string UpdateBytes(char old_marker, bool in_stream = false) {
  Bytes b;
  b.Ch('U');
  if (in_stream) b.U32(99);
  b.U32(16384);
  if (old_marker != 0) b.Ch(old_marker).U16(3).Text("1").Ch('n').Text("old");
  b.Ch('N').U16(3).Text("2").Text("x").Ch('u');
  return b.str();
}

TEST(PgoutputTest, Begin) {
  auto m = DecodeAs<BeginMessage>(BeginBytes());
  EXPECT_EQ(m.final_lsn, Lsn(0x1000));
  EXPECT_EQ(m.commit_ts_pg_micros, 777);
  EXPECT_EQ(m.xid, 42u);
  ExpectEveryPrefixFails(BeginBytes(), false, "Begin");
}

TEST(PgoutputTest, Commit) {
  const std::string bytes = Bytes().Ch('C').U8(0).U64(0x10).U64(0x20).U64(999).str();
  auto m = DecodeAs<CommitMessage>(bytes);
  EXPECT_EQ(m.flags, 0);
  EXPECT_EQ(m.commit_lsn, Lsn(0x10));
  EXPECT_EQ(m.end_lsn, Lsn(0x20));
  EXPECT_EQ(m.commit_ts_pg_micros, 999);
  ExpectEveryPrefixFails(bytes, false, "Commit");
}

TEST(PgoutputTest, Origin) {
  const std::string bytes = Bytes().Ch('O').U64(0x55).Str("node_a").str();
  auto m = DecodeAs<OriginMessage>(bytes);
  EXPECT_EQ(m.commit_lsn, Lsn(0x55));
  EXPECT_EQ(m.name, "node_a");
  ExpectEveryPrefixFails(bytes, false, "Origin");
}

TEST(PgoutputTest, Relation) {
  auto m = DecodeAs<RelationMessage>(RelationBytes());
  EXPECT_FALSE(m.xid.has_value());
  EXPECT_EQ(m.relid, 16384u);
  EXPECT_EQ(m.schema, "public");
  EXPECT_EQ(m.name, "t");
  EXPECT_EQ(m.replica_identity, ReplicaIdentity::kFull);
  ASSERT_EQ(m.columns.size(), 3u);
  EXPECT_TRUE(m.columns[0].key());
  EXPECT_EQ(m.columns[0].name, "id");
  EXPECT_EQ(m.columns[0].type_oid, 23u);
  EXPECT_EQ(m.columns[0].type_modifier, -1);
  EXPECT_FALSE(m.columns[1].key());
  EXPECT_EQ(m.columns[1].type_modifier, 14);
  ExpectEveryPrefixFails(RelationBytes(), false, "Relation");
}

TEST(PgoutputTest, RelationInStreamHasXid) {
  auto m = DecodeAs<RelationMessage>(RelationBytes(true), true);
  EXPECT_EQ(m.xid, 99u);
  EXPECT_EQ(m.relid, 16384u);
  ExpectEveryPrefixFails(RelationBytes(true), true, "Relation");
  // The same bytes outside a stream are misread and must fail cleanly, not crash.
  EXPECT_FALSE(DecodePgoutput(RelationBytes(true), false).ok());
}

TEST(PgoutputTest, RelationRejectsBadIdentityAndHugeCount) {
  const std::string bad_ident = Bytes().Ch('R').U32(1).Str("s").Str("t").Ch('x').U16(0).str();
  auto m = DecodePgoutput(bad_ident, false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("replica identity"), absl::string_view::npos);
  const std::string huge = Bytes().Ch('R').U32(1).Str("s").Str("t").Ch('d').U16(30000).str();
  EXPECT_EQ(DecodePgoutput(huge, false).status().code(), absl::StatusCode::kDataLoss);
  const std::string negative = Bytes().Ch('R').U32(1).Str("s").Str("t").Ch('d').U16(0x8000).str();
  EXPECT_EQ(DecodePgoutput(negative, false).status().code(), absl::StatusCode::kDataLoss);
}

TEST(PgoutputTest, Type) {
  const std::string bytes = Bytes().Ch('Y').U32(70000).Str("public").Str("mood").str();
  auto m = DecodeAs<TypeMessage>(bytes);
  EXPECT_EQ(m.oid, 70000u);
  EXPECT_EQ(m.schema, "public");
  EXPECT_EQ(m.name, "mood");
  ExpectEveryPrefixFails(bytes, false, "Type");
  const std::string streamed = Bytes().Ch('Y').U32(7).U32(70000).Str("public").Str("mood").str();
  auto s = DecodeAs<TypeMessage>(streamed, true);
  EXPECT_EQ(s.xid, 7u);
  EXPECT_EQ(s.oid, 70000u);
}

TEST(PgoutputTest, Insert) {
  auto m = DecodeAs<InsertMessage>(InsertBytes());
  EXPECT_EQ(m.relid, 16384u);
  ASSERT_EQ(m.new_tuple.size(), 3u);
  EXPECT_EQ(m.new_tuple[0].kind, TupleColumn::Kind::kText);
  EXPECT_EQ(m.new_tuple[0].data, "1");
  EXPECT_EQ(m.new_tuple[1].kind, TupleColumn::Kind::kNull);
  EXPECT_EQ(m.new_tuple[2].data, "héllo");
  ExpectEveryPrefixFails(InsertBytes(), false, "Insert");
}

TEST(PgoutputTest, InsertInStream) {
  auto m = DecodeAs<InsertMessage>(InsertBytes(true), true);
  EXPECT_EQ(m.xid, 99u);
  EXPECT_EQ(m.relid, 16384u);
  ExpectEveryPrefixFails(InsertBytes(true), true, "Insert");
}

TEST(PgoutputTest, InsertBinaryAndEmptyColumns) {
  const std::string bytes = Bytes()
                                .Ch('I')
                                .U32(1)
                                .Ch('N')
                                .U16(3)
                                .Ch('b')
                                .U32(2)
                                .Raw(std::string("\0\1", 2))
                                .Text("")
                                .Ch('u')
                                .str();
  auto m = DecodeAs<InsertMessage>(bytes);
  ASSERT_EQ(m.new_tuple.size(), 3u);
  EXPECT_EQ(m.new_tuple[0].kind, TupleColumn::Kind::kBinary);
  EXPECT_EQ(m.new_tuple[0].data, std::string("\0\1", 2));
  EXPECT_EQ(m.new_tuple[1].kind, TupleColumn::Kind::kText);
  EXPECT_EQ(m.new_tuple[1].data, "");
  EXPECT_EQ(m.new_tuple[2].kind, TupleColumn::Kind::kUnchangedToast);
}

TEST(PgoutputTest, TupleFailures) {
  // Wrong marker.
  auto m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('K').U16(0).str(), false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("offset 5"), absl::string_view::npos) << m.status();
  // Bad column kind.
  m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('N').U16(1).Ch('z').str(), false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("0x7a"), absl::string_view::npos) << m.status();
  // Negative length.
  m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('N').U16(1).Ch('t').U32(0xFFFFFFFF).str(), false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("negative"), absl::string_view::npos) << m.status();
  // Length past the end.
  m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('N').U16(1).Ch('t').U32(1000).Raw("ab").str(),
                     false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  // Negative and oversized column counts.
  m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('N').U16(0xFFFF).str(), false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  m = DecodePgoutput(Bytes().Ch('I').U32(1).Ch('N').U16(0x7FFF).Ch('n').str(), false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
}

TEST(PgoutputTest, UpdateWithoutOldTuple) {
  auto m = DecodeAs<UpdateMessage>(UpdateBytes(0));
  EXPECT_EQ(m.old_kind, OldTupleKind::kNone);
  EXPECT_TRUE(m.old_tuple.empty());
  ASSERT_EQ(m.new_tuple.size(), 3u);
  EXPECT_EQ(m.new_tuple[2].kind, TupleColumn::Kind::kUnchangedToast);
  ExpectEveryPrefixFails(UpdateBytes(0), false, "Update");
}

TEST(PgoutputTest, UpdateWithKeyAndOldTuples) {
  for (char marker : {'K', 'O'}) {
    auto m = DecodeAs<UpdateMessage>(UpdateBytes(marker));
    EXPECT_EQ(static_cast<char>(m.old_kind), marker);
    ASSERT_EQ(m.old_tuple.size(), 3u);
    EXPECT_EQ(m.old_tuple[2].data, "old");
    EXPECT_EQ(m.new_tuple[0].data, "2");
    ExpectEveryPrefixFails(UpdateBytes(marker), false, "Update");
    auto s = DecodeAs<UpdateMessage>(UpdateBytes(marker, true), true);
    EXPECT_EQ(s.xid, 99u);
    ExpectEveryPrefixFails(UpdateBytes(marker, true), true, "Update");
  }
}

TEST(PgoutputTest, UpdateRejectsMissingNewMarker) {
  const std::string bytes = Bytes().Ch('U').U32(1).Ch('K').U16(0).Ch('K').U16(0).str();
  auto m = DecodePgoutput(bytes, false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("'N'"), absl::string_view::npos) << m.status();
}

TEST(PgoutputTest, Delete) {
  for (char marker : {'K', 'O'}) {
    const std::string bytes = Bytes().Ch('D').U32(5).Ch(marker).U16(1).Text("7").str();
    auto m = DecodeAs<DeleteMessage>(bytes);
    EXPECT_EQ(m.relid, 5u);
    EXPECT_EQ(static_cast<char>(m.old_kind), marker);
    ASSERT_EQ(m.old_tuple.size(), 1u);
    EXPECT_EQ(m.old_tuple[0].data, "7");
    ExpectEveryPrefixFails(bytes, false, "Delete");
  }
  const std::string streamed = Bytes().Ch('D').U32(3).U32(5).Ch('K').U16(0).str();
  EXPECT_EQ(DecodeAs<DeleteMessage>(streamed, true).xid, 3u);
  EXPECT_EQ(DecodePgoutput(Bytes().Ch('D').U32(5).Ch('N').U16(0).str(), false).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(PgoutputTest, Truncate) {
  const std::string bytes = Bytes().Ch('T').U32(2).U8(3).U32(10).U32(11).str();
  auto m = DecodeAs<TruncateMessage>(bytes);
  EXPECT_TRUE(m.cascade());
  EXPECT_TRUE(m.restart_identity());
  EXPECT_EQ(m.relids, (std::vector<uint32_t>{10, 11}));
  ExpectEveryPrefixFails(bytes, false, "Truncate");
  auto plain = DecodeAs<TruncateMessage>(Bytes().Ch('T').U32(1).U8(0).U32(10).str());
  EXPECT_FALSE(plain.cascade());
  EXPECT_FALSE(plain.restart_identity());
  auto streamed =
      DecodeAs<TruncateMessage>(Bytes().Ch('T').U32(8).U32(1).U8(1).U32(10).str(), true);
  EXPECT_EQ(streamed.xid, 8u);
  EXPECT_TRUE(streamed.cascade());
  EXPECT_EQ(DecodePgoutput(Bytes().Ch('T').U32(0x7FFFFFFF).U8(0).str(), false).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodePgoutput(Bytes().Ch('T').U32(0x80000000).U8(0).str(), false).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(PgoutputTest, Message) {
  const std::string bytes =
      Bytes().Ch('M').U8(1).U64(0x77).Str("pfx").U32(3).Raw(std::string("a\0b", 3)).str();
  auto m = DecodeAs<LogicalMessage>(bytes);
  EXPECT_TRUE(m.transactional());
  EXPECT_EQ(m.lsn, Lsn(0x77));
  EXPECT_EQ(m.prefix, "pfx");
  EXPECT_EQ(m.content, std::string("a\0b", 3));
  ExpectEveryPrefixFails(bytes, false, "Message");
  auto nt = DecodeAs<LogicalMessage>(Bytes().Ch('M').U8(0).U64(1).Str("").U32(0).str());
  EXPECT_FALSE(nt.transactional());
  EXPECT_EQ(nt.content, "");
  auto streamed =
      DecodeAs<LogicalMessage>(Bytes().Ch('M').U32(9).U8(1).U64(1).Str("p").U32(0).str(), true);
  EXPECT_EQ(streamed.xid, 9u);
  EXPECT_EQ(streamed.prefix, "p");
  EXPECT_EQ(DecodePgoutput(Bytes().Ch('M').U8(1).U64(1).Str("p").U32(0xFFFFFFFF).str(), false)
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(PgoutputTest, StreamMessages) {
  const std::string start = Bytes().Ch('S').U32(500).U8(1).str();
  auto s = DecodeAs<StreamStartMessage>(start);
  EXPECT_EQ(s.xid, 500u);
  EXPECT_TRUE(s.first_segment);
  ExpectEveryPrefixFails(start, false, "Stream Start");
  EXPECT_FALSE(DecodeAs<StreamStartMessage>(Bytes().Ch('S').U32(500).U8(0).str()).first_segment);
  EXPECT_EQ(DecodePgoutput(Bytes().Ch('S').U32(500).U8(2).str(), false).status().code(),
            absl::StatusCode::kDataLoss);

  DecodeAs<StreamStopMessage>("E");
  DecodeAs<StreamStopMessage>("E", true);
  EXPECT_EQ(DecodePgoutput("Ex", false).status().code(), absl::StatusCode::kDataLoss);

  const std::string commit = Bytes().Ch('c').U32(500).U8(0).U64(0x30).U64(0x40).U64(123).str();
  auto c = DecodeAs<StreamCommitMessage>(commit);
  EXPECT_EQ(c.xid, 500u);
  EXPECT_EQ(c.commit_lsn, Lsn(0x30));
  EXPECT_EQ(c.end_lsn, Lsn(0x40));
  EXPECT_EQ(c.commit_ts_pg_micros, 123);
  ExpectEveryPrefixFails(commit, false, "Stream Commit");

  const std::string abort = Bytes().Ch('A').U32(500).U32(501).str();
  auto a = DecodeAs<StreamAbortMessage>(abort);
  EXPECT_EQ(a.xid, 500u);
  EXPECT_EQ(a.subxid, 501u);
  EXPECT_FALSE(a.abort_lsn.has_value());
  ExpectEveryPrefixFails(abort, false, "Stream Abort");
  auto a4 = DecodeAs<StreamAbortMessage>(Bytes().Ch('A').U32(1).U32(1).U64(0x99).U64(5).str());
  EXPECT_EQ(a4.abort_lsn, Lsn(0x99));
  EXPECT_EQ(a4.abort_ts_pg_micros, 5);
}

TEST(PgoutputTest, TwoPhaseMessagesAreUnimplemented) {
  for (char tag : {'b', 'P', 'K', 'r', 'p'}) {
    auto m = DecodePgoutput(Bytes().Ch(tag).U64(1).U64(2).str(), false);
    ASSERT_EQ(m.status().code(), absl::StatusCode::kUnimplemented) << tag;
    EXPECT_NE(m.status().message().find(PgoutputMessageName(tag)), absl::string_view::npos)
        << m.status();
    EXPECT_NE(m.status().message().find("two-phase"), absl::string_view::npos);
  }
}

TEST(PgoutputTest, UnknownAndEmpty) {
  EXPECT_EQ(DecodePgoutput("", false).status().code(), absl::StatusCode::kInvalidArgument);
  auto m = DecodePgoutput("Z", false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("0x5a"), absl::string_view::npos) << m.status();
}

// Every byte string up to 3 bytes, and single-byte corruptions of valid messages, must decode or
// fail cleanly (a tiny in-test fuzz; sanitizers catch overreads).
TEST(PgoutputTest, CorruptionsNeverCrash) {
  const std::vector<std::string> seeds = {BeginBytes(), RelationBytes(), InsertBytes(),
                                          UpdateBytes('O'), UpdateBytes(0)};
  for (const std::string& seed : seeds) {
    for (size_t i = 0; i < seed.size(); ++i) {
      for (int v : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
        std::string s = seed;
        s[i] = static_cast<char>(v);
        for (bool in_stream : {false, true}) (void)DecodePgoutput(s, in_stream);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::postgres
