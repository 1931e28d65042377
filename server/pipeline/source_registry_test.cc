// SourceRegistry logs every state change and error with the stored position, counts errors
// through its hook, and never logs more of a source URL than url_redacted.
#include "server/pipeline/source_registry.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "server/config/source_config.h"
#include "server/logging/log.h"

namespace sluice::pipeline {
namespace {

// Collects what the process logs while it lives (JSON lines through a pipe).
class CapturedLog {
 public:
  CapturedLog() {
    EXPECT_EQ(pipe(fds_), 0);
    logging::Configure(logging::Format::kJson, logging::Level::kInfo, fds_[1]);
  }
  ~CapturedLog() {
    if (fds_[0] >= 0) close(fds_[0]);
  }
  // Stops capturing and returns one parsed object per line.
  std::vector<google::protobuf::Struct> Lines(std::string& raw) {
    logging::Configure(logging::Format::kText, logging::Level::kInfo, 2);
    close(fds_[1]);
    char buf[4096];
    for (ssize_t n; (n = read(fds_[0], buf, sizeof buf)) > 0;) raw.append(buf, n);
    std::vector<google::protobuf::Struct> out;
    std::istringstream in(raw);
    for (std::string line; std::getline(in, line);) {
      google::protobuf::Struct s;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
      out.push_back(s);
    }
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

std::string F(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}

TEST(SourceRegistry, LogsStateChangesAndErrorsWithPosition) {
  CapturedLog capture;
  std::vector<std::string> errors;
  RegistryHooks hooks;
  hooks.position = [](const std::string& source) { return source + "-bin.000003:1234"; };
  hooks.on_error = [&](const std::string& source, const absl::Status& e) {
    errors.push_back(source + " " + absl::StatusCodeToString(e.code()));
  };
  SourceRegistry registry(hooks);
  auto url = config::ParseSourceUrl(
      "mysql://repl:s3cret-pw@127.0.0.1:3306/?name=shop&server_id=7&tables=shop.*");
  ASSERT_TRUE(url.ok()) << url.status();
  SourceRuntime runtime;
  runtime.name = "shop";
  runtime.url_redacted = url->url_redacted;
  registry.Upsert(runtime);
  registry.SetState("shop", v1::SOURCE_STATE_CONNECTING);
  registry.SetState("shop", v1::SOURCE_STATE_CONNECTING);  // no change: not logged again
  registry.SetState("shop", v1::SOURCE_STATE_STREAMING);
  registry.SetError("shop", absl::UnavailableError("lost the connection to 127.0.0.1:3306"));

  std::string raw;
  auto lines = capture.Lines(raw);
  ASSERT_EQ(lines.size(), 4u) << raw;
  EXPECT_EQ(F(lines[0], "msg"), "source configured");
  EXPECT_EQ(F(lines[0], "url"), url->url_redacted);
  EXPECT_EQ(F(lines[1], "msg"), "state unspecified -> connecting");
  EXPECT_EQ(F(lines[1], "source"), "shop");
  EXPECT_EQ(F(lines[1], "level"), "info");
  EXPECT_EQ(F(lines[1], "position"), "shop-bin.000003:1234");
  EXPECT_EQ(F(lines[2], "msg"), "state connecting -> streaming");
  EXPECT_EQ(F(lines[3], "msg"), "state streaming -> error");
  EXPECT_EQ(F(lines[3], "level"), "error");
  EXPECT_EQ(F(lines[3], "code"), "UNAVAILABLE");
  EXPECT_EQ(F(lines[3], "error"), "lost the connection to 127.0.0.1:3306");
  EXPECT_EQ(F(lines[3], "position"), "shop-bin.000003:1234");
  EXPECT_EQ(errors, std::vector<std::string>{"shop UNAVAILABLE"});
  EXPECT_EQ(raw.find("s3cret-pw"), std::string::npos) << raw;
  EXPECT_EQ(registry.Snapshot()[0].state, v1::SOURCE_STATE_ERROR);
}

TEST(SourceRegistry, StateNames) {
  EXPECT_EQ(StateName(v1::SOURCE_STATE_SNAPSHOTTING), "snapshotting");
  EXPECT_EQ(StateName(v1::SOURCE_STATE_ERROR), "error");
  EXPECT_EQ(StateName(static_cast<v1::SourceState>(99)), "state 99");
}

}  // namespace
}  // namespace sluice::pipeline
