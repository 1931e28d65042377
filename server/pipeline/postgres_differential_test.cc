// Differential test: the same workload read by sluice (pgoutput) and by Postgres's own
// test_decoding plugin from a second slot created at the same point. Both renderings are reduced
// to one line per change and compared transaction by transaction: xid, commit order, order
// within the transaction, operation and values. The table uses types whose Postgres text form
// and sluice's canonical value print alike (integer, text, numeric), so any difference is ours.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/pipeline/postgres_source.h"
#include "storage/test_util.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

struct Txn {
  std::string xid;
  std::vector<std::string> changes;
  bool operator==(const Txn&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Txn& t) {
  os << "xid " << t.xid << ":";
  for (const auto& c : t.changes) os << "\n    " << c;
  return os;
}

// "id[integer]:1 name[text]:'a b' n[numeric]:3.10" -> "id=1 name=a b n=3.10"
std::string Columns(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find('[', pos);
    const size_t colon = text.find("]:", open);
    if (open == std::string::npos || colon == std::string::npos) break;
    std::string name = text.substr(pos, open - pos);
    size_t v = colon + 2;
    std::string value;
    if (v < text.size() && text[v] == '\'') {
      ++v;
      while (v < text.size()) {
        if (text[v] == '\'' && v + 1 < text.size() && text[v + 1] == '\'') {
          value += '\'';
          v += 2;
        } else if (text[v] == '\'') {
          ++v;
          break;
        } else {
          value += text[v++];
        }
      }
    } else {
      const size_t end = text.find(' ', v);
      value = text.substr(v, end == std::string::npos ? std::string::npos : end - v);
      v = end == std::string::npos ? text.size() : end;
    }
    if (value != "null") absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
    pos = v < text.size() && text[v] == ' ' ? v + 1 : v;
  }
  return out;
}

std::vector<Txn> FromTestDecoding(const std::vector<std::vector<std::string>>& rows) {
  std::vector<Txn> txns;
  for (const auto& row : rows) {
    const std::string& data = row[2];
    if (data.starts_with("BEGIN ")) {
      txns.push_back(Txn{data.substr(6), {}});
    } else if (data.starts_with("table ")) {
      const size_t colon = data.find(": ");
      const std::string table = data.substr(6, colon - 6);
      std::string rest = data.substr(colon + 2);
      const size_t op_end = rest.find(':');
      std::string op = rest.substr(0, op_end);
      std::string cols = op_end + 2 <= rest.size() ? rest.substr(op_end + 2) : "";
      if (op == "UPDATE" && cols.starts_with("old-key: ")) {
        const size_t nt = cols.find(" new-tuple: ");
        cols = "old " + Columns(cols.substr(9, nt - 9)) + " new " + Columns(cols.substr(nt + 12));
      } else if (op == "TRUNCATE") {
        cols = "";
      } else {
        cols = Columns(cols);
      }
      txns.back().changes.push_back(absl::StrCat(op, " ", table, " ", cols));
    }
  }
  return txns;
}

std::string RowText(const v1::Row& row) {
  std::string out;
  for (const auto& f : row.fields()) {
    const auto& v = f.value();
    std::string value;
    if (v.has_null()) continue;
    if (v.has_int64())
      value = std::to_string(v.int64());
    else if (v.has_string())
      value = v.string();
    else if (v.has_decimal())
      value = v.decimal();
    else
      value = v.ShortDebugString();
    absl::StrAppend(&out, out.empty() ? "" : " ", f.name(), "=", value);
  }
  return out;
}

std::vector<Txn> FromSluice(storage::ChangeLog& log, storage::SourceId id) {
  std::vector<Txn> txns;
  auto r = log.Read(
      id, LogOffset(1), storage::ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
      [&](const storage::StoredRecord& rec) {
        v1::ChangeEvent e;
        ASSERT_TRUE(
            e.ParseFromArray(rec.view.event.data(), static_cast<int>(rec.view.event.size())));
        if (e.transaction_index() == 0) txns.push_back(Txn{e.source().txid(), {}});
        const std::string table = absl::StrCat(e.source().schema(), ".", e.source().table());
        std::string line;
        switch (e.op()) {
          case v1::OP_INSERT:
            line = absl::StrCat("INSERT ", table, " ", RowText(e.after()));
            break;
          case v1::OP_UPDATE:
            line = e.has_before() ? absl::StrCat("UPDATE ", table, " old ", RowText(e.before()),
                                                 " new ", RowText(e.after()))
                                  : absl::StrCat("UPDATE ", table, " ", RowText(e.after()));
            break;
          case v1::OP_DELETE:
            line = absl::StrCat("DELETE ", table, " ", RowText(e.before()));
            break;
          case v1::OP_TRUNCATE:
            line = absl::StrCat("TRUNCATE ", table, " ");
            break;
          default:
            line = absl::StrCat("OTHER ", v1::Op_Name(e.op()));
        }
        txns.back().changes.push_back(line);
      });
  EXPECT_TRUE(r.ok()) << r.status();
  return txns;
}

