// sluicectl snapshot --wait's progress line: on a terminal (a pseudo-terminal here) while the
// re-snapshot of a MariaDB table runs, and nothing on stderr when it is piped.
#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/e2e/terminal.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using storage::testing::TempDir;
using testing::TestDatabase;

constexpr int kRows = 20'000;

TEST(SnapshotProgressE2E, ProgressOnATerminalOnly) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  TestDatabase* my = *db;
  ASSERT_TRUE(my->Exec("DROP TABLE IF EXISTS test.prog_items").ok());
  ASSERT_TRUE(my->Exec("CREATE TABLE test.prog_items (id INT PRIMARY KEY, v VARCHAR(20))").ok());
  for (int first = 1; first <= kRows; first += 1000) {
    std::string sql = "INSERT INTO test.prog_items VALUES ";
    for (int id = first; id < first + 1000; ++id) {
      absl::StrAppend(&sql, id == first ? "" : ",", "(", id, ", 'row')");
    }
    ASSERT_TRUE(my->Exec(sql).ok());
  }
  ASSERT_TRUE(my->Exec("ANALYZE TABLE test.prog_items").ok());  // a row estimate for the total
  TempDir data;
  // 40 chunks with a 50 ms pause after each: the re-snapshot lasts over 2 s, so --wait polls
  // it (every 200 ms) while it runs.
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--source",
                    my->Url() +
                        "test?name=prog&server_id=9401&tables=test.prog_items&snapshot=never"
                        "&snapshot_chunk_size=500&snapshot_pause_ms=50"});
  e2e::WaitStreaming(d);
  const std::vector<std::string> snapshot = {
      Sluicectl(), "--server", d.address(), "snapshot", "prog", "test.prog_items", "--wait", "300"};

  auto piped = RunCommand(snapshot);
  EXPECT_EQ(piped.exit_code, 0) << piped.stderr_text << d.Log();
  EXPECT_NE(piped.stdout_text.find("snapshot of test.prog_items on prog done"), std::string::npos)
      << piped.stdout_text;
  EXPECT_EQ(piped.stderr_text, "");

  const e2e::TerminalRun terminal = e2e::RunWithTerminalStderr(snapshot);
  EXPECT_EQ(terminal.exit_code, 0) << terminal.terminal;
  // "read 1500 of ~20000 rows of test.prog_items  3000/s  ETA 6s" (the total is the server's
  // row estimate; past it, or without one, "read 21000 rows of test.prog_items  3000/s").
  EXPECT_TRUE(std::regex_search(terminal.terminal,
                                std::regex("read [0-9]+ (of ~[1-9][0-9]* )?rows of "
                                           "test\\.prog_items")))
      << terminal.terminal;
  // The line is erased at the end, so the terminal is left clean.
  const size_t erase = terminal.terminal.rfind("\r\033[K");
  ASSERT_NE(erase, std::string::npos) << terminal.terminal;
  EXPECT_EQ(terminal.terminal.substr(erase), "\r\033[K") << terminal.terminal;
}

}  // namespace
}  // namespace sluice
