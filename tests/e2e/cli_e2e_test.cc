// sluiced and sluicectl as black boxes: real processes, real flags, exact output.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "storage/change_log.h"
#include "storage/test_util.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/testing/subprocess.h"


namespace sluice {
namespace {

using e2e::Lines;
using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::Sluiced;
using e2e::SluicedProcess;
using storage::testing::TempDir;

void SeedLog(const std::string& data_dir) {
  auto log = *storage::ChangeLog::Open(data_dir);
  auto id = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  std::vector<v1::ChangeEvent> txn;
  for (int i = 1; i <= 2; ++i) {
    v1::ChangeEvent e;
    e.set_op(v1::OP_INSERT);
    auto* s = e.mutable_source();
    s->set_name("shop");
    s->set_kind(v1::SOURCE_KIND_MYSQL);
    s->set_database("shop");
    s->set_table("orders");
    s->set_position("binlog.000003:" + std::to_string(1000 + i));
    s->set_gtid("0-1-42");
    s->set_txid("0-1-42");
    s->set_commit_ts_micros(1'767'323'045'123'000);  // 2026-01-02T03:04:05.123Z
    e.add_key_columns("id");
    auto* f = e.mutable_after()->add_fields();
    f->set_name("id");
    f->mutable_value()->set_int64(i);
    f = e.mutable_after()->add_fields();
    f->set_name("total");
    f->mutable_value()->set_decimal("3.10");
    txn.push_back(std::move(e));
  }
  v1::SourceCheckpoint cp;
  cp.set_position_text("binlog.000003:1002");
  ASSERT_TRUE(log->Append(id, std::move(txn), cp).ok());
}

TEST(CliE2E, TailPrintsTheDocumentedJsonShape) {
  TempDir data;
  SeedLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "shop", "--from", "earliest",
                       "--format", "json", "--limit", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::istringstream lines(r.stdout_text);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first,
            "{\"offset\":1,\"op\":\"c\",\"source\":{\"name\":\"shop\",\"kind\":\"mysql\","
            "\"database\":\"shop\",\"schema\":null,\"table\":\"orders\",\"position\":"
            "\"binlog.000003:1001\",\"gtid\":\"0-1-42\",\"txid\":\"0-1-42\",\"commit_ts\":"
            "\"2026-01-02T03:04:05.123Z\",\"snapshot\":false},\"key\":{\"id\":1},\"before\":null,"
            "\"after\":{\"id\":1,\"total\":\"3.10\"},\"unchanged\":[],\"txn\":{\"index\":0,"
            "\"last\":false}}");
  EXPECT_NE(second.find("\"offset\":2,"), std::string::npos) << second;
  EXPECT_NE(second.find("\"txn\":{\"index\":1,\"last\":true}"), std::string::npos) << second;
}

TEST(CliE2E, TailFromLatestWithIdleExitEndsCleanly) {
  TempDir data;
  SeedLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "shop", "--from", "latest",
                       "--format", "text", "--idle-exit", "0.5"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "");
}

TEST(CliE2E, StatusJsonNamesSourceAndOffsets) {
  TempDir data;
  SeedLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("{\"name\":\"shop\",\"kind\":\"mysql\",\"state\":\"stopped\","
                               "\"first_offset\":1,\"last_offset\":2,"),
            std::string::npos)
      << r.stdout_text;
  EXPECT_NE(r.stdout_text.find("\"checkpoint\":\"binlog.000003:1002\""), std::string::npos);
}

TEST(CliE2E, TailOfUnknownSourceIsOneLineError) {
  TempDir data;
  SeedLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "nope", "--from", "earliest"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("no source named 'nope'; known sources: shop"), std::string::npos)
      << r.stderr_text;
}

