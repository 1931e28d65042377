// sluiced against a real PostgreSQL 15, observed only through sluicectl: values as the server
// holds them, and no loss or duplication across kill -9.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using e2e::WaitStreaming;
using storage::testing::TempDir;
using testing::TestDatabase;

class PostgresE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    (void)db_->Exec("SELECT pg_drop_replication_slot('e2e_slot')");
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS e2e_items; DROP PUBLICATION IF EXISTS e2e_pub; "
                          "CREATE TABLE e2e_items (id int PRIMARY KEY, v text, n numeric, "
                          "d date, ts timestamptz, j jsonb, b bytea, arr int[], f float8)")
                    .ok());
  }
  void TearDown() override {
    for (int i = 0; i < 50; ++i) {
      if (db_->Exec("SELECT pg_drop_replication_slot('e2e_slot')").ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<std::string> SluicedArgs(const std::string& tables = "public.e2e_items") {
    return {"--data-dir",
            data_.path(),
            "--listen",
            "127.0.0.1:0",
            "--source",
            "postgres://" + db_->user() + ":" + db_->password() +
                "@127.0.0.1:" + std::to_string(db_->port()) + "/" + db_->database() +
                "?name=pg&slot=e2e_slot&publication=e2e_pub&tables=" + tables + "&tls=disabled"};
  }
  std::vector<std::string> Tail(const SluicedProcess& d, size_t n) {
    return e2e::TailJson(d, "pg", n, "earliest", 20);
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
};

TEST_F(PostgresE2E, TailShowsTheValuesTheServerHolds) {
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  ASSERT_TRUE(db_->Exec("INSERT INTO e2e_items VALUES (1, 'héllo 😀', 3.10, '2026-01-02', "
                        "'2026-01-02 03:04:05.5+02', '{\"a\": [1, 2]}', '\\x000102', "
                        "'{1,NULL,3}', 'NaN')")
                  .ok());
  auto lines = Tail(d, 1);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& line = lines[0];
  EXPECT_NE(line.find("\"op\":\"c\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"source\":{\"name\":\"pg\",\"kind\":\"postgres\""), std::string::npos)
      << line;
  EXPECT_NE(line.find("\"schema\":\"public\",\"table\":\"e2e_items\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"key\":{\"id\":1}"), std::string::npos) << line;
  EXPECT_NE(line.find("\"after\":{\"id\":1,\"v\":\"héllo 😀\",\"n\":\"3.10\",\"d\":\"2026-01-02\","
                      "\"ts\":\"2026-01-02T01:04:05.5Z\",\"j\":{\"a\":[1,2]},\"b\":\"AAEC\","
                      "\"arr\":[1,null,3],\"f\":\"NaN\"}"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"txn\":{\"index\":0,\"last\":true}"), std::string::npos) << line;
  auto status = RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"});
  EXPECT_NE(status.stdout_text.find("\"state\":\"streaming\""), std::string::npos)
      << status.stdout_text;
}

TEST_F(PostgresE2E, EveryTypeAsTheServerHoldsIt) {
  ASSERT_TRUE(
      db_->Exec(
             "DROP TABLE IF EXISTS e2e_types; DROP TYPE IF EXISTS e2e_mood; DROP DOMAIN IF EXISTS "
             "e2e_pos; "
             "CREATE TYPE e2e_mood AS ENUM ('ok', 'meh'); CREATE DOMAIN e2e_pos AS int CHECK "
             "(VALUE > 0); "
             "CREATE TABLE e2e_types (id int PRIMARY KEY, i2 int2, i8 int8, o oid, n1 numeric, "
             "n2 numeric, n3 numeric, f4 float4, f8 float8, f8n float8, b bool, t text, vc "
             "varchar(5), "
             "bp char(3), nm name, ba bytea, u uuid, js json, jb jsonb, d date, dbc date, tm time, "
             "tz timetz, ts timestamp, tst timestamptz, tsold timestamptz, iv interval, ivn "
             "interval, "
             "ip inet, net cidr, mac macaddr, m money, bt bit(3), vb varbit, ai int[], at text[], "
             "mood e2e_mood, pos e2e_pos, moods e2e_mood[])")
          .ok());
  SluicedProcess d(SluicedArgs("public.e2e_types"));
  WaitStreaming(d);
  ASSERT_TRUE(db_->Exec(R"sql(INSERT INTO e2e_types VALUES (1, -32768, 9223372036854775807,
      4294967295, 'NaN', '-Infinity', 0.000100, 'Infinity', 1.5e-300, '-0', true,
      'multi 字节 ''q''', 'ab', 'x', 'nm', '\xdeadbeef', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '{"a": [1, "x"]}', '{"b": null}', '1969-12-31', '0044-03-15 BC', '24:00:00',
      '04:05:06.789-07:30', '2038-01-19 03:14:08.5', '1901-12-13 20:45:52+00',
      '1960-01-01 00:00:00.000001+05', '1 year 2 mons 3 days 04:05:06.5', '-1 days -02:00:00',
      '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '$1,234.56', B'101', B'1',
      '{1,NULL,3}', '{"a b",NULL,"c\"d"}', 'meh', 7, '{ok,meh}'))sql")
                  .ok());
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "pg", "--from", "earliest",
                       "--format", "json", "--limit", "1", "--idle-exit", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const size_t after = r.stdout_text.find("\"after\":");
  ASSERT_NE(after, std::string::npos) << r.stdout_text;
  const std::string got = r.stdout_text.substr(after, r.stdout_text.find(",\"unchanged\"") - after);
  // Checked value by value against what PostgreSQL holds (the canonical encoding of
  // docs/event-format.md): exact integers, numeric digits and scale, float specials, padded
  // bpchar, bytea as base64, JSON nested, BC dates, 24:00, timetz offsets, timestamptz in UTC
  // (before 1970 and 1901), intervals as ISO 8601, arrays with NULLs, enums and domains.
  EXPECT_EQ(
      got,
      R"json("after":{"id":1,"i2":-32768,"i8":9223372036854775807,"o":4294967295,"n1":"NaN","n2":"-Infinity","n3":"0.000100","f4":"Infinity","f8":1.5e-300,"f8n":-0,"b":true,"t":"multi 字节 'q'","vc":"ab","bp":"x  ","nm":"nm","ba":"3q2+7w==","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","js":{"a":[1,"x"]},"jb":{"b":null},"d":"1969-12-31","dbc":"0044-03-15 BC","tm":"24:00:00","tz":"04:05:06.789-07:30","ts":"2038-01-19 03:14:08.5","tst":"1901-12-13T20:45:52Z","tsold":"1959-12-31T19:00:00.000001Z","iv":"P1Y2M3DT4H5M6.5S","ivn":"P-1DT-2H","ip":"192.168.0.1/24","net":"10.0.0.0/8","mac":"08:00:2b:01:02:03","m":"$1,234.56","bt":"101","vb":"1","ai":[1,null,3],"at":["a b",null,"c\"d"],"mood":"meh","pos":7,"moods":["ok","meh"]})json");
}

