// The snapshot readers against real servers: every chunk, read and encoded off the wire (MariaDB
// QueryStream, Postgres COPY), equals the rows a plain SELECT of the whole table decodes to, for
// composite keys, keyless tables and text that needs escaping.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "protocol/mysqlclient/text_value.h"
#include "protocol/postgres/pg_text_value.h"
#include "server/pipeline/mysql_snapshot.h"
#include "server/pipeline/postgres_snapshot.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

// Reads `table` to its end in chunks of `limit` as RunSnapshot does; the rows' `after` images.
std::vector<std::string> ReadAll(SnapshotReader& reader, storagepb::SnapshotTable table,
                                 size_t limit) {
  std::vector<std::string> out;
  for (int guard = 0; guard < 1000 && !table.done(); ++guard) {
    auto rows = reader.ReadChunk(table, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) break;
    for (const v1::ChangeEvent& e : rows->events) {
      EXPECT_EQ(e.op(), v1::OP_READ);
      EXPECT_EQ(e.key_columns_size(), table.key_columns_size());
      out.push_back(e.after().ShortDebugString());
    }
    AdvanceTable(table, rows->events.size(), limit, rows->last_key);
  }
  return out;
}

storagepb::SnapshotTable Table(std::string db, std::string name, std::vector<std::string> keys) {
  storagepb::SnapshotTable t;
  t.set_database(std::move(db));
  t.set_table(std::move(name));
  for (auto& k : keys) t.add_key_columns(std::move(k));
  return t;
}

std::unique_ptr<pgclient::ReplicationConnection> ConnectPostgres(TestDatabase& db) {
  pgclient::ConnectParams params;
  params.host = db.host();
  params.port = static_cast<uint16_t>(db.port());
  params.user = db.user();
  params.password = db.password();
  params.database = db.database();
  params.sslmode = "disable";
  params.replication = false;
  auto conn = pgclient::ReplicationConnection::Connect(params);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? *std::move(conn) : nullptr;
}

// One chunk as stored: each event's body and table-state key, then the chunk's last key.
using Chunk = std::vector<std::string>;

Chunk Flatten(const EncodedRows& rows) {
  Chunk out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    out.push_back(std::string(rows.rows.body(i)));
    out.push_back(std::string(rows.rows.row_key(i)));
  }
  out.push_back(absl::StrCat("last key: ", absl::StrJoin(rows.last_key, "|")));
  return out;
}

// Reads `table` to its end in chunks of `limit`, as RunSnapshot does: every chunk.
std::vector<Chunk> ReadChunks(SnapshotReader& reader, storagepb::SnapshotTable table,
                              size_t limit) {
  std::vector<Chunk> out;
  for (int guard = 0; guard < 5000 && !table.done(); ++guard) {
    auto rows = reader.ReadEncodedChunk(table, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) break;
    out.push_back(Flatten(*rows));
    AdvanceTable(table, rows->rows.size(), limit, rows->last_key);
  }
  return out;
}

// Text every escaping layer has to get right: COPY's backslash escapes, SQL quoting of keys.
const char* const kTricky[] = {"plain",   "tab\there", "new\nline", "back\\slash",
                               "quote'd", "cr\rx",     "\\N",       "caf\xc3\xa9",
                               "",        "\\x41"};

