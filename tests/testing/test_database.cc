#include "tests/testing/test_database.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/testing/subprocess.h"

#ifndef SLUICE_TESTING_SOURCE_DIR
#error "SLUICE_TESTING_SOURCE_DIR must be defined by the build (see tests/testing/CMakeLists.txt)"
#endif

namespace sluice::testing {
namespace {

constexpr char kScriptRelativePath[] = "tests/testdb/testdb.sh";
// testdb.sh bounds each step itself (60 s by default); these only catch a script that hangs.
constexpr std::chrono::minutes kStartTimeout(3);
constexpr std::chrono::minutes kStopTimeout(2);

absl::StatusOr<std::string> FindScript() {
  std::vector<std::string> candidates;
  if (const char* script = std::getenv("SLUICE_TESTDB_SCRIPT"); script != nullptr && *script) {
    candidates.emplace_back(script);
  }
  if (const char* src = std::getenv("SLUICE_SOURCE_DIR"); src != nullptr && *src) {
    candidates.push_back(absl::StrCat(src, "/", kScriptRelativePath));
  }
  candidates.push_back(absl::StrCat(SLUICE_TESTING_SOURCE_DIR, "/", kScriptRelativePath));
  for (const std::string& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) {
      return candidate;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("testdb.sh not found; tried: ", absl::StrJoin(candidates, ", ")));
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/sluice-testdb-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return pattern;
}

void RemoveTree(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

absl::StatusOr<SubprocessResult> RunScript(const std::string& script, std::vector<std::string> args,
                                           std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"bash", script};
  argv.insert(argv.end(), args.begin(), args.end());
  // The watchdog in testdb.sh stops the server once this process is gone, even after a crash.
  return RunSubprocess(argv, {{"SLUICE_TESTDB_OWNER_PID", std::to_string(::getpid())}}, timeout);
}

// Runs `testdb.sh stop dir` and makes sure dir is gone.
absl::Status StopDir(const std::string& script, const std::string& dir) {
  absl::StatusOr<SubprocessResult> result = RunScript(script, {"stop", dir}, kStopTimeout);
  absl::Status status = absl::OkStatus();
  if (!result.ok()) {
    status = result.status();
  } else if (result->exit_code != 0) {
    status = absl::InternalError(absl::StrCat("testdb.sh stop ", dir, " exited with ",
                                              result->exit_code, ":\n", result->stderr_text));
  }
  RemoveTree(dir);
  return status;
}

absl::StatusOr<std::map<std::string, std::string>> ParseEnv(absl::string_view text) {
  std::map<std::string, std::string> env;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    line = absl::StripAsciiWhitespace(line);
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InternalError(
          absl::StrCat("testdb.sh printed a line that is not KEY=VALUE: '", line, "'"));
    }
    env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return env;
}

absl::StatusOr<int> ParseInt(absl::string_view key, absl::string_view value) {
  int out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return absl::InternalError(absl::StrCat("testdb.sh printed a bad ", key, ": '", value, "'"));
  }
  return out;
}

}  // namespace

