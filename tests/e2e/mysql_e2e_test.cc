// sluiced against a real MariaDB 10.11 over TLS, observed only through sluicectl: values as the
// server holds them, transactions whole, a rollback invisible, bounded memory through a
// 200,000-row transaction, and no loss or duplication across kill -9.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
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

class MysqlE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.e2e_items").ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.e2e_items (id INT PRIMARY KEY, v VARCHAR(50), "
                          "n DECIMAL(10,2), d DATE, t TIME(1), ts TIMESTAMP(3) NULL, j JSON, "
                          "b VARBINARY(8), e ENUM('s','m','l'), s SET('a','b'), bt BIT(4), "
                          "u BIGINT UNSIGNED, f DOUBLE)")
                    .ok());
  }
  std::vector<std::string> SluicedArgs() {
    return {"--data-dir",
            data_.path(),
            "--listen",
            "127.0.0.1:0",
            "--source",
            "mysql://" + db_->user() + ":" + db_->password() +
                "@127.0.0.1:" + std::to_string(db_->port()) +
                "/?name=my&server_id=9001&tables=test.e2e_items&tls=verify_identity&tls_ca=" +
                db_->tls_ca_file()};
  }
  // Every event line from offset `from`, waiting until there are `n`.
  std::vector<std::string> Tail(const SluicedProcess& d, size_t n, const std::string& from = "1") {
    return e2e::TailJson(d, "my", n, from);
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
};

TEST_F(MysqlE2E, TailShowsTheValuesTheServerHolds) {
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  ASSERT_TRUE(db_->Exec("SET time_zone = '+02:00'").ok());
  ASSERT_TRUE(db_->Exec("SET sql_mode = ''").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.e2e_items VALUES (1, 'héllo 😀 中文', -3.10, "
                        "'0000-00-00', '-507:48:27.5', '2026-01-02 03:04:05.5', "
                        "'{\"a\": [1, 2]}', 0x000102, 'm', 'a,b', b'1010', "
                        "18446744073709551615, -0.5)")
                  .ok());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.e2e_items (id) VALUES (2)").ok());
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("UPDATE test.e2e_items SET v = NULL WHERE id = 1").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM test.e2e_items WHERE id = 1").ok());
  ASSERT_TRUE(db_->Exec("COMMIT").ok());
  ASSERT_TRUE(db_->Exec("SET time_zone = '+00:00'").ok());
  auto lines = Tail(d, 3);
  ASSERT_EQ(lines.size(), 3u);
  const std::string row =
      R"({"id":1,"v":"héllo 😀 中文","n":"-3.10","d":"0000-00-00","t":"-507:48:27.5",)"
      R"("ts":"2026-01-02T01:04:05.5Z","j":"{\"a\": [1, 2]}","b":"AAEC","e":"m","s":"a,b",)"
      R"("bt":10,"u":18446744073709551615,"f":-0.5})";
  std::string row_null_v = row;
  row_null_v.replace(row_null_v.find(R"("héllo 😀 中文")"), std::string(R"("héllo 😀 中文")").size(),
                     "null");
  EXPECT_NE(lines[0].find(R"("op":"c")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("source":{"name":"my","kind":"mysql","database":"test")"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(R"("key":{"id":1})"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("before":null,"after":)" + row), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("txn":{"index":0,"last":true})"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("op":"u")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("before":)" + row + R"(,"after":)" + row_null_v), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[1].find(R"("txn":{"index":0,"last":false})"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(R"("op":"d")"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find(R"("before":)" + row_null_v + R"(,"after":null)"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find(R"("txn":{"index":1,"last":true})"), std::string::npos) << lines[2];
}

// Peak RSS (VmHWM) of a process, from /proc.
uint64_t PeakRss(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

TEST_F(MysqlE2E, KillNineAndAHugeTransactionLoseAndRepeatNothing) {
  constexpr int kRows = 600;
  constexpr int kBig = 200'000;
  std::atomic<int> written{0};
  auto d = std::make_unique<SluicedProcess>(SluicedArgs());
  WaitStreaming(*d);
  std::thread writer([&] {
    for (int i = 1; i <= kRows; ++i) {
      ASSERT_TRUE(
          db_->Exec("INSERT INTO test.e2e_items (id, v) VALUES (" + std::to_string(i) + ", 'v')")
              .ok());
      written = i;
    }
  });
  for (int crash = 0; crash < 2; ++crash) {
    while (written < (crash + 1) * kRows / 3) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    d->Kill();
    d = std::make_unique<SluicedProcess>(SluicedArgs());
  }
  writer.join();
  // One transaction of 200,000 rows (about 45 MB of binlog), then a marker row.
  ASSERT_TRUE(db_->Exec("INSERT INTO test.e2e_items (id, v, n, j) SELECT 1000 + seq, "
                        "REPEAT('x', 40), seq / 100, '{\"k\": \"some json text\"}' "
                        "FROM seq_1_to_" +
                        std::to_string(kBig))
                  .ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.e2e_items (id) VALUES (999)").ok());
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
  // The big transaction's last row and the marker follow, with contiguous offsets.
  auto tail = Tail(*d, 2, std::to_string(kRows + kBig));
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_NE(tail[0].find(R"("id":201000,)"), std::string::npos) << tail[0];
  EXPECT_NE(tail[0].find(R"("txn":{"index":199999,"last":true})"), std::string::npos) << tail[0];
  EXPECT_NE(tail[1].find(R"("after":{"id":999,)"), std::string::npos) << tail[1];
  const uint64_t peak = PeakRss(d->pid());
  std::printf("sluiced peak RSS through a %d-row transaction: %.1f MiB\n", kBig,
              static_cast<double>(peak) / (1 << 20));
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, 256ull << 20);
}

}  // namespace
}  // namespace sluice
