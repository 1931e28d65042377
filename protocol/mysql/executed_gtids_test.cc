// TransactionAssembler's MySQL executed GTID set: derived from the shared fixture binlogs (the
// expected sets were read off the files by hand: PREVIOUS_GTIDS, then each GTID event's sid and
// gno at the offsets below) and on synthetic event streams.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "protocol/mysql/gtid_set.h"
#include "protocol/mysql/test_util.h"
#include "protocol/mysql/transaction_assembler.h"

namespace sluice::mysql {
namespace {

using testing::DecodeAll;
using testing::FixtureDir;
using testing::ReadFileBytes;

// A transaction boundary of a fixture file and the executed set there.
struct Boundary {
  uint64_t offset;
  std::string set;
};

struct FixtureCase {
  std::string file;
  std::vector<Boundary> boundaries;  // the first: right after PREVIOUS_GTIDS
};

// Read off the files: each GTID event's sid/gno and the end of its transaction (XID or the DDL).
std::vector<FixtureCase> Cases() {
  const std::string inv = "97c7af02-4c50-11ec-acd8-681842034964";
  const std::string enm = "93e95066-a2f4-11ec-9b69-9657f0ae95e2";
  const std::string bit = "fbda2ad0-7c46-11ec-ae30-4ef7efc81a2a";
  const std::string m56 = "006c2cf2-b1ea-11e4-9057-8c705a3d3e78";
  const std::string tag = "55778904-0299-11f1-b1b8-4ef0c4956feb";
  return {
      {"binlog-invisible-columns.000001",  // MySQL 8.0.26, empty PREVIOUS_GTIDS
       {{156, ""},
        {491, inv + ":1"},
        {787, inv + ":1-2"},
        {1120, inv + ":1-3"},
        {1438, inv + ":1-4"},
        {1787, inv + ":1-5"}}},
      {"mysql-enum-string-set.000001",  // MySQL 8.0.28
       {{157, ""},
        {493, enm + ":1"},
        {791, enm + ":1-2"},
        {1560, enm + ":1-3"},
        {2659, enm + ":1-4"},
        {3331, enm + ":1-5"}}},
      {"mysql_type_bit.000001",  // MySQL 8.0.26
       {{156, ""}, {491, bit + ":1"}, {702, bit + ":1-2"}, {1001, bit + ":1-3"}}},
      {"binlog_transaction_with_GTID.000001",  // MySQL 5.6.24, statement-based DML inside
       {{151, ""}, {297, m56 + ":1"}, {603, m56 + ":1-2"}, {766, m56 + ":1-3"}}},
      {"binlog_transaction_with_GTID_TAG.000001",  // MySQL 9.6: tagged PREVIOUS_GTIDS and GTID
       {{245, tag + ":1-13:mytag:1-2"}, {541, tag + ":1-13:mytag:1-3"}}},
      {"binlog_transaction_previous_GTID_no_tag.000001",  // MySQL 8.0.40, PREVIOUS_GTIDS only
       {{197, "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2"}}},
      {"transaction_compression.000001",  // MySQL 8.0.32: an anonymous TRANSACTION_PAYLOAD
       {{197, "357df524-4139-11ee-9979-b033ee13919e:1"},
        {431, "357df524-4139-11ee-9979-b033ee13919e:1"}}},
  };
}

class ExecutedGtidsFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FixtureDir();
    if (!dir_) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs is absent (set SLUICE_SHARED_DIR)";
  }
  std::vector<Event> Load(const std::string& name) {
    testing::Decoded d = DecodeAll(ReadFileBytes(*dir_ / name), name);
    EXPECT_TRUE(d.status.ok()) << name << ": " << d.status;
    return std::move(d.events);
  }
  std::optional<std::filesystem::path> dir_;
};