const char* KindName(TestDatabase::Kind kind) {
  switch (kind) {
    case TestDatabase::Kind::kMariaDb:
      return "mariadb";
    case TestDatabase::Kind::kPostgres:
      return "postgres";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Start(Kind kind) {
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> script = FindScript();
  if (!script.ok()) {
    return script.status();
  }
  absl::StatusOr<std::string> dir = MakeTempDir();
  if (!dir.ok()) {
    return dir.status();
  }
  const std::string what = absl::StrCat("testdb.sh start ", KindName(kind), " ", *dir);

  absl::StatusOr<SubprocessResult> result =
      RunScript(*script, {"start", KindName(kind), *dir}, kStartTimeout);
  if (!result.ok() || result->exit_code != 0) {
    absl::Status stop_status = StopDir(*script, *dir);
    std::string message = result.ok() ? absl::StrCat(what, " failed with exit code ",
                                                     result->exit_code, ":\n", result->stderr_text)
                                      : absl::StrCat(what, " failed: ", result.status().message());
    if (!stop_status.ok()) {
      absl::StrAppend(&message, "\ncleaning up also failed: ", stop_status.message());
    }
    return absl::UnavailableError(message);
  }

  auto db = std::unique_ptr<TestDatabase>(new TestDatabase());
  db->kind_ = kind;
  db->script_ = *script;
  db->dir_ = *dir;
  db->owner_pid_ = ::getpid();
  // From here on, the destructor stops the server if parsing fails.
  absl::StatusOr<std::map<std::string, std::string>> env = ParseEnv(result->stdout_text);
  if (!env.ok()) {
    return env.status();
  }
  for (const char* key : {"KIND", "HOST", "PORT", "USER", "PASSWORD", "DATABASE", "SOCKET", "PID",
                          "ADMIN_USER", "ADMIN_PASSWORD", "DIR", "LOG"}) {
    if (env->find(key) == env->end()) {
      return absl::InternalError(
          absl::StrCat(what, " printed no ", key, "; stdout was:\n", result->stdout_text));
    }
  }
  std::map<std::string, std::string>& e = *env;
  if (e["KIND"] != KindName(kind)) {
    return absl::InternalError(absl::StrCat(what, " started a '", e["KIND"], "' server"));
  }
  absl::StatusOr<int> port = ParseInt("PORT", e["PORT"]);
  if (!port.ok()) {
    return port.status();
  }
  absl::StatusOr<int> pid = ParseInt("PID", e["PID"]);
  if (!pid.ok()) {
    return pid.status();
  }
  db->host_ = e["HOST"];
  db->port_ = *port;
  db->user_ = e["USER"];
  db->password_ = e["PASSWORD"];
  db->database_ = e["DATABASE"];
  db->socket_ = e["SOCKET"];
  db->admin_user_ = e["ADMIN_USER"];
  db->admin_password_ = e["ADMIN_PASSWORD"];
  db->log_path_ = e["LOG"];
  db->tls_ca_file_ = e["TLS_CA"];  // optional: absent from older scripts, empty without TLS
  db->pid_ = static_cast<pid_t>(*pid);
  db->start_duration_ = absl::FromChrono(std::chrono::steady_clock::now() - started);
  std::fprintf(stderr, "[testdb] %s ready at %s:%d in %s (dir %s)\n", KindName(kind),
               db->host_.c_str(), db->port_, absl::FormatDuration(db->start_duration_).c_str(),
               db->dir_.c_str());
  return db;
}

absl::StatusOr<TestDatabase*> TestDatabase::Shared(Kind kind) {
  // One slot per kind. Function-local statics: destroyed (servers stopped) after main returns.
  struct Slot {
    std::once_flag once;
    absl::StatusOr<std::unique_ptr<TestDatabase>> db = absl::UnknownError("not started");
  };
  static Slot mariadb_slot;
  static Slot postgres_slot;
  Slot& slot = kind == Kind::kMariaDb ? mariadb_slot : postgres_slot;
  std::call_once(slot.once, [&slot, kind] { slot.db = Start(kind); });
  if (!slot.db.ok()) {
    return slot.db.status();
  }
  return slot.db->get();
}

TestDatabase::~TestDatabase() {
  if (::getpid() != owner_pid_) {
    return;  // A forked child (death test) must not stop its parent's server.
  }
  absl::Status status = Stop();
  if (!status.ok()) {
    std::fprintf(stderr, "[testdb] stopping %s in %s failed: %s\n", KindName(kind_), dir_.c_str(),
                 std::string(status.message()).c_str());
  }
}

absl::Status TestDatabase::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) {
    return absl::OkStatus();
  }
  stopped_ = true;
  admin_session_.reset();
  return StopDir(script_, dir_);
}

std::string TestDatabase::MysqlUrl() const {
  return absl::StrCat("mysql://", user_, ":", password_, "@", host_, ":", port_, "/");
}

std::string TestDatabase::PostgresUrl() const {
  return absl::StrCat("postgres://", user_, ":", password_, "@", host_, ":", port_, "/", database_);
}

std::string TestDatabase::Url() const {
  return kind_ == Kind::kMariaDb ? MysqlUrl() : PostgresUrl();
}

absl::StatusOr<std::unique_ptr<SqlConnection>> TestDatabase::Connect(Role role) const {
  ConnectionParams params;
  params.host = host_;
  params.port = port_;
  params.user = role == Role::kAdmin ? admin_user_ : user_;
  params.password = role == Role::kAdmin ? admin_password_ : password_;
  params.database = database_;
  return kind_ == Kind::kMariaDb ? ConnectMariaDb(params) : ConnectPostgres(params);
}

absl::StatusOr<SqlConnection*> TestDatabase::AdminSessionLocked() {
  if (stopped_) {
    return absl::FailedPreconditionError("the test database was stopped");
  }
  if (admin_session_ != nullptr && admin_session_->Broken()) {
    admin_session_.reset();
  }
  if (admin_session_ == nullptr) {
    absl::StatusOr<std::unique_ptr<SqlConnection>> session = Connect(Role::kAdmin);
    if (!session.ok()) {
      return absl::Status(session.status().code(),
                          absl::StrCat(session.status().message(), "\nserver log (", log_path_,
                                       "), last lines:\n", LogTail(20)));
    }
    admin_session_ = *std::move(session);
  }
  return admin_session_.get();
}

absl::Status TestDatabase::Exec(std::string_view sql) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqlConnection*> session = AdminSessionLocked();
  if (!session.ok()) {
    return session.status();
  }
  return (*session)->Exec(sql);
}

absl::StatusOr<std::vector<std::vector<std::string>>> TestDatabase::Query(std::string_view sql) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqlConnection*> session = AdminSessionLocked();
  if (!session.ok()) {
    return session.status();
  }
  return (*session)->Query(sql);
}

absl::StatusOr<std::vector<NullableRow>> TestDatabase::QueryNullable(std::string_view sql) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqlConnection*> session = AdminSessionLocked();
  if (!session.ok()) {
    return session.status();
  }
  return (*session)->QueryNullable(sql);
}

std::string TestDatabase::LogTail(int lines) const {
  std::ifstream in(log_path_);
  if (!in) {
    return absl::StrCat("(cannot read ", log_path_, ")");
  }
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(std::move(line));
    if (tail.size() > static_cast<size_t>(lines)) {
      tail.pop_front();
    }
  }
  return absl::StrJoin(tail, "\n");
}

}  // namespace sluice::testing
