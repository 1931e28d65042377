// sluiced's /metrics, /healthz and /readyz and its structured logs, observed from outside: a real
// sluiced fed by the test MariaDB, scraped over HTTP and parsed by a strict Prometheus text
// parser; the counters move by exactly the rows written; /readyz flips to 503 when the source
// fails; every log line parses (JSON or text) and none holds the source's password.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::SluicedProcess;
using e2e::WaitStreaming;
using storage::testing::TempDir;
using testing::HttpGet;
using testing::ParsePrometheusText;
using testing::PromScrape;
using testing::TestDatabase;

// A user of its own, so the test can take its access away, with a password found nowhere else.
constexpr char kUser[] = "metrics_e2e";
constexpr char kPassword[] = "PwMetrics7Qx93";

int MetricsPort(const SluicedProcess& d) {
  // Text: "metrics_port=N"; JSON: "metrics_port":"N".
  const std::regex port(R"re(metrics_port(?:=|":")([0-9]+))re");
  std::smatch m;
  std::string log = d.Log();
  if (!std::regex_search(log, m, port)) return 0;
  return std::stoi(m[1]);
}

PromScrape Scrape(int port) {
  auto r = HttpGet(static_cast<uint16_t>(port), "/metrics");
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  auto parsed = ParsePrometheusText(r->body);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << r->body;
  return parsed.ok() ? *parsed : PromScrape{};
}

