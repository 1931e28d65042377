#include "protocol/mysql/transaction_assembler.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "protocol/mysql/change_mapping.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

// Records what the assembler reports as one line per callback.
struct Recorder {
  std::vector<std::string> log;
  TransactionAssembler::Sink sink() {
    TransactionAssembler::Sink s;
    s.begin = [this](const TransactionBegin& b) {
      log.push_back(absl::StrCat("begin ", b.position.ToString(), " ", b.gtid));
      return absl::OkStatus();
    };
    s.change = [this](v1::ChangeEvent e) {
      log.push_back(absl::StrCat("change ", v1::Op_Name(e.op()), " ", e.source().database(), ".",
                                 e.source().table(), e.ddl().statement()));
      return absl::OkStatus();
    };
    s.commit = [this](const TransactionCommit& c) {
      log.push_back(absl::StrCat("commit ", c.next.ToString(), " ", c.gtid, " [", c.gtid_state,
                                 "] xid=", c.xid));
      return absl::OkStatus();
    };
    s.rollback = [this] {
      log.push_back("rollback");
      return absl::OkStatus();
    };
    s.idle = [this](const BinlogPosition& p) {
      log.push_back("idle " + p.ToString());
      return absl::OkStatus();
    };
    return s;
  }
};

Event Make(EventBody body, uint64_t position, uint32_t log_pos, uint32_t timestamp = 1700000000) {
  Event e;
  e.header.timestamp = timestamp;
  e.header.log_pos = log_pos;
  e.position = position;
  e.body = std::move(body);
  return e;
}

Event QueryEvent(std::string sql, uint64_t pos, uint32_t next, std::string db = "shop") {
  Query q;
  q.database = std::move(db);
  q.query = std::move(sql);
  return Make(q, pos, next);
}

Event MariaGtidEvent(uint64_t seq, bool standalone, uint64_t pos, uint32_t next) {
  MariaGtid g;
  g.domain_id = 0;
  g.server_id = 1;
  g.seq_no = seq;
  g.flags = standalone ? kMariaGtidStandalone : 0;
  return Make(g, pos, next);
}

Event RowsOf(std::string db, std::string table, int n, uint64_t pos, uint32_t next) {
  auto map = std::make_shared<TableMap>();
  map->database = std::move(db);
  map->table = std::move(table);
  ColumnDef id;
  id.type = ColumnType::kLong;
  id.name = "id";
  map->columns.push_back(id);
  map->primary_key = {0};
  RowsEvent rows;
  rows.kind = RowsKind::kWrite;
  rows.table = map;
  for (int i = 0; i < n; ++i) {
    RowChange c;
    c.after.emplace();
    auto* f = c.after->add_fields();
    f->set_name("id");
    f->mutable_value()->set_int64(i);
    rows.rows.push_back(std::move(c));
  }
  return Make(std::move(rows), pos, next);
}

Event XidEvent(uint64_t xid, uint64_t pos, uint32_t next) { return Make(Xid{xid}, pos, next); }

TEST(ClassifyQueryTest, Keywords) {
  EXPECT_EQ(ClassifyQuery("BEGIN"), QueryKind::kBegin);
  EXPECT_EQ(ClassifyQuery("  start   transaction"), QueryKind::kBegin);
  EXPECT_EQ(ClassifyQuery("XA START X'01'"), QueryKind::kBegin);
  EXPECT_EQ(ClassifyQuery("XA END X'01'"), QueryKind::kIgnored);
  EXPECT_EQ(ClassifyQuery("XA COMMIT X'01'"), QueryKind::kCommit);
  EXPECT_EQ(ClassifyQuery("XA ROLLBACK X'01'"), QueryKind::kCommit);
  EXPECT_EQ(ClassifyQuery("COMMIT"), QueryKind::kCommit);
  EXPECT_EQ(ClassifyQuery("ROLLBACK"), QueryKind::kRollback);
  EXPECT_EQ(ClassifyQuery("ROLLBACK TO SAVEPOINT a"), QueryKind::kIgnored);
  EXPECT_EQ(ClassifyQuery("SAVEPOINT a"), QueryKind::kIgnored);
  EXPECT_EQ(ClassifyQuery("/* c */ insert into t values (1)"), QueryKind::kDml);
  EXPECT_EQ(ClassifyQuery("-- x\nUPDATE t SET a=1"), QueryKind::kDml);
  EXPECT_EQ(ClassifyQuery("/*!40000 ALTER TABLE t */"), QueryKind::kDdl);
  EXPECT_EQ(ClassifyQuery("CREATE TABLE t (id int)"), QueryKind::kDdl);
  EXPECT_EQ(ClassifyQuery(""), QueryKind::kDdl);
}

