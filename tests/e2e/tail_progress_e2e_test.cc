// sluicectl tail's progress line: on a terminal (a pseudo-terminal here) while catching up,
// and nothing extra on stderr when it is piped.
#include <gtest/gtest.h>

#include "storage/change_log.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/e2e/terminal.h"

namespace sluice {
namespace {

using e2e::Lines;
using e2e::RunCommand;
using e2e::RunWithTerminalStderr;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using storage::testing::TempDir;

constexpr int kEvents = 30'000;

void SeedLog(const std::string& data_dir) {
  auto log = *storage::ChangeLog::Open(data_dir);
  auto id = *log->RegisterSource("big", v1::SOURCE_KIND_POSTGRES);
  for (int t = 0; t < kEvents / 1000; ++t) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < 1000; ++i) {
      v1::ChangeEvent e;
      e.set_op(v1::OP_INSERT);
      e.mutable_source()->set_schema("public");
      e.mutable_source()->set_table("t");
      auto* f = e.mutable_after()->add_fields();
      f->set_name("id");
      f->mutable_value()->set_int64(t * 1000 + i);
      txn.push_back(std::move(e));
    }
    v1::SourceCheckpoint cp;
    cp.set_position_text("0/" + std::to_string(t));
    ASSERT_TRUE(log->Append(id, std::move(txn), cp).ok());
  }
}

TEST(TailProgressE2E, ProgressOnATerminalOnly) {
  TempDir data;
  SeedLog(data.path());
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0"});
  const std::vector<std::string> tail = {Sluicectl(),
                                         "--server",
                                         d.address(),
                                         "tail",
                                         "big",
                                         "--from",
                                         "earliest",
                                         "--format",
                                         "json",
                                         "--limit",
                                         std::to_string(kEvents)};
  auto piped = RunCommand(tail);
  EXPECT_EQ(piped.exit_code, 0) << piped.stderr_text;
  EXPECT_EQ(Lines(piped.stdout_text), static_cast<size_t>(kEvents));
  EXPECT_EQ(piped.stderr_text, "");

  const e2e::TerminalRun run = RunWithTerminalStderr(tail);
  EXPECT_EQ(run.exit_code, 0) << run.terminal;
  const std::string& terminal = run.terminal;
  EXPECT_NE(terminal.find("caught up 4096 of 30000 events"), std::string::npos) << terminal;
  // The line is erased at the end, so the terminal is left clean.
  EXPECT_NE(terminal.rfind("\r\033[K"), std::string::npos);
  EXPECT_EQ(terminal.substr(terminal.rfind("\r\033[K")), "\r\033[K") << terminal;
}

}  // namespace
}  // namespace sluice