// Polls `path` until it answers `status` (the source's state changes asynchronously).
testing::HttpReply WaitForStatus(int port, const std::string& path, int status) {
  testing::HttpReply last;
  for (int i = 0; i < 600; ++i) {
    auto r = HttpGet(static_cast<uint16_t>(port), path);
    if (r.ok()) {
      last = *r;
      if (r->status == status) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << path << " never answered " << status << "; last: " << last.status << " "
                << last.body;
  return last;
}

std::vector<std::string> LogLines(const SluicedProcess& d) {
  std::vector<std::string> lines;
  std::istringstream in(d.Log());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

class MetricsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.metrics_items").ok());
    ASSERT_TRUE(
        db_->Exec("CREATE TABLE test.metrics_items (id INT PRIMARY KEY, v VARCHAR(40))").ok());
    ASSERT_TRUE(db_->Exec(absl::StrCat("DROP USER IF EXISTS '", kUser, "'@'%'")).ok());
    ASSERT_TRUE(
        db_->Exec(absl::StrCat("CREATE USER '", kUser, "'@'%' IDENTIFIED BY '", kPassword, "'"))
            .ok());
    ASSERT_TRUE(db_->Exec(absl::StrCat("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* "
                                       "TO '",
                                       kUser, "'@'%'"))
                    .ok());
  }
  void TearDown() override {
    if (db_ != nullptr) {
      db_->Exec(absl::StrCat("DROP USER IF EXISTS '", kUser, "'@'%'")).IgnoreError();
    }
  }
  std::string SourceUrl() const {
    return absl::StrCat("mysql://", kUser, ":", kPassword, "@127.0.0.1:", db_->port(),
                        "/?name=my&server_id=9101&tables=test.metrics_items&snapshot=never");
  }
  // Takes the source's access away: drop its user and end its sessions.
  void RevokeSource() {
    ASSERT_TRUE(db_->Exec(absl::StrCat("DROP USER '", kUser, "'@'%'")).ok());
    auto ids = db_->Query(
        absl::StrCat("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '", kUser, "'"));
    ASSERT_TRUE(ids.ok()) << ids.status();
    for (const auto& row : *ids) {
      db_->Exec(absl::StrCat("KILL ", row[0])).IgnoreError();  // it may have ended already
    }
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
};

TEST_F(MetricsE2E, CountersMoveUnderLoadAndReadyzFlipsOnSourceError) {
  SluicedProcess d({"--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--metrics-listen",
                    "127.0.0.1:0", "--log-format", "json", "--source", SourceUrl()});
  const int port = MetricsPort(d);
  ASSERT_NE(port, 0) << d.Log();
  WaitStreaming(d);

  auto health = HttpGet(port, "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto ready = WaitForStatus(port, "/readyz", 200);
  EXPECT_EQ(ready.body, "ready\nmy: streaming\n");

  const std::map<std::string, std::string> table = {{"source", "my"},
                                                    {"table", "test.metrics_items"}};
  const std::map<std::string, std::string> my = {{"source", "my"}};
  PromScrape before = Scrape(port);
  EXPECT_EQ(before.Sum("sluice_events_ingested_total", table), 0);
  EXPECT_EQ(*before.Find("sluice_source_state", {{"source", "my"}, {"state", "streaming"}}), 1);
  EXPECT_EQ(before.families["sluice_append_latency_seconds"].type, "histogram");

  // Load: 10 transactions of 5 inserts.
  for (int t = 0; t < 10; ++t) {
    std::string sql = "BEGIN;";
    for (int i = 0; i < 5; ++i) {
      absl::StrAppend(&sql, "INSERT INTO test.metrics_items VALUES (", t * 5 + i, ", 'row');");
    }
    absl::StrAppend(&sql, "COMMIT;");
    ASSERT_TRUE(db_->Exec(sql).ok());
  }
  ASSERT_EQ(e2e::TailJson(d, "my", 50).size(), 50u);  // all 50 are durable now

  PromScrape after = Scrape(port);
  EXPECT_EQ(after.Sum("sluice_events_ingested_total", table), 50);
  EXPECT_EQ(after.Sum("sluice_transactions_ingested_total", my), 10);
  EXPECT_EQ(*after.Find("sluice_log_last_offset", my), 50);
  EXPECT_EQ(*after.Find("sluice_log_events", my), 50);
  EXPECT_GT(after.Sum("sluice_ingested_bytes_total", my), 0);
  EXPECT_EQ(after.Sum("sluice_ingested_bytes_total", my),
            *after.Find("sluice_log_stored_bytes", my));
  EXPECT_GE(after.Sum("sluice_append_latency_seconds_count", my), 10);
  EXPECT_GT(after.Sum("sluice_append_latency_seconds_sum", my), 0);
  ASSERT_TRUE(after.Find("sluice_source_last_commit_timestamp_seconds", my).has_value());
  EXPECT_GT(*after.Find("sluice_source_last_commit_timestamp_seconds", my), 1.7e9);
  ASSERT_TRUE(after.Find("sluice_source_lag_seconds", my).has_value());
  EXPECT_GE(*after.Find("sluice_source_lag_seconds", my), 0);
  EXPECT_GE(after.Sum("sluice_events_served_total", my), 50) << "the tail read 50 events";
  EXPECT_GE(after.Sum("sluice_events_served_total", table), 50) << "served, by table";

  // More load moves the counters by exactly what was written: one UPDATE of 50 rows.
  ASSERT_TRUE(db_->Exec("UPDATE test.metrics_items SET v = 'changed'").ok());
  ASSERT_EQ(e2e::TailJson(d, "my", 50, "51").size(), 50u);
  PromScrape more = Scrape(port);
  EXPECT_EQ(more.Sum("sluice_events_ingested_total", table), 100);
  EXPECT_EQ(more.Sum("sluice_transactions_ingested_total", my), 11);
  EXPECT_EQ(*more.Find("sluice_log_last_offset", my), 100);
  EXPECT_EQ(more.Sum("sluice_source_errors_total", my), 0);

  // A following subscriber shows up in sluice_subscribers with its lag, which reaches 0 once it
  // has read all 100 events, and goes away with it.
  EXPECT_EQ(*more.Find("sluice_subscribers", my), 0);
  pid_t tail = 0;
  {
    std::vector<std::string> args = {e2e::Sluicectl(), "--server", d.address(), "tail", "my",
                                     "--from",         "earliest", "--format",  "json"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&tail, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  PromScrape following;
  for (int i = 0; i < 600; ++i) {
    following = Scrape(port);
    auto lag = following.Find("sluice_subscriber_lag_events", my);
    if (following.Sum("sluice_subscribers", my) == 1 && lag.has_value() && *lag == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(following.Sum("sluice_subscribers", my), 1);
  EXPECT_EQ(following.Count("sluice_subscriber_lag_events", my), 1u);
  EXPECT_EQ(following.Sum("sluice_subscriber_lag_events", my), 0);
  EXPECT_GE(following.Sum("sluice_events_served_total", my), 150) << "50 + 50 tailed, 100 followed";
  EXPECT_GE(following.Sum("sluice_events_served_total", table), 150) << "served, by table";
  kill(tail, SIGTERM);
  waitpid(tail, nullptr, 0);
  PromScrape after_tail;
  for (int i = 0; i < 600; ++i) {
    after_tail = Scrape(port);
    if (after_tail.Sum("sluice_subscribers", my) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(after_tail.Sum("sluice_subscribers", my), 0);
  EXPECT_EQ(after_tail.Count("sluice_subscriber_lag_events", my), 0u);

  // Every metric the shipped Grafana dashboard queries is one sluiced exports.
  const char* src = std::getenv("SLUICE_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream dashboard_file(std::string(src) + "/deploy/grafana/sluice-dashboard.json");
  std::stringstream dashboard;
  dashboard << dashboard_file.rdbuf();
  google::protobuf::Struct parsed_dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(dashboard.str(), &parsed_dashboard).ok());
  const std::regex metric_name(R"(\bsluice_[a-z_]+)");
  size_t referenced = 0;
  const std::string text = dashboard.str();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), metric_name);
       it != std::sregex_iterator(); ++it, ++referenced) {
    std::string name = it->str();
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      std::string base = name.substr(0, name.size() - std::min(name.size(), suffix.size()));
      if (name.ends_with(suffix) && more.families.count(base)) name = base;
    }
    EXPECT_TRUE(more.families.count(name)) << "the dashboard queries " << name;
  }
  EXPECT_GT(referenced, 15u);

  // The source loses its access: /readyz says which source is not ready and why; /healthz stays.
  RevokeSource();
  auto not_ready = WaitForStatus(port, "/readyz", 503);
  EXPECT_TRUE(not_ready.body.starts_with("not ready\nmy: ")) << not_ready.body;
  health = HttpGet(port, "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  double errors = 0;
  for (int i = 0; i < 600 && errors == 0; ++i) {
    errors = Scrape(port).Sum("sluice_source_errors_total", my);
    if (errors == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(errors, 0);

  ASSERT_EQ(d.Stop(), 0);
  // Every log line is one JSON object; state changes and errors name the source and position.
  bool saw_streaming = false, saw_error = false;
  for (const std::string& line : LogLines(d)) {
    google::protobuf::Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
    EXPECT_FALSE(Field(s, "ts").empty()) << line;
    EXPECT_FALSE(Field(s, "level").empty()) << line;
    if (Field(s, "source") == "my" && Field(s, "msg") == "state connecting -> streaming") {
      saw_streaming = true;
      EXPECT_FALSE(Field(s, "position").empty()) << line;
    }
    if (Field(s, "source") == "my" && Field(s, "level") == "error") {
      saw_error = true;
      EXPECT_FALSE(Field(s, "code").empty()) << line;
      EXPECT_FALSE(Field(s, "error").empty()) << line;
      EXPECT_NE(Field(s, "position"), "none") << "50+50 events were stored: " << line;
    }
  }
  EXPECT_TRUE(saw_streaming) << d.Log();
  EXPECT_TRUE(saw_error) << d.Log();
  EXPECT_EQ(d.Log().find(kPassword), std::string::npos) << d.Log();
}

// "lag_bytes" / "lag_events" of `sluicectl status --format json` (one source): -1 for null.
struct HeadLag {
  int64_t bytes = -1;
  int64_t events = -1;
  bool lower_bound = false;
};

HeadLag StatusLag(const SluicedProcess& d) {
  const std::string json =
      e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "status", "--format", "json"})
          .stdout_text;
  static const std::regex lag(
      R"re("lag_bytes":(null|[0-9]+),"lag_events":(null|[0-9]+),)re"
      R"re("lag_events_lower_bound":(true|false),)re");
  std::smatch m;
  HeadLag out;
  if (!std::regex_search(json, m, lag)) return out;  // WaitLag reports what status showed
  if (m[1] != "null") out.bytes = std::stoll(m[1]);
  if (m[2] != "null") out.events = std::stoll(m[2]);
  out.lower_bound = m[3] == "true";
  return out;
}

// Polls status (and /metrics, which must agree) until `done` holds for the lag; fails after 60 s.
HeadLag WaitLag(const SluicedProcess& d, int metrics_port, const std::string& source,
                const std::function<bool(const HeadLag&)>& done, const std::string& what) {
  HeadLag lag;
  for (int i = 0; i < 600; ++i) {
    lag = StatusLag(d);
    if (done(lag)) {
      // /metrics shows what the same probe measured (unless a new probe ran in between).
      PromScrape s = Scrape(metrics_port);
      auto bytes = s.Find("sluice_source_lag_bytes", {{"source", source}});
      auto events = s.Find("sluice_source_lag_events", {{"source", source}});
      if (bytes && events && done(HeadLag{static_cast<int64_t>(*bytes),
                                          static_cast<int64_t>(*events), lag.lower_bound})) {
        EXPECT_EQ(*s.Find("sluice_source_head_probe_ok", {{"source", source}}), 1);
        return lag;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the lag of " << source << " never became " << what << "; last: bytes "
                << lag.bytes << ", events " << lag.events << "\n"
                << e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "status"})
                       .stdout_text
                << d.Log();
  return lag;
}

// While the source is paused and the database is written to, the lag behind the server's head
// in bytes (and on MariaDB in row events) grows; after the resume it returns to 0.
TEST_F(MetricsE2E, LagBehindTheHeadGrowsWhilePausedAndReturnsToZero) {
  SluicedProcess d({"--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--metrics-listen",
                    "127.0.0.1:0", "--source", SourceUrl() + "&heartbeat_ms=200"});
  const int port = MetricsPort(d);
  ASSERT_NE(port, 0) << d.Log();
  WaitStreaming(d);
  auto caught_up = [](const HeadLag& l) { return l.bytes == 0 && l.events == 0; };
  EXPECT_FALSE(WaitLag(d, port, "my", caught_up, "0").lower_bound);

  auto r = e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "pause", "my"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  auto write = [&](int first) {  // one transaction of 5 inserts: 5 binlog row events
    std::string sql = "BEGIN;";
    for (int i = first; i < first + 5; ++i) {
      absl::StrAppend(&sql, "INSERT INTO test.metrics_items VALUES (", i, ", 'paused');");
    }
    ASSERT_TRUE(db_->Exec(absl::StrCat(sql, "COMMIT;")).ok());
  };
  write(0);
  const HeadLag first =
      WaitLag(d, port, "my", [](const HeadLag& l) { return l.events == 5; }, "5 events");
  EXPECT_GT(first.bytes, 0);
  EXPECT_FALSE(first.lower_bound);
  write(5);
  const HeadLag second = WaitLag(
      d, port, "my", [&](const HeadLag& l) { return l.events == 10 && l.bytes > first.bytes; },
      "10 events and more bytes");
  EXPECT_GT(second.bytes, first.bytes);

  r = e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "resume", "my"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  ASSERT_EQ(e2e::TailJson(d, "my", 10).size(), 10u);
  WaitLag(d, port, "my", caught_up, "0 after the resume");
  r = e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "status"});
  EXPECT_TRUE(
      std::regex_search(r.stdout_text, std::regex("\nmy +mysql +streaming +1 +10 .* 0 +0 ")))
      << r.stdout_text;
  ASSERT_EQ(d.Stop(), 0);
}

// The same against Postgres: WAL bytes behind grow while paused and return to 0; events count
// only what was received and is not durable yet (a lower bound, 0 while paused).
TEST(MetricsPostgresE2E, LagBehindTheHeadGrowsWhilePausedAndReturnsToZero) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  TestDatabase* pg = *db;
  (void)pg->Exec("SELECT pg_drop_replication_slot('lag_slot')");
  ASSERT_TRUE(pg->Exec("DROP TABLE IF EXISTS lag_items; DROP PUBLICATION IF EXISTS lag_pub; "
                       "CREATE TABLE lag_items (id int PRIMARY KEY, v text)")
                  .ok());
  TempDir data;
  {
    SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--metrics-listen",
                      "127.0.0.1:0", "--source",
                      pg->PostgresUrl() +
                          "?name=pgl&slot=lag_slot&publication=lag_pub&tables=public.lag_items"
                          "&tls=disabled&snapshot=never&heartbeat_ms=200"});
    const int port = MetricsPort(d);
    ASSERT_NE(port, 0) << d.Log();
    WaitStreaming(d);
    auto caught_up = [](const HeadLag& l) { return l.bytes == 0 && l.events == 0; };
    EXPECT_TRUE(WaitLag(d, port, "pgl", caught_up, "0").lower_bound);

    auto r = e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "pause", "pgl"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    ASSERT_TRUE(pg->Exec("INSERT INTO lag_items SELECT g, 'paused' FROM generate_series(1, 5) g")
                    .ok());
    const HeadLag first =
        WaitLag(d, port, "pgl", [](const HeadLag& l) { return l.bytes > 0; }, "> 0");
    EXPECT_EQ(first.events, 0) << "nothing is received while paused";
    ASSERT_TRUE(pg->Exec("INSERT INTO lag_items SELECT g, 'paused' FROM generate_series(6, 10) g")
                    .ok());
    WaitLag(d, port, "pgl", [&](const HeadLag& l) { return l.bytes > first.bytes; },
            "more than before");

    r = e2e::RunCommand({e2e::Sluicectl(), "--server", d.address(), "resume", "pgl"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    ASSERT_EQ(e2e::TailJson(d, "pgl", 10).size(), 10u);
    WaitLag(d, port, "pgl", caught_up, "0 after the resume");
    ASSERT_EQ(d.Stop(), 0);
  }
  for (int i = 0; i < 50; ++i) {
    if (pg->Exec("SELECT pg_drop_replication_slot('lag_slot')").ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// A source whose server is not there: never ready, /healthz still answers, text log lines follow
// the documented grammar, and the password in the URL is never logged.
TEST_F(MetricsE2E, UnreachableSourceIsNotReadyAndTextLogsParse) {
  // A port that was free a moment ago: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int closed_port = ntohs(addr.sin_port);
  close(fd);

  SluicedProcess d({"--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--metrics-listen",
                    "127.0.0.1:0", "--source",
                    absl::StrCat("mysql://", kUser, ":", kPassword, "@127.0.0.1:", closed_port,
                                 "/?name=down&server_id=9102&tables=test.*&snapshot=never")});
  const int port = MetricsPort(d);
  ASSERT_NE(port, 0) << d.Log();
  auto not_ready = WaitForStatus(port, "/readyz", 503);
  EXPECT_TRUE(not_ready.body.starts_with("not ready\ndown: ")) << not_ready.body;
  auto health = HttpGet(port, "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  double errors = 0;
  for (int i = 0; i < 600 && errors == 0; ++i) {
    PromScrape s = Scrape(port);
    errors = s.Sum("sluice_source_errors_total", {{"source", "down"}, {"code", "UNAVAILABLE"}});
    if (errors == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(errors, 0);
  ASSERT_EQ(d.Stop(), 0);

  const std::regex grammar(
      R"(^(\S+Z) (DEBUG|INFO|WARN|ERROR) +(\[([^\]]*)\] )?(.*?)((?: [a-z_]+=(?:"(?:[^"\\]|\\.)*"|[^ "=\\]+))*)$)");
  bool saw_error = false;
  for (const std::string& line : LogLines(d)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, grammar)) << line;
    if (m[2] == "ERROR" && m[4] == "down") {
      saw_error = true;
      EXPECT_NE(m[6].str().find(" position="), std::string::npos) << line;
      EXPECT_NE(m[6].str().find(" code=UNAVAILABLE"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(saw_error) << d.Log();
  EXPECT_EQ(d.Log().find(kPassword), std::string::npos) << d.Log();
  EXPECT_NE(d.Log().find(absl::StrCat("mysql://", kUser, ":***@")), std::string::npos)
      << "the redacted URL is logged: " << d.Log();
}

}  // namespace
}  // namespace sluice