TEST(TransactionAssemblerTest, MariaDbTransactionsDdlAndRollback) {
  TransactionAssembler a({"mariadb-bin.000001", 4});
  Recorder r;
  const auto sink = r.sink();
  std::vector<Event> events;
  events.push_back(Make(Rotate{330, "mariadb-bin.000001"}, 0, 0, /*timestamp=*/0));  // fake
  events.push_back(MariaGtidEvent(1, /*standalone=*/true, 330, 372));
  events.push_back(QueryEvent("CREATE TABLE t (id int primary key)", 372, 480));
  events.push_back(MariaGtidEvent(2, false, 480, 522));
  events.push_back(RowsOf("shop", "t", 2, 522, 600));
  events.push_back(XidEvent(9, 600, 631));
  events.push_back(MariaGtidEvent(3, false, 631, 673));
  events.push_back(RowsOf("shop", "t", 1, 673, 700));
  events.push_back(QueryEvent("ROLLBACK", 700, 760));
  events.push_back(Make(Heartbeat{"mariadb-bin.000001"}, 0, 760, 0));
  events.push_back(Make(Rotate{4, "mariadb-bin.000002"}, 760, 805));
  for (Event& e : events) ASSERT_TRUE(a.Feed(std::move(e), sink).ok());
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "begin mariadb-bin.000001:330 0-1-1",
                       "change OP_DDL shop.CREATE TABLE t (id int primary key)",
                       "commit mariadb-bin.000001:480 0-1-1 [0-1-1] xid=0",
                       "begin mariadb-bin.000001:480 0-1-2",
                       "change OP_INSERT shop.t",
                       "change OP_INSERT shop.t",
                       "commit mariadb-bin.000001:631 0-1-2 [0-1-2] xid=9",
                       "begin mariadb-bin.000001:631 0-1-3",
                       "change OP_INSERT shop.t",
                       "rollback",
                       "idle mariadb-bin.000001:760",
                       "idle mariadb-bin.000002:4",
                   }));
  EXPECT_EQ(a.position().ToString(), "mariadb-bin.000002:4");
  // The server used up the rolled-back group's GTID too.
  EXPECT_EQ(a.gtid_state(), "0-1-3");
}

TEST(TransactionAssemblerTest, FakeRotateDoesNotMovePosition) {
  TransactionAssembler a({"binlog.000007", 1234});
  Recorder r;
  ASSERT_TRUE(a.Feed(Make(Rotate{4, "binlog.000007"}, 0, 0, 0), r.sink()).ok());
  EXPECT_EQ(a.position().ToString(), "binlog.000007:1234");
  EXPECT_TRUE(r.log.empty());
}

TEST(TransactionAssemblerTest, MySqlBeginXidAndFilter) {
  TransactionAssembler a({"binlog.000001", 4}, "");
  a.set_filter([](std::string_view db, std::string_view table) {
    return db == "shop" && (table.empty() || table == "orders");
  });
  Recorder r;
  const auto sink = r.sink();
  Gtid g;
  g.sid[15] = 1;
  g.gno = 5;
  g.immediate_commit_micros = 42;
  ASSERT_TRUE(a.Feed(Make(g, 100, 177), sink).ok());
  ASSERT_TRUE(a.Feed(QueryEvent("BEGIN", 177, 250), sink).ok());
  ASSERT_TRUE(a.Feed(RowsOf("shop", "orders", 1, 250, 300), sink).ok());
  ASSERT_TRUE(a.Feed(RowsOf("shop", "audit", 3, 300, 350), sink).ok());
  ASSERT_TRUE(a.Feed(RowsOf("other", "orders", 3, 350, 400), sink).ok());
  ASSERT_TRUE(a.Feed(XidEvent(7, 400, 431), sink).ok());
  ASSERT_TRUE(a.Feed(QueryEvent("DROP TABLE x", 431, 500, "other"), sink).ok());
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "begin binlog.000001:100 00000000-0000-0000-0000-000000000001:5",
                       "change OP_INSERT shop.orders",
                       "commit binlog.000001:431 00000000-0000-0000-0000-000000000001:5 [] xid=7",
                       "begin binlog.000001:431 ",
                       "commit binlog.000001:500  [] xid=0",
                   }));
}

TEST(TransactionAssemblerTest, StatementDmlIsAClearError) {
  TransactionAssembler a({"binlog.000001", 4});
  Recorder r;
  ASSERT_TRUE(a.Feed(QueryEvent("BEGIN", 4, 50), r.sink()).ok());
  absl::Status st = a.Feed(QueryEvent("INSERT INTO t VALUES (1)", 50, 90), r.sink());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("binlog.000001:50"), std::string::npos) << st;
  EXPECT_NE(st.message().find("binlog_format=ROW"), std::string::npos) << st;
}

TEST(TransactionAssemblerTest, SeedsMariaDbState) {
  TransactionAssembler a({"b.000001", 4}, "1-2-7,0-1-40");
  Recorder r;
  ASSERT_TRUE(a.Feed(MariaGtidEvent(41, false, 4, 40), r.sink()).ok());
  ASSERT_TRUE(a.Feed(XidEvent(1, 40, 71), r.sink()).ok());
  EXPECT_EQ(a.gtid_state(), "0-1-41,1-2-7");
}

