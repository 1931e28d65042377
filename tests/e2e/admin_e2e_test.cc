// The admin verbs of a real sluiced fed by the test MariaDB, in text and JSON: status, sources,
// log, retention, snapshot, pause/resume without loss; SIGTERM shutdown (exit 0, streams told
// where to resume, restart continues exactly); no password in `ps` or in the logs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::Lines;
using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using e2e::WaitStreaming;
using storage::testing::TempDir;
using testing::TestDatabase;

constexpr char kEmptyRetention[] =
    R"({"max_age_micros":0,"max_age":null,"max_bytes":0,"max_bytes_text":null})";

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The "id" of the row after the change, from a tail/log JSON line (-1 if none).
int64_t RowId(const std::string& line) {
  static const std::regex id("\"after\":\\{\"id\":(-?[0-9]+)");
  std::smatch m;
  return std::regex_search(line, m, id) ? std::stoll(m[1]) : -1;
}

uint64_t Offset(const std::string& line) {
  static const std::regex offset("^\\{\"offset\":([0-9]+),");
  std::smatch m;
  return std::regex_search(line, m, offset) ? std::stoull(m[1]) : 0;
}

// The value of "last_offset" of the first source in `status --format json`.
uint64_t LastOffset(const std::string& status_json) {
  static const std::regex last("\"last_offset\":([0-9]+)");
  std::smatch m;
  return std::regex_search(status_json, m, last) ? std::stoull(m[1]) : 0;
}

class AdminE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.adm_items").ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.adm_items (id INT PRIMARY KEY, v VARCHAR(20))").ok());
  }
  std::vector<std::string> Args(const std::string& name, int server_id) const {
    return {"--data-dir",
            data_.path(),
            "--listen",
            "127.0.0.1:0",
            "--source",
            db_->MysqlUrl() + "?name=" + name + "&server_id=" + std::to_string(server_id) +
                "&tables=test.adm_items&snapshot=never"};
  }
  void Insert(int id) {
    ASSERT_TRUE(db_->Exec("INSERT INTO test.adm_items VALUES (" + std::to_string(id) + ", 'v" +
                          std::to_string(id) + "')")
                    .ok());
  }
  static testing::SubprocessResult Ctl(const SluicedProcess& d, std::vector<std::string> args) {
    args.insert(args.begin(), {Sluicectl(), "--server", d.address()});
    return RunCommand(args);
  }
  // Asserts that `lines` are offsets 1..n with the row ids `ids`, in order.
  static void ExpectRows(const std::vector<std::string>& lines, const std::vector<int64_t>& ids) {
    ASSERT_EQ(lines.size(), ids.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(Offset(lines[i]), i + 1) << lines[i];
      EXPECT_EQ(RowId(lines[i]), ids[i]) << lines[i];
    }
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
};

