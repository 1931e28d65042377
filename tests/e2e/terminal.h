#pragma once
// Running a command with its stderr on a pseudo-terminal, for tests of what sluicectl shows only
// on a terminal (progress lines).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace sluice::e2e {

struct TerminalRun {
  std::string terminal;  // everything the command wrote to the terminal (its stderr)
  int exit_code = -1;    // -1 when it did not exit normally
};

// Runs `argv` with stdin and stdout on /dev/null and stderr on a new pseudo-terminal, and returns
// what the terminal received once the command has exited.
inline TerminalRun RunWithTerminalStderr(std::vector<std::string> argv) {
  TerminalRun run;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  EXPECT_GE(master, 0);
  if (master < 0) return run;
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
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0) << argv[0];
  if (spawned != 0) {
    close(master);
    return run;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master, buf, sizeof buf);  // EIO once the child closed the terminal
    if (n <= 0) break;
    run.terminal.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

}  // namespace sluice::e2e