TEST(TransactionAssemblerTest, CreateTableSelectIsOneTransaction) {
  TransactionAssembler a({"binlog.000001", 4});
  Recorder r;
  Gtid g;
  g.sid[15] = 2;
  g.gno = 9;
  ASSERT_TRUE(a.Feed(Make(g, 4, 80), r.sink()).ok());
  ASSERT_TRUE(a.Feed(QueryEvent("CREATE TABLE t2 (id int primary key) START TRANSACTION", 80, 200),
                     r.sink())
                  .ok());
  ASSERT_TRUE(a.Feed(RowsOf("shop", "t2", 1, 200, 260), r.sink()).ok());
  ASSERT_TRUE(a.Feed(XidEvent(3, 260, 291), r.sink()).ok());
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "begin binlog.000001:4 00000000-0000-0000-0000-000000000002:9",
                       "change OP_DDL shop.CREATE TABLE t2 (id int primary key) START TRANSACTION",
                       "change OP_INSERT shop.t2",
                       "commit binlog.000001:291 00000000-0000-0000-0000-000000000002:9 [] xid=3",
                   }));
}

TEST(TransactionAssemblerTest, GtidInsideAnOpenTransactionIsDataLoss) {
  TransactionAssembler a({"b.000001", 4});
  Recorder r;
  ASSERT_TRUE(a.Feed(MariaGtidEvent(1, false, 4, 40), r.sink()).ok());
  ASSERT_TRUE(a.Feed(RowsOf("shop", "t", 1, 40, 80), r.sink()).ok());
  absl::Status st = a.Feed(MariaGtidEvent(2, false, 80, 120), r.sink());
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("b.000001:80"), std::string::npos) << st;
}

TEST(TransactionAssemblerTest, IncidentStopsStreamingButNotTheOfflineDecoder) {
  Skipped incident;
  incident.type = static_cast<uint8_t>(EventType::kIncident);
  incident.what = "LOST_EVENTS";
  TransactionAssembler live({"b.000001", 4});
  Recorder r;
  absl::Status st = live.Feed(Make(incident, 4, 40), r.sink());
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("INCIDENT"), std::string::npos) << st;
  TransactionAssembler offline({"b.000001", 4});
  offline.set_skip_statement_dml(true);
  EXPECT_TRUE(offline.Feed(Make(incident, 4, 40), r.sink()).ok());
  EXPECT_EQ(offline.skipped_statements(), 1u);
}

// Every fixture: transactions are balanced, each commit position is an event boundary of the
// file, and the changes are exactly the decoded rows (nothing dropped or invented).
TEST(TransactionAssemblerTest, FixturesBalanceAndResumeAtBoundaries) {
  auto dir = testing::FixtureDir();
  if (!dir) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs not found";
  int files = 0;
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md") continue;
    const std::string bytes = testing::ReadFileBytes(entry.path());
    testing::Decoded d = testing::DecodeAll(bytes, name);
    if (!d.status.ok()) continue;  // truncated/corrupt fixtures are covered elsewhere
    ++files;
    std::set<uint64_t> boundaries;
    size_t rows = 0;
    for (const Event& e : d.events) {
      boundaries.insert(e.position + e.header.event_size);
    }
    const size_t expected_rows = testing::Rows(d.events).size();
    TransactionAssembler a({name, 4});
    a.set_skip_statement_dml(true);  // some fixtures were written with binlog_format=STATEMENT
    int open = 0;
    TransactionAssembler::Sink sink;
    sink.begin = [&](const TransactionBegin&) {
      EXPECT_EQ(open, 0) << name;
      ++open;
      return absl::OkStatus();
    };
    sink.change = [&](v1::ChangeEvent e) {
      EXPECT_EQ(open, 1) << name;
      if (e.op() != v1::OP_DDL) ++rows;
      return absl::OkStatus();
    };
    sink.commit = [&](const TransactionCommit& c) {
      EXPECT_EQ(open, 1) << name;
      --open;
      // Relay logs name the primary's file (a ROTATE first): their positions are the primary's.
      if (c.next.file == name) {
        EXPECT_TRUE(boundaries.contains(c.next.offset)) << name << " " << c.next.ToString();
        ++checked;
      }
      return absl::OkStatus();
    };
    sink.rollback = [&] {
      --open;
      return absl::OkStatus();
    };
    for (Event& e : d.events) {
      absl::Status st = a.Feed(std::move(e), sink);
      ASSERT_TRUE(st.ok()) << name << ": " << st;
    }
    EXPECT_EQ(rows, expected_rows) << name;
  }
  EXPECT_GT(files, 10);
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace sluice::mysql
