// sluicectl tail's progress line: on a terminal (a pseudo-terminal here) while catching up,
// and nothing extra on stderr when it is piped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/change_log.h"
#include "tests/e2e/sluiced_process.h"

extern char** environ;

namespace sluice {
namespace {

using e2e::Lines;
using e2e::RunCommand;
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

// Runs `argv` with stdout to /dev/null and stderr on a new pseudo-terminal; returns what the
// terminal received.
std::string RunWithTerminalStderr(std::vector<std::string> argv) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  EXPECT_GE(master, 0);
  EXPECT_EQ(grantpt(master), 0);
  EXPECT_EQ(unlockpt(master), 0);
  const std::string slave_name = ptsname(master);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, slave_name.c_str(), O_RDWR | O_NOCTTY, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);  // EIO once the child closed the terminal
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  return out;
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

  const std::string terminal = RunWithTerminalStderr(tail);
  EXPECT_NE(terminal.find("caught up 4096 of 30000 events"), std::string::npos) << terminal;
  // The line is erased at the end, so the terminal is left clean.
  EXPECT_NE(terminal.rfind("\r\033[K"), std::string::npos);
  EXPECT_EQ(terminal.substr(terminal.rfind("\r\033[K")), "\r\033[K") << terminal;
}

}  // namespace
}  // namespace sluice