TEST(SnapshotReaderTest, PostgresChunksEqualASelect) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string sql =
      "DROP TABLE IF EXISTS sr_keyed, sr_keyless; "
      "CREATE TABLE sr_keyed (k1 text, k2 int, v numeric(8,2), at timestamp, b bytea, "
      "PRIMARY KEY (k1, k2)); CREATE TABLE sr_keyless (a int, t text); ";
  int n = 0;
  for (const char* t : kTricky) {
    for (int k2 = 0; k2 < 3; ++k2, ++n) {
      absl::StrAppend(&sql, "INSERT INTO sr_keyed VALUES (", "E'",
                      absl::StrReplaceAll(t, {{"\\", "\\\\"}, {"'", "\\'"}}), "', ", k2, ", ",
                      n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"),
                      ", timestamp '2026-01-01' + interval '1 second' * ", n, ", '\\x0a09'); ",
                      "INSERT INTO sr_keyless VALUES (", n, ", E'",
                      absl::StrReplaceAll(t, {{"\\", "\\\\"}, {"'", "\\'"}}), "'); ");
    }
  }
  ASSERT_TRUE((*db)->Exec(sql).ok());

  pgclient::ConnectParams params;
  params.host = (*db)->host();
  params.port = static_cast<uint16_t>((*db)->port());
  params.user = (*db)->user();
  params.password = (*db)->password();
  params.database = (*db)->database();
  params.sslmode = "disable";
  params.replication = false;
  auto conn = pgclient::ReplicationConnection::Connect(params);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(OpenPostgresSnapshot(**conn, "").ok());
  const postgres::TypeResolver resolver;
  PostgresSnapshotReader reader(**conn, resolver);

  auto expected = [&](const std::string& select) {
    auto rs = (*conn)->QueryText(select);
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::vector<std::string> out;
    for (const auto& row : rs->rows) {
      v1::Row r;
      for (size_t c = 0; c < row.size(); ++c) {
        v1::Field* f = r.add_fields();
        f->set_name(rs->names[c]);
        *f->mutable_value() =
            row[c] ? postgres::DecodeTextValue(rs->type_oids[c], *row[c]) : postgres::NullValue();
      }
      out.push_back(r.ShortDebugString());
    }
    return out;
  };
  const auto keyed = expected("SELECT * FROM sr_keyed ORDER BY k1, k2");
  ASSERT_EQ(keyed.size(), 30u);
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyed", {"k1", "k2"}), 7), keyed);
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyed", {"k1", "k2"}), 30), keyed);
  const auto keyless = expected("SELECT * FROM sr_keyless ORDER BY ctid");
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyless", {}), 4), keyless);
}

// The initial snapshot reads each table as one COPY stream cut into chunks on the client: every
// chunk (rows, bytes, last key) must be the one the per-chunk query returns, including the
// empty chunk after a table whose row count is a multiple of the chunk size.
TEST(SnapshotReaderTest, PostgresTableStreamCutsTheChunksOfTheChunkQuery) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string sql =
      "DROP TABLE IF EXISTS ts_keyed, ts_keyless, ts_thousand; "
      "CREATE TABLE ts_keyed (k1 text, k2 int, v numeric(8,2), at timestamp, "
      "PRIMARY KEY (k1, k2)); CREATE TABLE ts_keyless (a int, t text); "
      "CREATE TABLE ts_thousand (id int PRIMARY KEY, name text, d date); "
      "INSERT INTO ts_thousand SELECT g, 'n' || g, date '2026-01-01' + g "
      "FROM generate_series(1, 1000) g; ";
  int n = 0;
  for (const char* t : kTricky) {
    for (int k2 = 0; k2 < 3; ++k2, ++n) {
      const std::string lit = absl::StrReplaceAll(t, {{"\\", "\\\\"}, {"'", "\\'"}});
      absl::StrAppend(&sql, "INSERT INTO ts_keyed VALUES (E'", lit, "', ", k2, ", ",
                      n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"),
                      ", timestamp '2026-01-01' + interval '1 second' * ", n, "); ",
                      "INSERT INTO ts_keyless VALUES (", n, ", E'", lit, "'); ");
    }
  }
  ASSERT_TRUE((*db)->Exec(sql).ok());
  auto conn = ConnectPostgres(**db);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(OpenPostgresSnapshot(*conn, "").ok());
  const postgres::TypeResolver resolver;
  using Format = PostgresSnapshotReader::CopyFormat;
  for (Format format : {Format::kBinary, Format::kText}) {
    PostgresSnapshotReader per_chunk(*conn, resolver);
    per_chunk.set_copy_format(format);
    PostgresSnapshotReader stream(*conn, resolver);
    stream.set_copy_format(format);
    stream.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
    for (const auto& table : {Table("public", "ts_keyed", {"k1", "k2"}),  // 30 rows
                              Table("public", "ts_keyless", {}),          // 30 rows
                              Table("public", "ts_thousand", {"id"})}) {  // 1,000 rows
      for (size_t limit : {size_t{1}, size_t{3}, size_t{1000}}) {
        SCOPED_TRACE(absl::StrCat(table.table(), ", chunks of ", limit,
                                  format == Format::kBinary ? ", binary" : ", text"));
        const std::vector<Chunk> expected = ReadChunks(per_chunk, table, limit);
        const std::vector<Chunk> streamed = ReadChunks(stream, table, limit);
        const size_t rows = table.table() == "ts_thousand" ? 1000 : 30;
        // A full last chunk is followed by an empty one, which finishes the table.
        EXPECT_EQ(expected.size(), rows / limit + 1);
        ASSERT_EQ(streamed.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
          EXPECT_EQ(streamed[i], expected[i]) << "chunk " << i;
        }
        EXPECT_FALSE(stream.stream_open());  // read to its end
      }
    }
  }
}