TEST(PostgresDifferential, SameTransactionsAsTestDecoding) {
  auto dbs = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(dbs.ok()) << dbs.status();
  TestDatabase* db = *dbs;
  (void)db->Exec("SELECT pg_drop_replication_slot('diff_slot')");
  (void)db->Exec("SELECT pg_drop_replication_slot('diff_oracle')");
  ASSERT_TRUE(
      db->Exec("DROP TABLE IF EXISTS diff_t; DROP PUBLICATION IF EXISTS diff_pub; "
               "CREATE TABLE diff_t (id int PRIMARY KEY, name text, qty int, price numeric)")
          .ok());
  storage::testing::TempDir dir;
  auto log = *storage::ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
  config::SourceConfig config;
  config.name = "pg";
  config.kind = v1::SOURCE_KIND_POSTGRES;
  config.host = db->host();
  config.port = static_cast<uint16_t>(db->port());
  config.user = db->user();
  config.password = db->password();
  config.database = db->database();
  config.slot = "diff_slot";
  config.publication = "diff_pub";
  config.tables = {"public.diff_t"};
  config.tls_mode = "disabled";
  config.snapshot = config::SnapshotMode::kNever;
  SourceRegistry registry;
  SourceRuntime runtime;
  runtime.name = "pg";
  registry.Upsert(runtime);
  {
    PostgresSource source(config, *log, id, registry);
    source.Start();
    for (int i = 0; i < 200 && registry.Snapshot()[0].state != v1::SOURCE_STATE_STREAMING; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(registry.Snapshot()[0].state, v1::SOURCE_STATE_STREAMING)
        << registry.Snapshot()[0].last_error;
    // The oracle slot starts after ours: both see the whole workload below.
    ASSERT_TRUE(
        db->Exec("SELECT pg_create_logical_replication_slot('diff_oracle', 'test_decoding')").ok());
    const char* workload[] = {
        "INSERT INTO diff_t VALUES (1, 'one', 1, 1.10), (2, 'two''s', NULL, 2.00)",
        "BEGIN; UPDATE diff_t SET qty = 5 WHERE id = 1; UPDATE diff_t SET id = 20 WHERE id = 2; "
        "COMMIT",
        "BEGIN; INSERT INTO diff_t VALUES (99, 'never', 0, 0); ROLLBACK",
        "BEGIN; INSERT INTO diff_t VALUES (3, 'three', 3, 3.333); SAVEPOINT a; "
        "INSERT INTO diff_t VALUES (4, 'rolled back', 4, 4); ROLLBACK TO SAVEPOINT a; "
        "INSERT INTO diff_t VALUES (5, 'five', 5, -5.5); COMMIT",
        "DELETE FROM diff_t WHERE id = 1",
        "INSERT INTO diff_t SELECT g, 'bulk ' || g, g, g / 7.0 FROM generate_series(100, 2100) g",
        "UPDATE diff_t SET name = name || '!' WHERE id BETWEEN 100 AND 140",
        "TRUNCATE diff_t",
    };
    for (const char* sql : workload) ASSERT_TRUE(db->Exec(sql).ok()) << sql;
    auto lsn = db->Query("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
    const uint64_t end = std::stoull((*lsn)[0][0]);
    for (int i = 0; i < 600 && log->Checkpoint(id)->position().pg().lsn() < end; ++i) {
      // The last transaction's commit end is at or below `end`; wait for the idle confirmation
      // or the last commit, whichever reaches it.
      if (log->Bounds(id)->last.value() >= 2 + 2 + 2 + 1 + 2001 + 41 + 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  auto oracle = db->Query(
      "SELECT lsn, xid, data FROM pg_logical_slot_peek_changes('diff_oracle', NULL, NULL, "
      "'include-xids', '1', 'skip-empty-xacts', '1') "
      "WHERE data NOT LIKE 'table %' OR data LIKE 'table public.diff_t%'");
  ASSERT_TRUE(oracle.ok()) << oracle.status();
  std::vector<Txn> expected = FromTestDecoding(*oracle);
  std::vector<Txn> actual = FromSluice(*log, id);
  std::erase_if(expected, [](const Txn& t) { return t.changes.empty(); });
  size_t changes = 0;
  for (const auto& t : expected) changes += t.changes.size();
  std::printf("compared %zu transactions, %zu changes\n", expected.size(), changes);
  ASSERT_GE(changes, 2050u) << "the oracle did not see the workload";
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(actual[i], expected[i]) << "transaction " << i;
  }
  (void)db->Exec("SELECT pg_drop_replication_slot('diff_oracle')");
  for (int i = 0; i < 50; ++i) {
    if (db->Exec("SELECT pg_drop_replication_slot('diff_slot')").ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace
}  // namespace sluice::pipeline
