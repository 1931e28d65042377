#pragma once
// Helpers for end-to-end tests: the built sluiced and sluicectl binaries as processes.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/test_util.h"
#include "tests/testing/subprocess.h"

extern char** environ;

namespace sluice::e2e {

using storage::testing::TempDir;

inline std::string BinaryDir() {
  const char* d = std::getenv("SLUICE_BINARY_DIR");
  return d ? d : ".";
}
inline std::string Sluiced() { return BinaryDir() + "/server/daemon/sluiced"; }
inline std::string Sluicectl() { return BinaryDir() + "/clients/sluicectl/sluicectl"; }

// A port that was free a moment ago, so that a restarted sluiced listens where it did before.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline testing::SubprocessResult RunCommand(const std::vector<std::string>& argv) {
  auto r = testing::RunSubprocess(argv, {}, std::chrono::seconds(60));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::SubprocessResult{};
}

inline size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A sluiced running in the background for one test.
class SluicedProcess {
 public:
  explicit SluicedProcess(std::vector<std::string> args) {
    log_path_ = dir_.path() + "/sluiced.log";
    args.insert(args.begin(), Sluiced());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    const std::regex serving("serving on port ([0-9]+)");
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::smatch m;
      std::string log = Log();
      if (std::regex_search(log, m, serving)) port_ = std::stoi(m[1]);
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(port_, 0) << "sluiced did not start: " << Log();
  }
  ~SluicedProcess() {
    if (pid_ > 0) {
      EXPECT_EQ(Stop(), 0) << Log();
    }
  }

  // SIGTERM, then the exit code.
  int Stop() { return Signal(SIGTERM); }
  // SIGKILL: a crash at an arbitrary instant.
  int Kill() { return Signal(SIGKILL); }
  int Signal(int sig) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  std::string Log() const {
    std::ifstream f(log_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int pid() const { return pid_; }

 private:
  TempDir dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

// Waits until `sluicectl status` shows a source streaming (after its initial snapshot, if any;
// changes committed from then on are streamed).
inline void WaitStreaming(const SluicedProcess& d) {
  std::string out;
  for (int i = 0; i < 200; ++i) {
    out = RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"})
              .stdout_text;
    if (out.find("\"state\":\"streaming\"") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "the source did not start streaming: " << out << "\n" << d.Log();
}

// `sluicectl tail SOURCE --from FROM --format json --limit N`: the event lines, waiting up to
// `idle_exit` seconds for each. Fails the test (with the status) when fewer than `n` arrive.
inline std::vector<std::string> TailJson(const SluicedProcess& d, const std::string& source,
                                         size_t n, const std::string& from = "earliest",
                                         int idle_exit = 30) {
  auto r =
      RunCommand({Sluicectl(), "--server", d.address(), "tail", source, "--from", from, "--format",
                  "json", "--limit", std::to_string(n), "--idle-exit", std::to_string(idle_exit)});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::vector<std::string> lines;
  std::istringstream in(r.stdout_text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() != n) {
    ADD_FAILURE() << "expected " << n << " events, got " << lines.size() << "; status:\n"
                  << RunCommand({Sluicectl(), "--server", d.address(), "status"}).stdout_text;
  }
  return lines;
}

}  // namespace sluice::e2e