TEST_F(AdminE2E, StatusSourcesLogRetentionSnapshotInTextAndJson) {
  SluicedProcess d(Args("adm", 9101));
  WaitStreaming(d);
  for (int id = 1; id <= 3; ++id) Insert(id);
  ExpectRows(e2e::TailJson(d, "adm", 3), {1, 2, 3});
  // The head probe (every 5 s; sooner until the first position is stored) has measured the lag.
  for (int i = 0; i < 200; ++i) {
    if (std::regex_search(Ctl(d, {"status", "--format", "json"}).stdout_text,
                          std::regex(R"("lag_bytes":[0-9])")))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // status
  auto r = Ctl(d, {"status"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_search(
      r.stdout_text,
      std::regex("^SOURCE +KIND +STATE +FIRST +LAST +STORED +LAG +BYTES BEHIND +EVENTS BEHIND "
                 "+CHECKPOINT +LAST ERROR\n"
                 "adm +mysql +streaming +1 +3 +[0-9]+ +[0-9]+\\.[0-9]s +[0-9]+ +[0-9]+ "
                 "+\\S+:[0-9]+ +-\n$")))
      << r.stdout_text;
  r = Ctl(d, {"status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find(R"({"name":"adm","kind":"mysql","state":"streaming",)"
                               R"("first_offset":1,"last_offset":3,"stored_bytes":)"),
            std::string::npos)
      << r.stdout_text;
  EXPECT_TRUE(std::regex_search(
      r.stdout_text, std::regex(R"("last_error":null,"last_error_time":null,"url":"mysql://)"
                                R"(sluice:\*\*\*@127\.0\.0\.1:[0-9]+/\?name=adm[^"]*",)"
                                R"("last_commit_time":"20[0-9-]+T[0-9:.]+Z","lag_seconds":)"
                                R"([0-9]+\.[0-9]{3},"lag_bytes":[0-9]+,"lag_events":[0-9]+,)"
                                R"("lag_events_lower_bound":false,"head":"[^"]+:[0-9]+",)"
                                R"("lag_probe_time":"20[0-9-]+T[0-9:.]+Z","lag_error":null,)"
                                R"("retention":\{"max_age_micros":0,)")))
      << r.stdout_text;
  EXPECT_NE(
      r.stdout_text.find(std::string(R"("retention":)") + kEmptyRetention + R"(,"snapshot":[],)"),
      std::string::npos)
      << r.stdout_text;

  // sources
  r = Ctl(d, {"sources"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_search(
      r.stdout_text,
      std::regex("^SOURCE +KIND +STATE +TABLES +SNAPSHOT +MAX AGE +MAX BYTES +URL\n"
                 "adm +mysql +streaming +test\\.adm_items +never +none +none +"
                 "mysql://sluice:\\*\\*\\*@127\\.0\\.0\\.1:[0-9]+/\\?name=adm\\S*\n$")))
      << r.stdout_text;
  r = Ctl(d, {"sources", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_match(
      r.stdout_text,
      std::regex(R"(\{"sources":\[\{"name":"adm","kind":"mysql","state":"streaming",)"
                 R"("url":"mysql://sluice:\*\*\*@127\.0\.0\.1:[0-9]+/\?name=adm[^"]*",)"
                 R"("tables":\["test\.adm_items"\],"snapshot":"never","retention":\{)"
                 R"("max_age_micros":0,"max_age":null,"max_bytes":0,"max_bytes_text":null\}\}\]\})"
                 "\n")))
      << r.stdout_text;
  EXPECT_EQ(r.stdout_text.find(":sluice@"), std::string::npos) << "password shown";

  // log
  r = Ctl(d, {"log", "adm", "--from", "2", "--limit", "2", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  auto lines = SplitLines(r.stdout_text);
  ASSERT_EQ(lines.size(), 2u) << r.stdout_text;
  EXPECT_EQ(Offset(lines[0]), 2u);
  EXPECT_EQ(RowId(lines[0]), 2);
  EXPECT_EQ(Offset(lines[1]), 3u);
  r = Ctl(d, {"log", "adm"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  lines = SplitLines(r.stdout_text);
  ASSERT_EQ(lines.size(), 3u) << r.stdout_text;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i].rfind(std::to_string(i + 1) +
                                 " c test.adm_items key={\"id\":" + std::to_string(i + 1) + "}",
                             0),
              0u)
        << lines[i];
  }
  r = Ctl(d, {"log", "adm", "--from", "4"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text, "");
  r = Ctl(d, {"log", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("no source named 'nope'"), std::string::npos) << r.stderr_text;
  r = Ctl(d, {"log"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("usage: sluicectl log SOURCE"), std::string::npos);

  // retention
  r = Ctl(d, {"retention", "adm"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "SOURCE  MAX AGE  MAX BYTES\nadm     none     none\n");
  r = Ctl(d, {"retention", "adm", "--max-age", "7d", "--max-bytes", "50GiB", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            R"({"source":"adm","changed":true,"retention":{"max_age_micros":604800000000,)"
            R"("max_age":"7d","max_bytes":53687091200,"max_bytes_text":"50GiB"}})"
            "\n");
  r = Ctl(d, {"retention", "adm", "--format", "json"});
  EXPECT_NE(r.stdout_text.find(R"("changed":false,"retention":{"max_age_micros":604800000000,)"),
            std::string::npos)
      << r.stdout_text;
  r = Ctl(d, {"retention", "adm"});
  EXPECT_EQ(r.stdout_text, "SOURCE  MAX AGE  MAX BYTES\nadm     7d       50GiB\n");
  r = Ctl(d, {"retention", "adm", "--max-age", "7 days"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("--max-age: duration \"7 days\" has an unknown unit"),
            std::string::npos)
      << r.stderr_text;
  r = Ctl(d, {"retention", "nope", "--max-bytes", "1GiB"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("no source named 'nope'"), std::string::npos) << r.stderr_text;

  // snapshot: this source URL names no database for the watermark table, which the error says
  // (the re-snapshot itself is tested in snapshot_e2e_test).
  r = Ctl(d, {"snapshot", "adm", "test.adm_items", "--where", "id > 1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.stderr_text), 1u);
  EXPECT_NE(r.stderr_text.find("the source URL names no database"), std::string::npos)
      << r.stderr_text;
  r = Ctl(d, {"snapshot", "adm"});
  EXPECT_EQ(r.exit_code, 2);

  // A size limit set at runtime is applied at once: every stored transaction is over 1 byte.
  r = Ctl(d, {"retention", "adm", "--max-bytes", "1", "--max-age", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::string status;
  for (int i = 0; i < 400; ++i) {
    status = Ctl(d, {"status", "--format", "json"}).stdout_text;
    if (status.find("\"first_offset\":1,") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status.find("\"first_offset\":1,"), std::string::npos) << status;
  EXPECT_NE(status.find("\"last_offset\":3,"), std::string::npos) << status;
}

TEST_F(AdminE2E, StatusShowsSnapshotProgress) {
  for (int id = 1; id <= 5; ++id) Insert(id);
  std::vector<std::string> args = Args("snap", 9105);
  args.back() =
      db_->MysqlUrl() + "?name=snap&server_id=9105&tables=test.adm_items&snapshot=initial";
  SluicedProcess d(args);
  ExpectRows(e2e::TailJson(d, "snap", 5), {1, 2, 3, 4, 5});
  WaitStreaming(d);
  auto r = Ctl(d, {"status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_search(
      r.stdout_text, std::regex(R"re("snapshot":\[\{"table":"test\.adm_items","rows_done":5,)re"
                                R"re("rows_estimated":[0-9]+,"done":true\}\],)re")))
      << r.stdout_text;
  r = Ctl(d, {"status"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_search(r.stdout_text,
                                std::regex("\n\nsnapshot of snap:\nTABLE +ROWS +ESTIMATED +DONE\n"
                                           "test\\.adm_items +5 +[0-9?]+ +yes\n$")))
      << r.stdout_text;
}

TEST_F(AdminE2E, PauseAndResumeLoseNothing) {
  SluicedProcess d(Args("pz", 9102));
  WaitStreaming(d);
  for (int id = 1; id <= 3; ++id) Insert(id);
  ExpectRows(e2e::TailJson(d, "pz", 3), {1, 2, 3});

  auto r = Ctl(d, {"pause", "pz"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_match(
      r.stdout_text, std::regex("paused pz: state paused, last offset 3, position \\S+:[0-9]+\n")))
      << r.stdout_text;
  // Changes made while paused are read after the resume, from the stored position.
  for (int id = 4; id <= 6; ++id) Insert(id);
  r = Ctl(d, {"status", "--format", "json"});
  EXPECT_NE(r.stdout_text.find(R"("state":"paused","first_offset":1,"last_offset":3,)"),
            std::string::npos)
      << r.stdout_text;
  r = Ctl(d, {"pause", "pz", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stderr_text,
            "sluicectl: error: source \"pz\" is already paused: resume it with sluicectl resume "
            "pz\n");
  r = Ctl(d, {"sources", "--format", "json"});
  EXPECT_NE(r.stdout_text.find(R"("state":"paused")"), std::string::npos) << r.stdout_text;

  r = Ctl(d, {"resume", "pz", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_match(r.stdout_text,
                               std::regex(R"re(\{"source":"pz","state":"(connecting|streaming)",)re"
                                          R"re("last_offset":3,"checkpoint":"\S+:[0-9]+"\}\n)re")))
      << r.stdout_text;
  r = Ctl(d, {"resume", "pz"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stderr_text, "sluicectl: error: source \"pz\" is not paused\n");
  Insert(7);
  ExpectRows(e2e::TailJson(d, "pz", 7), {1, 2, 3, 4, 5, 6, 7});
  // The other format of each: pause in JSON, resume in text; again nothing is lost.
  r = Ctl(d, {"pause", "pz", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_match(r.stdout_text,
                               std::regex(R"re(\{"source":"pz","state":"paused",)re"
                                          R"re("last_offset":7,"checkpoint":"\S+:[0-9]+"\}
)re")))
      << r.stdout_text;
  Insert(8);
  r = Ctl(d, {"resume", "pz"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(std::regex_match(r.stdout_text,
                               std::regex("resumed pz: state (connecting|streaming), "
                                          "last offset 7, position \\S+:[0-9]+\n")))
      << r.stdout_text;
  ExpectRows(e2e::TailJson(d, "pz", 8), {1, 2, 3, 4, 5, 6, 7, 8});
  r = Ctl(d, {"pause", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stderr_text,
            "sluicectl: error: no configured source is named \"nope\" (configured: pz)\n");
}

// The same against Postgres: the slot keeps what was not confirmed while the source is paused.
TEST(AdminPostgresE2E, PauseAndResumeLoseNothing) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  TestDatabase* pg = *db;
  (void)pg->Exec("SELECT pg_drop_replication_slot('adm_slot')");
  ASSERT_TRUE(pg->Exec("DROP TABLE IF EXISTS adm_items; DROP PUBLICATION IF EXISTS adm_pub; "
                       "CREATE TABLE adm_items (id int PRIMARY KEY, v text)")
                  .ok());
  auto insert = [&](int id) {
    ASSERT_TRUE(pg->Exec("INSERT INTO adm_items VALUES (" + std::to_string(id) + ", 'v')").ok());
  };
  TempDir data;
  {
    SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--source",
                      pg->PostgresUrl() +
                          "?name=pgp&slot=adm_slot&publication=adm_pub&tables=public.adm_items"
                          "&tls=disabled&snapshot=never"});
    WaitStreaming(d);
    insert(1);
    insert(2);
    ASSERT_EQ(e2e::TailJson(d, "pgp", 2).size(), 2u);
    auto r = RunCommand({Sluicectl(), "--server", d.address(), "pause", "pgp"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_TRUE(std::regex_match(
        r.stdout_text,
        std::regex("paused pgp: state paused, last offset 2, position [0-9A-F]+/[0-9A-F]+\n")))
        << r.stdout_text;
    insert(3);
    insert(4);
    r = RunCommand({Sluicectl(), "--server", d.address(), "resume", "pgp"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    insert(5);
    auto lines = e2e::TailJson(d, "pgp", 5);
    ASSERT_EQ(lines.size(), 5u);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(Offset(lines[i]), static_cast<uint64_t>(i + 1)) << lines[i];
      EXPECT_EQ(RowId(lines[i]), i + 1) << lines[i];
    }
  }
  for (int i = 0; i < 50; ++i) {
    if (pg->Exec("SELECT pg_drop_replication_slot('adm_slot')").ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST_F(AdminE2E, SigtermEndsStreamsExitsZeroAndRestartContinuesExactly) {
  constexpr int kRows = 400;
  auto d = std::make_unique<SluicedProcess>(Args("term", 9103));
  WaitStreaming(*d);
  const std::string address = d->address();
  std::atomic<bool> written{false};
  std::thread writer([&] {
    for (int id = 1; id <= kRows; ++id) Insert(id);
    written = true;
  });
  // A follower that runs until the server ends its stream. Its output goes to a file (tail
  // flushes each batch), so the test can see that it is connected before the SIGTERM.
  TempDir out_dir;
  const std::string out_file = out_dir.path() + "/follower.json";
  testing::SubprocessResult follower;
  std::thread tail([&] {
    follower = RunCommand({"/bin/sh", "-c",
                           Sluicectl() + " --server " + address +
                               " tail term --from 1 --format json > " + out_file});
  });
  std::string status;
  for (int i = 0; i < 600 && LastOffset(status) < 50; ++i) {
    status = Ctl(*d, {"status", "--format", "json"}).stdout_text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(LastOffset(status), 50u) << status;
  auto out_size = [&] {
    std::error_code ec;
    const auto n = std::filesystem::file_size(out_file, ec);
    return ec ? 0 : n;
  };
  for (int i = 0; i < 1500 && out_size() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(out_size(), 0u) << "the follower never received events";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(d->Stop(), 0) << d->Log();
  const auto took = std::chrono::steady_clock::now() - t0;
  std::cout << "SIGTERM to exit: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms"
            << std::endl;
  tail.join();
  // The follower was told where to resume, and got every event before that exactly once.
  EXPECT_EQ(follower.exit_code, 1);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      follower.stderr_text, m,
      std::regex("sluicectl: error: sluiced is shutting down; resume from offset ([0-9]+)\n")))
      << follower.stderr_text;
  const uint64_t resume_at = std::stoull(m[1]);
  std::ifstream follower_out(out_file);
  const auto before = SplitLines(std::string(std::istreambuf_iterator<char>(follower_out), {}));
  ASSERT_EQ(before.size(), resume_at - 1);
  EXPECT_NE(d->Log().find("shutting down"), std::string::npos);

  writer.join();
  ASSERT_TRUE(written.load());
  d = std::make_unique<SluicedProcess>(Args("term", 9103));
  WaitStreaming(*d);
  Insert(1'000'000);  // the marker: the last change
  auto all = e2e::TailJson(*d, "term", kRows + 1);
  std::vector<int64_t> ids;
  for (int id = 1; id <= kRows; ++id) ids.push_back(id);
  ids.push_back(1'000'000);
  ExpectRows(all, ids);
  for (size_t i = 0; i < before.size() && i < all.size(); ++i) EXPECT_EQ(before[i], all[i]);
  // The follower resumes exactly where it was told.
  auto rest = e2e::TailJson(*d, "term", all.size() - before.size(), std::to_string(resume_at));
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front(), all[resume_at - 1]);
  EXPECT_EQ(rest.back(), all.back());
}

TEST_F(AdminE2E, NoPasswordInPsOutputOrLogs) {
  const std::string secret = "Pw9-h3-unusual-Secret";
  ASSERT_TRUE(db_->Exec("DROP USER IF EXISTS 'h3_pw'@'%'").ok());
  ASSERT_TRUE(db_->Exec("CREATE USER 'h3_pw'@'%' IDENTIFIED BY '" + secret + "'").ok());
  ASSERT_TRUE(
      db_->Exec("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'h3_pw'@'%'").ok());
  TempDir conf;
  {
    std::ofstream(conf.path() + "/pw") << secret << "\n";
    chmod((conf.path() + "/pw").c_str(), 0600);
    std::ofstream(conf.path() + "/sluice.yaml")
        << "data_dir: " << data_.path() << "\nlisten: 127.0.0.1:0\nsources:\n"
        << "  - name: pw\n    kind: mysql\n    host: 127.0.0.1\n    port: " << db_->port()
        << "\n    user: h3_pw\n    password_file: pw\n    server_id: 9104\n"
        << "    tables: [test.adm_items]\n    snapshot: never\n";
  }
  SluicedProcess d({"--config", conf.path() + "/sluice.yaml"});
  WaitStreaming(d);
  Insert(1);
  ASSERT_EQ(e2e::TailJson(d, "pw", 1).size(), 1u);
  std::ifstream cmdline("/proc/" + std::to_string(d.pid()) + "/cmdline");
  std::stringstream args;
  args << cmdline.rdbuf();
  EXPECT_NE(args.str().find("sluice.yaml"), std::string::npos);
  EXPECT_EQ(args.str().find(secret), std::string::npos);
  auto ps = RunCommand({"ps", "-eo", "args"});
  EXPECT_NE(ps.stdout_text.find("sluiced"), std::string::npos);
  EXPECT_EQ(ps.stdout_text.find(secret), std::string::npos);
  for (const auto& verb : std::vector<std::vector<std::string>>{{"status"},
                                                                {"status", "--format", "json"},
                                                                {"sources"},
                                                                {"sources", "--format", "json"},
                                                                {"pause", "pw"},
                                                                {"resume", "pw"}}) {
    auto r = Ctl(d, verb);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text.find(secret), std::string::npos) << r.stdout_text;
    EXPECT_NE(r.stdout_text.find("pw"), std::string::npos);
  }
  WaitStreaming(d);
  EXPECT_EQ(d.Stop(), 0);
  const std::string log = d.Log();
  EXPECT_NE(log.find("serving on port"), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
}

}  // namespace
}  // namespace sluice