// A stream goes on only from where it stopped: another table, another key or an error ends it
// (cancelled on the server, the transaction rolled back to before it), and the next chunk is a
// new query from the requested key, still in the same snapshot.
TEST(SnapshotReaderTest, PostgresTableStreamRestartsFromTheRequestedKey) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)
                  ->Exec("DROP VIEW IF EXISTS tr_failing; DROP TABLE IF EXISTS tr_a, tr_b; "
                         "CREATE TABLE tr_a (id int PRIMARY KEY, t text); "
                         "CREATE TABLE tr_b (id int PRIMARY KEY, t text); "
                         "INSERT INTO tr_a SELECT g, 'a' || g FROM generate_series(1, 50) g; "
                         "INSERT INTO tr_b SELECT g, 'b' || g FROM generate_series(1, 20) g; "
                         // Fails in the middle of its rows: 1 / 0 at id 25.
                         "CREATE VIEW tr_failing AS SELECT id, 100 / (id - 25) AS q FROM tr_a")
                  .ok());
  auto conn = ConnectPostgres(**db);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(OpenPostgresSnapshot(*conn, "").ok());
  // The view's rows come in key order from the index, so it fails after its 24th row.
  ASSERT_TRUE(conn->Query("SET LOCAL enable_seqscan = off").ok());
  // Rows committed after the snapshot began (with the transaction's first query) must stay
  // invisible to every later chunk.
  ASSERT_TRUE(conn->QueryText("SELECT 1 FROM tr_a LIMIT 1").ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO tr_a VALUES (1000, 'late'), (0, 'early')").ok());
  const postgres::TypeResolver resolver;
  PostgresSnapshotReader expected_reader(*conn, resolver);
  PostgresSnapshotReader stream(*conn, resolver);
  stream.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
  auto a = Table("public", "tr_a", {"id"}), b = Table("public", "tr_b", {"id"});

  auto chunk = [&](SnapshotReader& reader, storagepb::SnapshotTable& t, size_t limit) {
    auto rows = reader.ReadEncodedChunk(t, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return Chunk{};
    AdvanceTable(t, rows->rows.size(), limit, rows->last_key);
    return Flatten(*rows);
  };
  // What the per-chunk reader gives for a's chunks of 10 from the start, and b's first.
  std::vector<Chunk> a_chunks;
  for (auto t = a; !t.done();) a_chunks.push_back(chunk(expected_reader, t, 10));
  ASSERT_EQ(a_chunks.size(), 6u);
  auto b_first_table = b;
  const Chunk b_first = chunk(expected_reader, b_first_table, 10);

  auto a1 = a;
  EXPECT_EQ(chunk(stream, a1, 10), a_chunks[0]);
  EXPECT_TRUE(stream.stream_open());
  // Another table: a's stream ends mid-table.
  auto b1 = b;
  EXPECT_EQ(chunk(stream, b1, 10), b_first);
  // a again from its start (not where its stream had stopped), then on from there.
  auto a2 = a;
  EXPECT_EQ(chunk(stream, a2, 10), a_chunks[0]);
  EXPECT_EQ(chunk(stream, a2, 10), a_chunks[1]);
  // A resume key other than where the stream stopped (as after a restart): from that key.
  EXPECT_EQ(chunk(stream, a1, 10), a_chunks[1]);
  EXPECT_EQ(chunk(stream, a1, 10), a_chunks[2]);
  // The server fails in the middle of a stream: its error, and the session goes on.
  auto failing = Table("public", "tr_failing", {"id"});
  auto first = stream.ReadEncodedChunk(failing, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->rows.size(), 10u);
  AdvanceTable(failing, first->rows.size(), 10, first->last_key);
  auto second = stream.ReadEncodedChunk(failing, 10);
  ASSERT_TRUE(second.ok()) << second.status();
  AdvanceTable(failing, second->rows.size(), 10, second->last_key);
  auto third = stream.ReadEncodedChunk(failing, 10);
  EXPECT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("division by zero"), std::string::npos)
      << third.status();
  EXPECT_FALSE(stream.stream_open());
  EXPECT_FALSE(conn->copy_open());
  // Same transaction, same snapshot: the rest of a as before (no late rows), to its end.
  for (size_t i = 3; i < a_chunks.size(); ++i) EXPECT_EQ(chunk(stream, a1, 10), a_chunks[i]);
  EXPECT_TRUE(a1.done());
  auto count = conn->QueryText("SELECT count(*) FROM tr_a");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->rows.at(0).at(0).value_or(""), "50");
}