TEST_F(PostgresE2E, KillNineLosesAndRepeatsNothing) {
  constexpr int kRows = 600;
  std::atomic<int> written{0};
  auto d = std::make_unique<SluicedProcess>(SluicedArgs());
  WaitStreaming(*d);
  std::thread writer([&] {
    for (int i = 1; i <= kRows; ++i) {
      ASSERT_TRUE(
          db_->Exec("INSERT INTO e2e_items (id, v) VALUES (" + std::to_string(i) + ", 'v')").ok());
      written = i;
    }
  });
  // Crash sluiced twice while the writer is running.
  for (int crash = 0; crash < 2; ++crash) {
    while (written < (crash + 1) * kRows / 3)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    d->Kill();
    d = std::make_unique<SluicedProcess>(SluicedArgs());
  }
  writer.join();
  auto lines = Tail(*d, kRows);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kRows));
  const std::regex id_re("\"after\":\\{\"id\":([0-9]+),");
  const std::regex offset_re("^\\{\"offset\":([0-9]+),");
  for (int i = 0; i < kRows; ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(lines[i], m, id_re)) << lines[i];
    ASSERT_EQ(std::stoi(m[1]), i + 1) << "lost, repeated or reordered: " << lines[i];
    ASSERT_TRUE(std::regex_search(lines[i], m, offset_re)) << lines[i];
    ASSERT_EQ(std::stoi(m[1]), i + 1);
  }
  // Nothing more arrives after the last row.
  auto more = RunCommand({Sluicectl(), "--server", d->address(), "tail", "pg", "--from",
                          std::to_string(kRows + 1), "--format", "json", "--idle-exit", "2"});
  EXPECT_EQ(more.stdout_text, "");
}

}  // namespace
}  // namespace sluice
