// Captures the seeds of copy_text_fuzz from our own throwaway PostgreSQL (never from ../shared or
// anywhere else) and checks them: a table with a column of every common built-in type, with
// texts that need COPY's escapes (tab, newline, carriage return, backslash, "\N" as text), NULLs
// and the types' edge values, is read with COPY ... TO STDOUT on the replication connection the
// snapshot uses (pinned session settings). Each row as it arrives:
//   - CopyTextRow parses it into the same values the server's own text result gives for the
//     same SELECT (a differential check against libpq's reading of the row);
//   - every value decodes (DecodeTextValue) to its type's kind, not raw.
//
//   SLUICE_FUZZ_WRITE_CORPUS=tests/fuzz/corpus build/tests/fuzz/pg_copy_corpus_capture_test
//
// writes <dir>/copy_text_fuzz/seed-<query>_row<i> (the input format is at the top of
// copy_text_fuzz.cc). Without the variable it only checks.
//
// The same rows in binary (COPY ... (FORMAT binary), the columns without a binary decoder
// selected as their type's output function, as PostgresSnapshotReader does): each value decodes
// (AppendBinaryValueWire, or AppendTextValueWire for the output functions' text) to the bytes
// the text decoder gives for the server's own text result; the messages (the header with the
// first row, the trailer alone) become <dir>/copy_binary_fuzz/seed-<query>_msg<i>.

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "protocol/pgclient/replication_connection.h"
#include "protocol/postgres/copy_binary.h"
#include "protocol/postgres/copy_text.h"
#include "protocol/postgres/pg_binary_value.h"
#include "protocol/postgres/pg_value_wire.h"
#include "protocol/postgres/pg_text_value.h"
#include "tests/testing/test_database.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;
using ::sluice::testing::TestDatabase;

constexpr const char* kSchema = R"sql(
DROP TABLE IF EXISTS fz_copy;
CREATE TABLE fz_copy (
  id int PRIMARY KEY, c_int2 int2, c_int8 int8, c_oid oid, c_numeric numeric, c_float4 float4,
  c_float8 float8, c_bool bool, c_text text, c_varchar varchar(40), c_bpchar char(5), c_name name,
  c_char "char", c_bytea bytea, c_uuid uuid, c_json json, c_jsonb jsonb, c_date date,
  c_time time, c_timetz timetz, c_timestamp timestamp, c_timestamptz timestamptz,
  c_interval interval, c_inet inet, c_macaddr macaddr, c_money money, c_bit bit(4),
  c_varbit varbit, c_xml xml, c_int4_arr int4[], c_text_arr text[], c_tstz_arr timestamptz[],
  c_numeric_arr numeric[], c_bytea_arr bytea[], c_bool_arr bool[]);
INSERT INTO fz_copy VALUES
 (1, 1, 3, 4, 3.10, 1.5, 2.25, true, E'tab\there\nnew\rline \\ back', 'varchar', 'ab', 'nm',
  'q', '\x0a0b09', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, "t\tb"]}', '{"b": null}',
  '2026-01-02', '04:05:06.789', '04:05:06+05:30', '2026-01-02 03:04:05.123456',
  '2026-01-02 03:04:05.123+02', '1 year 2 mons 3 days 04:05:06.5', '192.168.0.1/24',
  '08:00:2b:01:02:03', 12.34, B'1010', B'101', '<a>x</a>', '{1,2,NULL}',
  '{"a b","c\\\"d",NULL,"","tab\there","\\N"}', '{"2026-01-02 03:04:05+00",infinity}',
  '{NaN,1.50,-Infinity}', '{"\\\\x00ff",NULL}', '{t,f}'),
 (2, -32768, -9223372036854775808, 0, 'NaN', 'NaN', '-Infinity', false, '\N', E'\u00fcn\u00efc\u00f8d\u00e9 \u2713',
  '', '', E'\\', '\x', NULL, '[]', '"s"', '0044-03-15 BC', '24:00:00', '23:59:59.999999-08',
  '0044-03-15 12:00:00 BC', '-infinity', '-1 days -02:00:00', '::1', '00:00:00:00:00:00',
  -0.01, B'0000', B'', '', '{}', '{NULL}', '{}', '{}', '{}', '{NULL}'),
 (3, NULL, NULL, NULL, 'Infinity', 'Infinity', 'Infinity', NULL, '', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, 'infinity', NULL, NULL, 'infinity', '1900-01-01 00:00:00+00',
  '-178956970 years -7 mons -2147483647 days -2562047788:00:54.775807', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 32767, 9223372036854775807, 4294967295, '-123456789012345678901234567890.000001',
  '-1.17549435e-38', '1e-308', true, repeat('x', 300), 'x', 'abcde', repeat('n', 63), E'\t',
  '\xdeadbeef', '00000000-0000-0000-0000-000000000000', '{"nested": {"k": [true, false]}}',
  '{"\\\\": "\\\\N"}', '5874897-12-31', '00:00:00', '00:00:00+00', '294276-12-31 23:59:59.999999',
  '2100-06-30 23:59:59.999999+00', '00:00:00', '10.0.0.0/8', 'ff:ff:ff:ff:ff:ff', 0, B'1111',
  B'1', '<r/>', '{-2147483648,2147483647}', '{"\\\\"}', '{-infinity}', '{0,-0.5}', '{"\\\\x"}',
  '{NULL,t}');
)sql";

class PgCopyCorpusCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    params_.host = db_->host();
    params_.port = static_cast<uint16_t>(db_->port());
    params_.user = db_->user();
    params_.password = db_->password();
    params_.database = db_->database();
    params_.sslmode = "disable";
  }
  TestDatabase* db_ = nullptr;
  pgclient::ConnectParams params_;
};

void AddSeed(const std::string& name, const std::string& bytes,
             const char* target = "copy_text_fuzz") {
  const char* dir = std::getenv("SLUICE_FUZZ_WRITE_CORPUS");
  if (!dir) return;
  fs::path path = fs::path(dir) / target / ("seed-" + name);
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

TEST_F(PgCopyCorpusCaptureTest, CopyRows) {
  absl::Status st = db_->Exec(kSchema);
  ASSERT_TRUE(st.ok()) << st;
  auto conn = pgclient::ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();

  const std::pair<const char*, const char*> queries[] = {
      {"all", "*"},
      {"numbers", "id, c_int2, c_int8, c_oid, c_numeric, c_float4, c_float8, c_bool, c_money"},
      {"times", "id, c_date, c_time, c_timetz, c_timestamp, c_timestamptz, c_interval"},
      {"strings", "id, c_text, c_varchar, c_bpchar, c_name, c_char, c_bytea, c_json, c_jsonb"},
      {"arrays", "id, c_int4_arr, c_text_arr, c_tstz_arr, c_numeric_arr, c_bytea_arr, c_bool_arr"},
  };
  int seeds = 0;
  for (const auto& [name, columns] : queries) {
    const std::string sql = absl::StrCat("SELECT ", columns, " FROM fz_copy ORDER BY id");
    auto expected = (*conn)->QueryText(sql);
    ASSERT_TRUE(expected.ok()) << expected.status();
    const size_t n = expected->type_oids.size();
    ASSERT_GT(n, 0u);
    ASSERT_LT(n, 256u);
    std::string header(1, static_cast<char>(n));
    for (uint32_t oid : expected->type_oids) {
      for (int b = 0; b < 4; ++b) header.push_back(static_cast<char>((oid >> (8 * b)) & 0xFF));
    }
    postgres::CopyTextRow reader;
    size_t r = 0;
    auto copied = (*conn)->CopyOut(
        absl::StrCat("COPY (", sql, ") TO STDOUT"), [&](std::string_view row) -> absl::Status {
          EXPECT_LT(r, expected->rows.size());
          if (r >= expected->rows.size()) return absl::OkStatus();
          absl::Status parsed = reader.Parse(row, n);
          EXPECT_TRUE(parsed.ok()) << parsed << ": " << row;
          if (!parsed.ok()) return absl::OkStatus();
          for (size_t c = 0; c < n; ++c) {
            const std::optional<std::string>& want = expected->rows[r][c];
            const std::optional<std::string_view>& got = reader.values()[c];
            EXPECT_EQ(got.has_value(), want.has_value()) << name << " row " << r << " col " << c;
            if (!got || !want) continue;
            EXPECT_EQ(*got, *want) << name << " row " << r << " " << expected->names[c];
            const v1::Value v = postgres::DecodeTextValue(expected->type_oids[c], *got);
            EXPECT_NE(v.kind_case(), v1::Value::kRaw)
                << expected->names[c] << ": " << v.ShortDebugString();
          }
          AddSeed(absl::StrCat(name, "_row", r), header + std::string(row));
          ++r;
          ++seeds;
          return absl::OkStatus();
        });
    ASSERT_TRUE(copied.ok()) << copied.status();
    EXPECT_EQ(*copied, expected->rows.size());
    EXPECT_EQ(r, expected->rows.size());
  }
  EXPECT_EQ(seeds, 20);
  ASSERT_TRUE(db_->Exec("DROP TABLE fz_copy").ok());
}

TEST_F(PgCopyCorpusCaptureTest, CopyBinaryRows) {
  absl::Status st = db_->Exec(kSchema);
  ASSERT_TRUE(st.ok()) << st;
  auto conn = pgclient::ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();

  const std::pair<const char*, std::vector<const char*>> queries[] = {
      {"numbers", {"id", "c_int2", "c_int8", "c_oid", "c_numeric", "c_float4", "c_float8",
                   "c_bool", "c_money"}},
      {"times", {"id", "c_date", "c_time", "c_timetz", "c_timestamp", "c_timestamptz",
                 "c_interval"}},
      {"strings", {"id", "c_text", "c_varchar", "c_bpchar", "c_name", "c_char", "c_bytea",
                   "c_uuid", "c_json", "c_jsonb"}},
      {"arrays", {"id", "c_int4_arr", "c_text_arr", "c_tstz_arr", "c_numeric_arr"}},
  };
  int seeds = 0;
  for (const auto& [name, columns] : queries) {
    const std::string plain =
        absl::StrCat("SELECT ", absl::StrJoin(columns, ", "), " FROM fz_copy ORDER BY id");
    auto expected = (*conn)->QueryText(plain);
    ASSERT_TRUE(expected.ok()) << expected.status();
    const size_t n = expected->type_oids.size();
    ASSERT_EQ(n, columns.size());
    std::vector<std::string> exprs;
    for (size_t c = 0; c < n; ++c) {
      if (postgres::HasBinaryDecoder(expected->type_oids[c])) {
        exprs.emplace_back(columns[c]);
        continue;
      }
      auto fn = (*conn)->QueryText(absl::StrCat(
          "SELECT p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typoutput WHERE t.oid = ",
          expected->type_oids[c]));
      ASSERT_TRUE(fn.ok() && fn->rows.size() == 1 && fn->rows[0][0]) << columns[c];
      exprs.push_back(absl::StrCat("pg_catalog.", *fn->rows[0][0], "(", columns[c], ")"));
    }
    std::string header(1, static_cast<char>(0x80 | n));
    for (uint32_t oid : expected->type_oids) {
      for (int b = 0; b < 4; ++b) header.push_back(static_cast<char>((oid >> (8 * b)) & 0xFF));
    }
    postgres::CopyBinaryRow reader;
    reader.Reset();
    size_t r = 0, messages = 0;
    std::string wire, want, scratch;
    auto copied = (*conn)->CopyOut(
        absl::StrCat("COPY (SELECT ", absl::StrJoin(exprs, ", "),
                     " FROM fz_copy ORDER BY id) TO STDOUT (FORMAT binary)"),
        [&](std::string_view message) -> absl::Status {
          // The seed's flag bit says whether the message starts with the header.
          if (messages > 0) header[0] = static_cast<char>(n);
          AddSeed(absl::StrCat(name, "_msg", messages++), header + std::string(message),
                  "copy_binary_fuzz");
          absl::Status parsed = reader.Parse(message, n);
          EXPECT_TRUE(parsed.ok()) << parsed << ": " << absl::CHexEscape(std::string(message));
          if (!parsed.ok() || reader.ended()) return absl::OkStatus();
          EXPECT_LT(r, expected->rows.size());
          if (r >= expected->rows.size()) return absl::OkStatus();
          for (size_t c = 0; c < n; ++c) {
            const uint32_t oid = expected->type_oids[c];
            const std::optional<std::string>& text = expected->rows[r][c];
            wire.clear();
            want.clear();
            if (postgres::HasBinaryDecoder(oid)) {
              absl::Status s =
                  postgres::AppendBinaryValueWire(oid, reader.values()[c], nullptr, scratch, wire);
              EXPECT_TRUE(s.ok()) << s;
            } else {
              postgres::AppendTextValueWire(oid, reader.values()[c], nullptr, wire);
            }
            postgres::AppendTextValueWire(
                oid, text ? std::optional<std::string_view>(*text) : std::nullopt, nullptr, want);
            EXPECT_EQ(absl::CHexEscape(wire), absl::CHexEscape(want))
                << name << " row " << r << " " << expected->names[c];
          }
          ++r;
          ++seeds;
          return absl::OkStatus();
        });
    ASSERT_TRUE(copied.ok()) << copied.status();
    EXPECT_TRUE(reader.ended());
    EXPECT_EQ(r, expected->rows.size());
  }
  EXPECT_EQ(seeds, 16);
  ASSERT_TRUE(db_->Exec("DROP TABLE fz_copy").ok());
}

}  // namespace
}  // namespace sluice::fuzz