// Starting at each boundary in derive mode (the stream read from offset 4, as the source asks
// the server for it), the set at the start equals the hand-derived one, no transaction before
// the start is reported, and every later commit carries the set after it.
TEST_F(ExecutedGtidsFixtureTest, DerivedAtEveryTransactionBoundary) {
  for (const FixtureCase& c : Cases()) {
    const std::vector<Event> events = Load(c.file);
    for (size_t i = 0; i < c.boundaries.size(); ++i) {
      SCOPED_TRACE(c.file + " from " + std::to_string(c.boundaries[i].offset));
      TransactionAssembler a({c.file, c.boundaries[i].offset});
      a.set_skip_statement_dml(true);  // the 5.6 file has statement-based DML
      a.DeriveExecutedGtids();
      std::optional<std::string> at_start;
      std::vector<std::pair<uint64_t, std::string>> commits;
      TransactionAssembler::Sink sink;
      sink.begin = [&](const TransactionBegin& b) {
        EXPECT_GE(b.position.offset, c.boundaries[i].offset) << "a transaction before the start";
        if (!at_start && a.executed_gtids()) at_start = a.executed_gtids()->ToString();
        return absl::OkStatus();
      };
      sink.commit = [&](const TransactionCommit& commit) {
        EXPECT_NE(a.executed_gtids(), nullptr);
        if (a.executed_gtids())
          commits.emplace_back(commit.next.offset, a.executed_gtids()->ToString());
        return absl::OkStatus();
      };
      for (const Event& e : events) {
        ASSERT_TRUE(a.Feed(e, sink).ok());
        // Once the stream has passed the start, the set there is known.
        if (!at_start && e.header.log_pos == c.boundaries[i].offset) {
          ASSERT_NE(a.executed_gtids(), nullptr);
          at_start = a.executed_gtids()->ToString();
        }
      }
      ASSERT_TRUE(at_start.has_value());
      EXPECT_EQ(*at_start, c.boundaries[i].set);
      std::vector<std::pair<uint64_t, std::string>> want;
      for (size_t j = i + 1; j < c.boundaries.size(); ++j) {
        want.emplace_back(c.boundaries[j].offset, c.boundaries[j].set);
      }
      EXPECT_EQ(commits, want);
    }
  }
}

// From offset 4 (a position before PREVIOUS_GTIDS): the set is unknown until PREVIOUS_GTIDS.
TEST_F(ExecutedGtidsFixtureTest, FromTheFileStartTheSetIsKnownAfterPreviousGtids) {
  const std::vector<Event> events = Load("binlog_transaction_with_GTID_TAG.000001");
  TransactionAssembler a({"binlog_transaction_with_GTID_TAG.000001", 4});
  a.DeriveExecutedGtids();
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(a.Feed(events[0], {}).ok());  // FORMAT_DESCRIPTION
  EXPECT_EQ(a.executed_gtids(), nullptr);
  ASSERT_TRUE(std::holds_alternative<PreviousGtids>(events[1].body));
  ASSERT_TRUE(a.Feed(events[1], {}).ok());
  ASSERT_NE(a.executed_gtids(), nullptr);
  EXPECT_EQ(a.executed_gtids()->ToString(), "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2");
}

// The set's wire encoding (what COM_BINLOG_DUMP_GTID carries) is byte for byte the encoding
// MySQL 9.6 wrote into the PREVIOUS_GTIDS event of the tagged fixture, and MySQL 8.0.40's of an
// untagged one.
TEST_F(ExecutedGtidsFixtureTest, EncodingEqualsWhatMysqlWrote) {
  for (const std::string name : {"binlog_transaction_with_GTID_TAG.000001",
                                 "binlog_transaction_previous_GTID_no_tag.000001"}) {
    SCOPED_TRACE(name);
    const std::string bytes = ReadFileBytes(*dir_ / name);
    const std::vector<Event> events = Load(name);
    const Event* previous = nullptr;
    for (const Event& e : events) {
      if (std::holds_alternative<PreviousGtids>(e.body)) previous = &e;
    }
    ASSERT_NE(previous, nullptr);
    // The event's body: after the 19-byte header, before the 4-byte CRC32.
    const size_t at = previous->position;
    const size_t size = previous->header.event_size;
    ASSERT_LE(at + size, bytes.size());
    const std::string body = bytes.substr(at + kEventHeaderLength, size - kEventHeaderLength - 4);
    absl::StatusOr<GtidSet> set =
        GtidSet::Parse(std::get<PreviousGtids>(previous->body).ToString());
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->Encode(), body);
  }
}

