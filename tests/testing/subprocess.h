#pragma once
// Runs a helper program (testdb.sh) to completion and captures what it prints.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::testing {

struct SubprocessResult {
  // The exit code when the child exited normally, or 128 + signal number when a signal ended it
  // (as a shell reports it).
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs argv[0] (looked up on PATH) with argv, the current environment plus `extra_env` (which
// overrides), and stdin from /dev/null, and waits for it. The child leads a new process group; if
// it is still running after `timeout`, the whole group is killed with SIGKILL and
// DeadlineExceeded is returned with whatever was captured so far.
//
// Returns an error only if the child could not be run or timed out; a non-zero exit is reported
// in the result, not as an error. Thread-safe; blocks the calling thread.
absl::StatusOr<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                               const std::map<std::string, std::string>& extra_env,
                                               std::chrono::milliseconds timeout);

}  // namespace sluice::testing