// Without LIMIT the planner may sort a whole table (here: a small one) rather than walk its
// primary key; the stream must come from the index, as the per-chunk query does, and leave the
// session's settings as they were.
TEST(SnapshotReaderTest, PostgresTableStreamWalksThePrimaryKeyWithoutASort) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)
                  ->Exec("DROP TABLE IF EXISTS tw_small; "
                         "CREATE TABLE tw_small (id int PRIMARY KEY, t text); "
                         "INSERT INTO tw_small SELECT g, 'w' || g FROM generate_series(1, 40) g; "
                         "ANALYZE tw_small")
                  .ok());
  auto conn = ConnectPostgres(**db);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(OpenPostgresSnapshot(*conn, "").ok());
  auto plan = conn->QueryText("EXPLAIN SELECT * FROM tw_small ORDER BY id");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_NE(plan->rows.at(0).at(0).value_or("").find("Sort"), std::string::npos)
      << "the planner no longer sorts this table: the test shows nothing";
  const postgres::TypeResolver resolver;
  PostgresSnapshotReader stream(*conn, resolver);
  stream.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
  EXPECT_EQ(ReadChunks(stream, Table("public", "tw_small", {"id"}), 15).size(), 3u);
  // This transaction's own scans of the table so far (not yet flushed to the cumulative view).
  auto scans = conn->QueryText(
      "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'tw_small'");
  ASSERT_TRUE(scans.ok()) << scans.status();
  EXPECT_EQ(scans->rows.at(0).at(0).value_or(""), "0");
  EXPECT_EQ(scans->rows.at(0).at(1).value_or(""), "1");
  auto sort = conn->QueryText("SHOW enable_sort");
  ASSERT_TRUE(sort.ok()) << sort.status();
  EXPECT_EQ(sort->rows.at(0).at(0).value_or(""), "on");
}