// Files without GTIDs (anonymous transactions) keep the set at their PREVIOUS_GTIDS.
TEST_F(ExecutedGtidsFixtureTest, AnonymousTransactionsAddNothing) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"json.binlog.000001", ""},
      {"time_issue.000001", ""},
      {"transaction_compression.000001", "357df524-4139-11ee-9979-b033ee13919e:1"}};
  for (const auto& [name, previous] : files) {
    SCOPED_TRACE(name);
    const std::vector<Event> events = Load(name);
    TransactionAssembler a({name, 4});
    a.DeriveExecutedGtids();
    int commits = 0;
    TransactionAssembler::Sink sink;
    sink.commit = [&](const TransactionCommit&) {
      ++commits;
      EXPECT_NE(a.executed_gtids(), nullptr);
      return absl::OkStatus();
    };
    for (const Event& e : events) ASSERT_TRUE(a.Feed(e, sink).ok());
    EXPECT_GT(commits, 0);
    ASSERT_NE(a.executed_gtids(), nullptr);
    EXPECT_EQ(a.executed_gtids()->ToString(), previous);
  }
}

// Synthetic streams.

Event Make(EventBody body, uint64_t position, uint32_t log_pos, uint32_t timestamp = 1700000000) {
  Event e;
  e.header.timestamp = timestamp;
  e.header.log_pos = log_pos;
  e.position = position;
  e.body = std::move(body);
  return e;
}

Uuid U(const char* text) { return *ParseUuid(text); }
constexpr const char* kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

Event GtidEvent(int64_t gno, uint64_t pos, uint32_t next, std::string tag = "") {
  Gtid g;
  g.sid = U(kA);
  g.tag = std::move(tag);
  g.gno = gno;
  return Make(g, pos, next);
}
Event QueryEvent(std::string sql, uint64_t pos, uint32_t next) {
  Query q;
  q.database = "shop";
  q.query = std::move(sql);
  return Make(q, pos, next);
}

TEST(ExecutedGtidsTest, CommitRollbackAndStatementsWithoutTransactionAllJoinTheSet) {
  TransactionAssembler a({"b.000001", 100});
  a.TrackExecutedGtids(*GtidSet::Parse(std::string(kA) + ":1-5"));
  std::vector<std::string> seen;  // the set as each commit reports it
  TransactionAssembler::Sink sink;
  sink.commit = [&](const TransactionCommit&) {
    seen.push_back(a.executed_gtids()->ToString());
    return absl::OkStatus();
  };
  std::vector<Event> events;
  events.push_back(GtidEvent(6, 100, 150));
  events.push_back(QueryEvent("BEGIN", 150, 200));
  events.push_back(Make(Xid{1}, 200, 231));
  events.push_back(GtidEvent(7, 231, 280));
  events.push_back(QueryEvent("BEGIN", 280, 330));
  events.push_back(QueryEvent("ROLLBACK", 330, 380));  // the GTID is used up all the same
  events.push_back(GtidEvent(8, 380, 430, "Blue"));
  events.push_back(QueryEvent("XA COMMIT X'01'", 430, 480));  // no open transaction here
  events.push_back(GtidEvent(9, 480, 530));
  events.push_back(QueryEvent("CREATE TABLE t (id int)", 530, 600));
  for (Event& e : events) ASSERT_TRUE(a.Feed(std::move(e), sink).ok());
  const std::string a_ = kA;
  EXPECT_EQ(seen, (std::vector<std::string>{a_ + ":1-6", a_ + ":1-7:9:blue:8"}));
  EXPECT_EQ(a.executed_gtids()->ToString(), a_ + ":1-7:9:blue:8");
}

TEST(ExecutedGtidsTest, DeriveSkipsTransactionsBeforeTheStartAndEndsAtARotate) {
  // The start (b.000001:430) is the end of the file: a real ROTATE follows.
  TransactionAssembler a({"b.000001", 430});
  a.DeriveExecutedGtids();
  std::vector<std::string> log;
  TransactionAssembler::Sink sink;
  sink.begin = [&](const TransactionBegin& b) {
    log.push_back("begin " + b.gtid);
    return absl::OkStatus();
  };
  sink.idle = [&](const BinlogPosition& p) {
    log.push_back("idle " + p.ToString());
    return absl::OkStatus();
  };
  PreviousGtids prev;
  prev.entries.push_back(GtidSetEntry{U(kA), "", {{1, 4}}});
  std::vector<Event> events;
  events.push_back(Make(Rotate{4, "b.000001"}, 0, 0, 0));  // fake
  events.push_back(Make(prev, 120, 160));
  events.push_back(GtidEvent(4, 160, 200));
  events.push_back(QueryEvent("BEGIN", 200, 260));
  events.push_back(Make(Xid{1}, 260, 291));
  events.push_back(GtidEvent(5, 291, 340));
  events.push_back(QueryEvent("CREATE TABLE t (id int)", 340, 386));
  events.push_back(Make(Rotate{4, "b.000002"}, 386, 430));
  for (Event& e : events) ASSERT_TRUE(a.Feed(std::move(e), sink).ok());
  EXPECT_EQ(log, (std::vector<std::string>{"idle b.000002:4"}));
  ASSERT_NE(a.executed_gtids(), nullptr);
  EXPECT_EQ(a.executed_gtids()->ToString(), std::string(kA) + ":1-5");
  // The next file's events are ordinary ones.
  ASSERT_TRUE(a.Feed(Make(Rotate{4, "b.000002"}, 0, 0, 0), sink).ok());
  ASSERT_TRUE(a.Feed(GtidEvent(6, 160, 200), sink).ok());
  ASSERT_TRUE(a.Feed(QueryEvent("BEGIN", 200, 260), sink).ok());
  EXPECT_EQ(log.back(), "begin " + std::string(kA) + ":6");
}

