// fuzz_corpus_gen: writes the seed inputs of every fuzz target, made by our own code (records
// from AppendRecord, events and values serialized by the generated protobuf code, canonical
// source URLs from FormatRedactedSourceUrl) or written out here by hand. Never copies fixtures
// from elsewhere: the corpus holds only bytes we produced ourselves.
//
//   fuzz_corpus_gen tests/fuzz/corpus
//
// writes DIR/<target>/seed-<name> and prints each path. The output is deterministic; rerun it
// after changing a format and commit what changed.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "server/config/source_config.h"
#include "sluice/v1/event.pb.h"
#include "storage/key_format.h"
#include "tests/fuzz/byte_reader_ops.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = sluice::v1;

// The bytes of a string literal, embedded NULs included.
template <size_t N>
std::string Lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

bool Write(const fs::path& dir, std::string_view target, std::string_view name,
           std::string_view bytes) {
  const fs::path path = dir / target / ("seed-" + std::string(name));
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("%s (%zu bytes)\n", path.c_str(), bytes.size());
  return true;
}

void SetField(v1::Row& row, std::string_view name, const v1::Value& value) {
  v1::Field* field = row.add_fields();
  field->set_name(std::string(name));
  *field->mutable_value() = value;
}

v1::Value Int(int64_t v) {
  v1::Value value;
  value.set_int64(v);
  return value;
}
v1::Value Str(std::string_view s) {
  v1::Value value;
  value.set_string(std::string(s));
  return value;
}
v1::Value Json(std::string_view s) {
  v1::Value value;
  value.set_json(std::string(s));
  return value;
}
v1::Value Decimal(std::string_view s) {
  v1::Value value;
  value.set_decimal(std::string(s));
  return value;
}
v1::Value Null() {
  v1::Value value;
  value.set_null(true);
  return value;
}
v1::Value DateTime() {
  v1::Value value;
  v1::DateTime* dt = value.mutable_datetime();
  dt->mutable_date()->set_year(2026);
  dt->mutable_date()->set_month(1);
  dt->mutable_date()->set_day(2);
  dt->mutable_time()->set_hours(3);
  dt->mutable_time()->set_minutes(4);
  dt->mutable_time()->set_seconds(5);
  dt->mutable_time()->set_micros(123000);
  return value;
}
v1::Value Timestamp(int64_t micros) {
  v1::Value value;
  value.set_timestamp_micros(micros);
  return value;
}
v1::Value BcDate() {
  v1::Value value;
  value.mutable_date()->set_year(-44);
  value.mutable_date()->set_month(3);
  value.mutable_date()->set_day(15);
  return value;
}
v1::Value TimeTz() {
  v1::Value value;
  value.mutable_time()->set_negative(true);
  value.mutable_time()->set_hours(838);
  value.mutable_time()->set_minutes(59);
  value.mutable_time()->set_seconds(59);
  value.mutable_time()->set_utc_offset_seconds(19800);
  return value;
}
v1::Value Interval() {
  v1::Value value;
  value.mutable_interval()->set_months(14);
  value.mutable_interval()->set_days(-3);
  value.mutable_interval()->set_micros(-3'723'000'001);
  return value;
}
v1::Value Array() {
  v1::Value value;
  *value.mutable_array()->add_elements() = Int(1);
  *value.mutable_array()->add_elements() = Null();
  *value.mutable_array()->add_elements() = Str("tw\"o");
  v1::Value inner;
  *inner.mutable_array()->add_elements() = Decimal("3.10");
  *value.mutable_array()->add_elements() = inner;
  return value;
}
v1::Value Bytes(std::string_view b) {
  v1::Value value;
  value.set_bytes(std::string(b));
  return value;
}
v1::Value Double(double d) {
  v1::Value value;
  value.set_double_(d);
  return value;
}
v1::Value Raw() {
  v1::Value value;
  value.mutable_raw()->set_type_name("point");
  value.mutable_raw()->set_text("(1,2)");
  return value;
}

v1::ChangeEvent MysqlInsert() {
  v1::ChangeEvent event;
  event.set_offset(17);
  event.set_op(v1::OP_INSERT);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("shop");
  source->set_kind(v1::SOURCE_KIND_MYSQL);
  source->set_database("shop");
  source->set_table("orders");
  source->set_position("binlog.000003:1234");
  source->mutable_typed_position()->mutable_binlog()->set_file("binlog.000003");
  source->mutable_typed_position()->mutable_binlog()->set_position(1234);
  source->set_gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  source->set_txid("3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  source->set_commit_ts_micros(1767323045123000);
  event.add_key_columns("id");
  v1::Row* after = event.mutable_after();
  SetField(*after, "id", Int(42));
  SetField(*after, "customer", Str("Zoë \"Z\" O'Brien\n"));
  SetField(*after, "total", Decimal("19.90"));
  SetField(*after, "placed_at", DateTime());
  SetField(*after, "attrs", Json(R"({ "gift" : true, "tags": ["a", "b"] })"));
  SetField(*after, "note", Null());
  event.set_transaction_index(0);
  event.set_last_in_transaction(true);
  event.set_ingest_ts_micros(1767323045200000);
  return event;
}

v1::ChangeEvent PostgresUpdate() {
  v1::ChangeEvent event;
  event.set_offset(18);
  event.set_op(v1::OP_UPDATE);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("app");
  source->set_kind(v1::SOURCE_KIND_POSTGRES);
  source->set_database("app");
  source->set_schema("public");
  source->set_table("accounts");
  source->set_position("0/16B3748");
  source->mutable_typed_position()->mutable_pg()->set_lsn(0x16B3748);
  source->mutable_typed_position()->mutable_pg()->set_system_id(7300000000000000001);
  source->mutable_typed_position()->mutable_pg()->set_timeline(1);
  source->set_txid("771");
  source->set_commit_ts_micros(-62135596800000000);  // 0001-01-01
  event.add_key_columns("id");
  event.add_key_columns("region");
  v1::Row* before = event.mutable_before();
  SetField(*before, "id", Int(7));
  SetField(*before, "region", Str("eu"));
  SetField(*before, "balance", Double(0.1));
  v1::Row* after = event.mutable_after();
  SetField(*after, "id", Int(7));
  SetField(*after, "balance", Double(-1e+20));
  SetField(*after, "born", BcDate());
  SetField(*after, "wake", TimeTz());
  SetField(*after, "grace", Interval());
  SetField(*after, "seen", Timestamp(INT64_MAX));
  SetField(*after, "tags", Array());
  SetField(*after, "avatar", Bytes(Lit("\x89PNG\r\n\x1a\n\0")));
  SetField(*after, "geo", Raw());
  event.add_unchanged("blob");
  event.set_transaction_index(1);
  return event;
}

v1::ChangeEvent Ddl() {
  v1::ChangeEvent event;
  event.set_offset(19);
  event.set_op(v1::OP_DDL);
  event.mutable_source()->set_name("shop");
  event.mutable_source()->set_kind(v1::SOURCE_KIND_MYSQL);
  event.mutable_source()->set_database("shop");
  event.mutable_source()->set_table("orders");
  v1::Ddl* ddl = event.mutable_ddl();
  ddl->set_statement("ALTER TABLE orders ADD COLUMN note TEXT");
  v1::ColumnSchema* id = ddl->add_columns();
  id->set_name("id");
  id->set_type_name("bigint");
  id->set_key(true);
  v1::ColumnSchema* note = ddl->add_columns();
  note->set_name("note");
  note->set_type_name("text");
  note->set_nullable(true);
  event.set_last_in_transaction(true);
  return event;
}

v1::ChangeEvent Message() {
  v1::ChangeEvent event;
  event.set_offset(20);
  event.set_op(v1::OP_MESSAGE);
  event.mutable_source()->set_name("app");
  event.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  event.mutable_message()->set_prefix("audit");
  event.mutable_message()->set_content(Lit("\0\xff{\"who\":1}"));
  event.mutable_message()->set_transactional(true);
  return event;
}

std::string Record(uint8_t flags, const v1::ChangeEvent& event) {
  const v1::SourceInfo& s = event.source();
  const std::string table = (s.schema().empty() ? s.database() : s.schema()) + "." + s.table();
  std::string out;
  sluice::storage::AppendRecord(flags, static_cast<uint8_t>(event.op()), table,
                                event.SerializeAsString(), out);
  return out;
}

// [program length | flags] program payload
std::string ReaderProgram(std::string_view program, std::string_view payload, bool span = false) {
  std::string out(1, static_cast<char>(program.size() | (span ? 0x80 : 0)));
  out.append(program);
  out.append(payload);
  return out;
}

bool WriteRecordCorpus(const fs::path& dir) {
  using sluice::storage::kFlagFirstInTxn;
  using sluice::storage::kFlagLastInTxn;
  using sluice::storage::SourceId;
  const std::string_view t = "record_fuzz";
  std::string empty;
  sluice::storage::AppendRecord(0, 0, "", "", empty);
  std::string long_table;
  sluice::storage::AppendRecord(kFlagFirstInTxn, v1::OP_TRUNCATE, std::string(200, 't'), "",
                                long_table);
  return Write(dir, t, "mysql-insert", Record(kFlagFirstInTxn | kFlagLastInTxn, MysqlInsert())) &&
         Write(dir, t, "postgres-update", Record(kFlagFirstInTxn, PostgresUpdate())) &&
         Write(dir, t, "ddl", Record(kFlagFirstInTxn | kFlagLastInTxn, Ddl())) &&
         Write(dir, t, "message", Record(0, Message())) && Write(dir, t, "empty-record", empty) &&
         Write(dir, t, "long-table-name", long_table) &&
         Write(dir, t, "log-key", sluice::storage::LogKey(SourceId(1), sluice::LogOffset(1234))) &&
         Write(dir, t, "time-key",
               sluice::storage::TimeKey(SourceId(2), 1767323045123000, sluice::LogOffset(5)));
}

bool WriteValueCorpus(const fs::path& dir) {
  const std::string_view t = "value_json_fuzz";
  return Write(dir, t, "int64", Int(-9223372036854775807 - 1).SerializeAsString()) &&
         Write(dir, t, "string", Str("caf\xc3\xa9 \"quoted\"\t\x01").SerializeAsString()) &&
         Write(dir, t, "datetime", DateTime().SerializeAsString()) &&
         Write(dir, t, "timetz", TimeTz().SerializeAsString()) &&
         Write(dir, t, "bc-date", BcDate().SerializeAsString()) &&
         Write(dir, t, "interval", Interval().SerializeAsString()) &&
         Write(dir, t, "timestamp", Timestamp(-1).SerializeAsString()) &&
         Write(dir, t, "array", Array().SerializeAsString()) &&
         Write(dir, t, "bytes", Bytes(Lit("\x00\x01\xfe\xff")).SerializeAsString()) &&
         Write(dir, t, "double-nan",
               Double(std::numeric_limits<double>::quiet_NaN()).SerializeAsString()) &&
         Write(dir, t, "raw", Raw().SerializeAsString()) &&
         Write(dir, t, "json-value", Json(R"({"a":[1,2.5e3,"x\u00e9"]})").SerializeAsString()) &&
         // The same bytes read as JSON text by the minifier.
         Write(dir, t, "json-text",
               "{ \"a\" : [1, -0.5E+3, \"x\\u00e9\\ud83d\\ude00\"],\n \"b\": null,\t\"c\": {} }") &&
         Write(dir, t, "json-scalar", " \"caf\xc3\xa9\" ") &&
         Write(dir, t, "json-invalid", "[1, 2,]");
}

bool WriteReaderCorpus(const fs::path& dir) {
  using namespace sluice::fuzz;  // the opcodes
  using std::string;
  const std::string_view t = "byte_reader_fuzz";
  // A MySQL OK packet: header, affected rows, last insert id, status, warnings, info.
  const string ok_program = {kU8,    kU16Le, kLenencInt,  kLenencInt,
                             kU16Le, kU16Le, kRestString, kStatus};
  const string ok_packet = Lit("\x07\x00\xfc\x10\x27\x05\x02\x00\x00\x00Rows matched: 1");
  // A MySQL column definition: lenenc strings, a fixed block and a skip of two bytes.
  const string coldef_program = {
      kLenencString, kLenencString, kLenencString, kLenencString, kLenencString,
      kLenencString, kLenencInt,    kU16Le,        kU32Le,        kU8,
      kU16Le,        kU8,           kSkip,         kLenNextByte,  2,
      kStatus};
  const string coldef =
      Lit("\x03"
          "def\x04shop\x06orders\x06orders\x02id\x02id\x0c\x3f\x00"
          "\x14\x00\x00\x00\x08\x03\x42\x00\x00\x00");
  // A Postgres message: type, length, NUL-terminated strings, big-endian integers.
  const string pg_program = {kU8,    kI32Be, kNulString, kNulString, kU32Be,
                             kI16Be, kU64Be, kI64Be,     kPeekU8,    kRestBytes};
  const string pg_message =
      Lit("S\x00\x00\x00\x1e"
          "application_name\x00sluice\x00"
          "\x00\x00\x00\x01\xff\xfe\x00\x00\x00\x00\x01\x6b\x37\x48"
          "\xff\xff\xff\xff\xff\xff\xff\xff!");
  // Every fixed-width read, then a truncated one: the failure and its stickiness.
  const string ints_program = {kU24Le, kU48Le, kU64Le, kU16Be,  kI64Be,
                               kU32Le, kI16Be, kU8,    kString, kLenRemainingPlusOne,
                               kU8,    kPeekU8};
  const string ints(30, '\x5a');
  // Length-encoded prefixes 0xfd and 0xfe, a short string, then the invalid prefix 0xfb.
  const string lenenc_program = {kLenencInt, kLenencInt, kLenencString, kLenencInt, kU8};
  const string lenenc = Lit("\xfd\x01\x02\x03\xfe\x01\x00\x00\x00\x00\x00\x00\x00\x02hi\xfb");
  // A declared length beyond the input.
  const string too_long_program = {kLenencString, kNulString, kBytes, kLenNextTwoBytes, 0x10, 0};
  const string too_long = Lit("\xfc\xff\xffxyz");
  // A NUL-terminated string, then one without its NUL.
  const string no_nul_program = {kNulString, kNulString, kSkip, kLenSizeMax, kRestString};
  const string no_nul = Lit("a\0bc");
  // Skips and fixed strings at the edges: everything, then nothing, then past the end.
  const string edges_program = {
      kSkip,   kLenRemainingMinusOne, kString, kLenZero, kBytes, kLenRemaining, kRestBytes,
      kString, kLenWrapsPosition};
  const string edges = Lit("0123456789");
  return Write(dir, t, "mysql-ok", ReaderProgram(ok_program, ok_packet)) &&
         Write(dir, t, "mysql-coldef", ReaderProgram(coldef_program, coldef, true)) &&
         Write(dir, t, "pg-message", ReaderProgram(pg_program, pg_message)) &&
         Write(dir, t, "ints-truncated", ReaderProgram(ints_program, ints, true)) &&
         Write(dir, t, "lenenc", ReaderProgram(lenenc_program, lenenc)) &&
         Write(dir, t, "too-long", ReaderProgram(too_long_program, too_long)) &&
         Write(dir, t, "no-nul", ReaderProgram(no_nul_program, no_nul)) &&
         Write(dir, t, "edges", ReaderProgram(edges_program, edges, true));
}

bool WriteUrlCorpus(const fs::path& dir) {
  const std::string_view t = "source_url_fuzz";
  const std::string mysql =
      "mysql://sluice:s%40cret@127.0.0.1:3306/shop?name=shop&server_id=4711"
      "&tables=shop.orders,shop.*&snapshot=when_needed&tls=required";
  const std::string postgres =
      "postgresql://sluice:p%2Fw:d@[fe80::1%25eth0]:5433/app?name=app-1&slot=sluice_app"
      "&publication=pub_app&tables=public.ord%3Fers,public.*&tls=verify_ca&tls_ca=/etc/ca.pem";
  // The canonical form our own renderer produces, with the password put back.
  std::string canonical;
  if (absl::StatusOr<sluice::config::SourceConfig> s = sluice::config::ParseSourceUrl(postgres);
      s.ok()) {
    canonical = sluice::config::FormatRedactedSourceUrl(*s);
    const size_t stars = canonical.find(":***@");
    if (stars != std::string::npos) canonical.replace(stars + 1, 3, "p%2Fw%3Ad");
  } else {
    std::fprintf(stderr, "example URL does not parse: %s\n", s.status().ToString().c_str());
    return false;
  }
  const std::string yaml = R"(data_dir: /var/lib/sluice
listen: 127.0.0.1:7070
metrics_listen: "[::1]:7071"
sources:
  - name: shop
    kind: mariadb
    host: db.example.com
    port: 3307
    user: sluice
    password: "secret${HOME}$${x}"
    server_id: 4711
    database: shop
    tables: [shop.orders, "shop.*"]
    snapshot: never
    tls: {mode: verify_identity, ca_file: /etc/ssl/ca.pem}
  - url: postgres://sluice@db:5432/app?name=app
    password: hunter22
)";
  const std::string yaml_errors = R"(data_dir: /tmp/x
sources:
  - name: Bad Name
    kind: postgres
    host: "::1"
    user: u
    slot: [a]
)";
  return Write(dir, t, "mysql-url", mysql) && Write(dir, t, "postgres-url", postgres) &&
         Write(dir, t, "canonical-url", canonical) &&
         Write(dir, t, "at-in-password", "mariadb://u:p@ss@h/?name=n&server_id=1&pass=x") &&
         Write(dir, t, "config-yaml", yaml) && Write(dir, t, "config-yaml-errors", yaml_errors);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR   (normally tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path dir(argv[1]);
  const bool ok = WriteRecordCorpus(dir) && WriteValueCorpus(dir) && WriteReaderCorpus(dir) &&
                  WriteUrlCorpus(dir);
  return ok ? 0 : 1;
}