// A sluiced that stops (or a reader that fails on a row) in the middle of a table ends the stream:
// the server cancels the COPY and the connection takes the next command, in the same
// transaction. The table is larger than the socket buffers, so the server is still sending.
TEST(SnapshotReaderTest, PostgresStreamEndedMidTableLeavesTheSessionUsable) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)
                  ->Exec("DROP TABLE IF EXISTS te_wide; "
                         "CREATE TABLE te_wide (id int PRIMARY KEY, t text); "
                         "INSERT INTO te_wide SELECT g, repeat(md5(g::text), 32) "
                         "FROM generate_series(1, 40000) g")  // ~40 MiB of COPY data
                  .ok());
  auto conn = ConnectPostgres(**db);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(OpenPostgresSnapshot(*conn, "").ok());
  ASSERT_TRUE(conn->QueryText("SELECT 1 FROM te_wide LIMIT 1").ok());  // the snapshot is taken
  ASSERT_TRUE((*db)->Exec("INSERT INTO te_wide VALUES (0, 'late')").ok());
  const postgres::TypeResolver resolver;
  {
    PostgresSnapshotReader stream(*conn, resolver);
    stream.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
    auto rows = stream.ReadEncodedChunk(Table("public", "te_wide", {"id"}), 10);
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(rows->rows.size(), 10u);
    EXPECT_TRUE(conn->copy_open());
  }  // as RunSnapshot's caller drops the reader when stopping
  EXPECT_FALSE(conn->copy_open());
  auto count = conn->QueryText("SELECT count(*), min(id) FROM te_wide");
  ASSERT_TRUE(count.ok()) << count.status();  // not "current transaction is aborted"
  EXPECT_EQ(count->rows.at(0).at(0).value_or(""), "40000");
  EXPECT_EQ(count->rows.at(0).at(1).value_or(""), "1");

  // The connection itself: a copy ended early is cancelled by the server, not read to its end.
  ASSERT_TRUE(conn->Query("SAVEPOINT s").ok());
  ASSERT_TRUE(conn->StartCopyOut("COPY te_wide TO STDOUT").ok());
  auto row = conn->NextCopyRow();
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(row->has_value());
  EXPECT_FALSE(conn->StartCopyOut("COPY te_wide TO STDOUT").ok());  // one copy at a time
  auto cancelled = conn->EndCopyOut();
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_TRUE(*cancelled);
  EXPECT_FALSE(conn->copy_open());
  EXPECT_FALSE(conn->Query("SELECT 1").ok());  // the transaction is aborted by the cancel...
  ASSERT_TRUE(conn->Query("ROLLBACK TO SAVEPOINT s").ok());  // ...up to the savepoint
  EXPECT_TRUE(conn->Query("SELECT 1").ok());
  // A copy read to its end needs no cancel.
  ASSERT_TRUE(conn->StartCopyOut("COPY (SELECT 1) TO STDOUT").ok());
  ASSERT_TRUE(conn->NextCopyRow().ok());
  auto end = conn->NextCopyRow();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_FALSE(end->has_value());
  auto none = conn->EndCopyOut();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST(SnapshotReaderTest, MariaDbChunksEqualASelect) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string sql =
      "DROP TABLE IF EXISTS sr_keyed, sr_keyless; "
      "CREATE TABLE sr_keyed (k1 VARBINARY(20), k2 INT, v DECIMAL(8,2), at DATETIME(6), "
      "s VARCHAR(20), PRIMARY KEY (k1, k2)); CREATE TABLE sr_keyless (a INT, t TEXT); ";
  int n = 0;
  for (const char* t : kTricky) {
    for (int k2 = 0; k2 < 3; ++k2, ++n) {
      const std::string lit = QuoteMysqlLiteral(t, false);
      absl::StrAppend(&sql, "INSERT INTO sr_keyed VALUES (", QuoteMysqlLiteral(t, true), ", ", k2,
                      ", ", n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"),
                      ", TIMESTAMP('2026-01-01') + INTERVAL ", n, " SECOND, ", lit, "); ",
                      "INSERT INTO sr_keyless VALUES (", n, ", ", lit, "); ");
    }
  }
  ASSERT_TRUE((*db)->Exec(sql).ok());

  mysqlclient::ConnectOptions o;
  o.host = (*db)->host();
  o.port = static_cast<uint16_t>((*db)->port());
  o.user = (*db)->user();
  o.password = (*db)->password();
  o.tls = mysqlclient::TlsMode::kDisabled;
  auto conn = mysqlclient::MysqlConnection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(OpenMysqlSnapshot(**conn, true, false).ok());
  MysqlSnapshotReader reader(**conn);

  auto expected = [&](const std::string& select) {
    auto rs = (*conn)->Query(select);
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::vector<std::string> out;
    for (const auto& row : rs->rows) {
      v1::Row r;
      for (size_t c = 0; c < row.size(); ++c) {
        v1::Field* f = r.add_fields();
        f->set_name(rs->columns[c].name);
        *f->mutable_value() = mysqlclient::DecodeTextColumn(rs->columns[c], row[c]);
      }
      out.push_back(r.ShortDebugString());
    }
    return out;
  };
  const std::string database = (*db)->database();
  const auto keyed =
      expected(absl::StrCat("SELECT * FROM ", database, ".sr_keyed ORDER BY k1, k2"));
  ASSERT_EQ(keyed.size(), 30u);
  EXPECT_EQ(ReadAll(reader, Table(database, "sr_keyed", {"k1", "k2"}), 7), keyed);
  const auto keyless = expected(absl::StrCat("SELECT * FROM ", database, ".sr_keyless"));
  EXPECT_EQ(ReadAll(reader, Table(database, "sr_keyless", {}), 4), keyless);
}

}  // namespace
}  // namespace sluice::pipeline