TEST(ExecutedGtidsTest, UnknownWhileDerivingAndNothingWithoutTracking) {
  TransactionAssembler off({"b.000001", 4});
  ASSERT_TRUE(off.Feed(GtidEvent(1, 4, 50), {}).ok());
  ASSERT_TRUE(off.Feed(QueryEvent("CREATE TABLE t (id int)", 50, 90), {}).ok());
  EXPECT_EQ(off.executed_gtids(), nullptr);

  TransactionAssembler deriving({"b.000001", 4});
  deriving.DeriveExecutedGtids();
  // A file without PREVIOUS_GTIDS (GTIDs never on): the set stays unknown.
  ASSERT_TRUE(deriving.Feed(GtidEvent(1, 4, 50), {}).ok());
  ASSERT_TRUE(deriving.Feed(QueryEvent("CREATE TABLE t (id int)", 50, 90), {}).ok());
  EXPECT_EQ(deriving.executed_gtids(), nullptr);
}

TEST(ExecutedGtidsTest, PreviousGtidsOfALaterFileJoinAKnownSet) {
  TransactionAssembler a({"b.000001", 100});
  a.TrackExecutedGtids(*GtidSet::Parse(std::string(kA) + ":1-5"));
  PreviousGtids prev;
  prev.entries.push_back(GtidSetEntry{U(kA), "", {{1, 7}}});
  ASSERT_TRUE(a.Feed(Make(Rotate{4, "b.000002"}, 0, 0, 0), {}).ok());
  ASSERT_TRUE(a.Feed(Make(prev, 120, 160), {}).ok());
  EXPECT_EQ(a.executed_gtids()->ToString(), std::string(kA) + ":1-6");
}

TEST(ExecutedGtidsTest, AFragmentedSetStopsBeingTracked) {
  TransactionAssembler a({"b.000001", 4});
  a.TrackExecutedGtids(GtidSet());
  uint32_t pos = 4;
  // Every other GNO: one interval per transaction.
  for (int64_t gno = 1; gno <= 2 * int64_t{TransactionAssembler::kMaxExecutedGtidIntervals};
       gno += 2) {
    ASSERT_TRUE(a.Feed(GtidEvent(gno, pos, pos + 40), {}).ok());
    ASSERT_TRUE(a.Feed(QueryEvent("CREATE TABLE t (id int)", pos + 40, pos + 80), {}).ok());
    pos += 80;
  }
  ASSERT_NE(a.executed_gtids(), nullptr);
  EXPECT_FALSE(a.gave_up_gtids());
  ASSERT_TRUE(a.Feed(GtidEvent(5000, pos, pos + 40), {}).ok());
  ASSERT_TRUE(a.Feed(QueryEvent("CREATE TABLE t (id int)", pos + 40, pos + 80), {}).ok());
  EXPECT_EQ(a.executed_gtids(), nullptr);
  EXPECT_TRUE(a.gave_up_gtids());
}

TEST(ExecutedGtidsTest, AnInvalidGtidIsDataLossNamingThePosition) {
  TransactionAssembler a({"b.000001", 4});
  a.TrackExecutedGtids(GtidSet());
  ASSERT_TRUE(a.Feed(GtidEvent(0, 4, 50), {}).ok());
  absl::Status st = a.Feed(QueryEvent("CREATE TABLE t (id int)", 50, 90), {});
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("b.000001:4"), std::string::npos) << st;
}

}  // namespace
}  // namespace sluice::mysql