TEST(CliE2E, UnreachableServerIsOneLineError) {
  auto r = RunCommand({Sluicectl(), "--server", "127.0.0.1:1", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("cannot reach sluiced at 127.0.0.1:1"), std::string::npos);
}

TEST(CliE2E, UnknownUrlKeyIsOneLineError) {
  TempDir data;
  auto r = RunCommand({Sluiced(), "--data-dir", data.path(), "--source",
                       "mysql://u:secretpw@127.0.0.1:3306/?name=shop&server_id=1&tabels=shop.*"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("unknown query key \"tabels\""), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("secretpw"), std::string::npos) << "password leaked";
}

TEST(CliE2E, BusyListenAddressIsOneLineError) {
  TempDir data;
  SluicedProcess first({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  TempDir other;
  auto r = RunCommand({Sluiced(), "--data-dir", other.path(), "--listen", first.address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("cannot listen on " + first.address()), std::string::npos)
      << r.stderr_text;
}

TEST(CliE2E, UnusableDataDirIsOneLineError) {
  TempDir data;
  std::ofstream(data.path() + "/file") << "x";
  // A path under a regular file cannot be created, even by root.
  auto r =
      RunCommand({Sluiced(), "--data-dir", data.path() + "/file/data", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("cannot open data dir"), std::string::npos) << r.stderr_text;
}

TEST(CliE2E, DataDirInUseByAnotherSluicedIsOneLineError) {
  TempDir data;
  SluicedProcess first({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluiced(), "--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("another sluiced"), std::string::npos) << r.stderr_text;
}

TEST(CliE2E, ConfigFileWorksLikeFlags) {
  TempDir data;
  SeedLog(data.path());
  TempDir conf;
  std::ofstream(conf.path() + "/sluice.yaml")
      << "data_dir: " << data.path() << "\nlisten: 127.0.0.1:0\n";
  SluicedProcess d({"--config", conf.path() + "/sluice.yaml"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "shop", "--from", "1",
                       "--format", "text", "--limit", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text.substr(0, 20), "1 c shop.orders key=") << r.stdout_text;
}

// One MySQL transaction over two tables, then a DDL and an insert in a second transaction.
void SeedDebeziumLog(const std::string& data_dir) {
  auto log = *storage::ChangeLog::Open(data_dir);
  auto id = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  auto event = [](v1::Op op, const std::string& table, int64_t row_id, uint64_t pos,
                  const std::string& gtid) {
    v1::ChangeEvent e;
    e.set_op(op);
    auto* s = e.mutable_source();
    s->set_name("shop");
    s->set_kind(v1::SOURCE_KIND_MYSQL);
    s->set_database("shop");
    s->set_table(table);
    s->set_position("binlog.000003:" + std::to_string(pos));
    s->mutable_typed_position()->mutable_binlog()->set_file("binlog.000003");
    s->mutable_typed_position()->mutable_binlog()->set_position(pos);
    s->set_gtid(gtid);
    s->set_txid(gtid);
    s->set_commit_ts_micros(1'767'323'045'123'456);  // 2026-01-02T03:04:05.123456Z
    e.add_key_columns("id");
    if (op == v1::OP_DDL) {
      e.mutable_ddl()->set_statement("ALTER TABLE orders ADD COLUMN note TEXT");
      return e;
    }
    auto* f = e.mutable_after()->add_fields();
    f->set_name("id");
    f->mutable_value()->set_int64(row_id);
    f = e.mutable_after()->add_fields();
    f->set_name("day");
    f->mutable_value()->mutable_date()->set_year(2026);
    f->mutable_value()->mutable_date()->set_month(1);
    f->mutable_value()->mutable_date()->set_day(2);
    if (op == v1::OP_UPDATE) *e.mutable_before() = e.after();
    return e;
  };
  auto number = [](std::vector<v1::ChangeEvent>& txn) {
    for (size_t i = 0; i < txn.size(); ++i) {
      txn[i].set_transaction_index(static_cast<uint32_t>(i));
      txn[i].set_last_in_transaction(i + 1 == txn.size());
    }
  };
  std::vector<v1::ChangeEvent> first = {event(v1::OP_INSERT, "orders", 1, 1000, "0-1-42"),
                                        event(v1::OP_INSERT, "items", 7, 1000, "0-1-42"),
                                        event(v1::OP_UPDATE, "orders", 1, 1000, "0-1-42")};
  number(first);
  v1::SourceCheckpoint cp;
  cp.set_position_text("binlog.000003:1000");
  ASSERT_TRUE(log->Append(id, std::move(first), cp).ok());
  std::vector<v1::ChangeEvent> second = {event(v1::OP_DDL, "orders", 0, 2000, "0-1-43"),
                                         event(v1::OP_INSERT, "orders", 2, 2000, "0-1-43")};
  number(second);
  cp.set_position_text("binlog.000003:2000");
  ASSERT_TRUE(log->Append(id, std::move(second), cp).ok());
}

// `sluicectl tail --format debezium`: one Debezium envelope per line (proto/base/debezium_json.h),
// transaction counters carried across the stream, DDL left out.
TEST(CliE2E, TailPrintsDebeziumEnvelopes) {
  TempDir data;
  SeedDebeziumLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "shop", "--from", "earliest",
                       "--format", "debezium", "--limit", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::vector<std::string> lines;
  std::istringstream in(r.stdout_text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << r.stdout_text;  // 5 events, the DDL prints nothing
  // The top-level ts_ms is when sluiced stored the event: a number, not known in advance.
  const std::regex ingest_ts(",\"ts_ms\":[0-9]+,\"transaction\"");
  const std::regex version("\"version\":\"sluice-[0-9.]+\"");
  for (std::string& line : lines) {
    EXPECT_TRUE(std::regex_search(line, ingest_ts)) << line;
    line = std::regex_replace(line, ingest_ts, ",\"ts_ms\":T,\"transaction\"");
    line = std::regex_replace(line, version, "\"version\":V");
  }
  const std::string source =
      "\"source\":{\"version\":V,\"connector\":\"mysql\",\"name\":\"shop\","
      "\"ts_ms\":1767323045123,\"snapshot\":\"false\",\"db\":\"shop\",\"table\":";
  EXPECT_EQ(lines[0], "{\"before\":null,\"after\":{\"id\":1,\"day\":20455}," + source +
                          "\"orders\",\"gtid\":\"0-1-42\",\"file\":\"binlog.000003\",\"pos\":"
                          "1000},\"op\":\"c\",\"ts_ms\":T,\"transaction\":{\"id\":\"0-1-42\","
                          "\"total_order\":1,\"data_collection_order\":1}}");
  EXPECT_NE(lines[1].find("\"table\":\"items\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"total_order\":2,\"data_collection_order\":1}"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("{\"before\":{\"id\":1,\"day\":20455},\"after\":{\"id\":1,"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find("\"op\":\"u\""), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("\"total_order\":3,\"data_collection_order\":2}"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("\"transaction\":{\"id\":\"0-1-43\",\"total_order\":2,"
                          "\"data_collection_order\":1}"),
            std::string::npos)
      << lines[3];
}

TEST(CliE2E, TailRejectsAnUnknownFormat) {
  auto r = RunCommand({Sluicectl(), "--server", "127.0.0.1:1", "tail", "shop", "--format", "avro"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("--format \"avro\" is not json, text or debezium"),
            std::string::npos)
      << r.stderr_text;
}

}  // namespace
}  // namespace sluice
