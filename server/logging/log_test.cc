#include "server/logging/log.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <sstream>

namespace sluice::logging {
namespace {

// Parses one JSON log line with protobuf's JSON parser (a real, independent parser).
google::protobuf::Struct ParseJsonLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a record spans lines: " << line;
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(line.substr(0, line.size() - 1), &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << line;
  return s;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}

TEST(LogFormat, TextLineHasTimeLevelSourceMessageAndFields) {
  std::vector<Field> fields = {{"position", "binlog.000003:4"}, {"error", "host down: try again"}};
  Record r{1'765'014'219'123'456, Level::kWarn, "shop", "state connecting -> error", fields};
  EXPECT_EQ(FormatText(r),
            "2025-12-06T09:43:39.123456Z WARN  [shop] state connecting -> error "
            "position=binlog.000003:4 error=\"host down: try again\"\n");
}

TEST(LogFormat, TextEscapesControlCharactersQuotesAndEmptyValues) {
  std::vector<Field> fields = {{"a", "say \"hi\"\\"}, {"b", ""}, {"c", "x=y"}};
  Record r{0, Level::kError, "", "line one\nline two\ttab\x01", fields};
  const std::string line = FormatText(r);
  EXPECT_EQ(line,
            "1970-01-01T00:00:00Z ERROR line one\\nline two\\ttab\\x01 a=\"say \\\"hi\\\"\\\\\" "
            "b=\"\" c=\"x=y\"\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

// A parser of the documented text grammar (README.md), written without std::regex (GCC 12's
// <regex> does not build under the sanitizers with -Werror).
struct TextLine {
  std::string ts, level, source, message;
  std::vector<std::pair<std::string, std::string>> fields;  // values unquoted and unescaped
};

std::optional<TextLine> ParseTextLine(std::string_view line) {
  TextLine out;
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp == 0 || line[sp - 1] != 'Z') return std::nullopt;
  out.ts = std::string(line.substr(0, sp));
  line.remove_prefix(sp + 1);
  if (line.size() < 6) return std::nullopt;
  std::string_view level = line.substr(0, 6);
  line.remove_prefix(6);
  while (!level.empty() && level.back() == ' ') level.remove_suffix(1);
  if (level != "DEBUG" && level != "INFO" && level != "WARN" && level != "ERROR") {
    return std::nullopt;
  }
  out.level = std::string(level);
  if (line.starts_with("[")) {
    size_t close = line.find("] ");
    if (close == std::string_view::npos) return std::nullopt;
    out.source = std::string(line.substr(1, close - 1));
    line.remove_prefix(close + 2);
  }
  // Fields are parsed from the end: ` key=bare` or ` key="escaped"`.
  for (;;) {
    if (line.empty()) break;
    std::string value;
    size_t key_end = 0;
    if (line.back() == '"') {
      // Find the opening quote: the last unescaped '"' before the closing one.
      size_t i = line.size() - 1;
      size_t open = std::string_view::npos;
      while (i > 0) {
        --i;
        if (line[i] != '"') continue;
        size_t slashes = 0;
        while (i >= slashes + 1 && line[i - slashes - 1] == '\\') ++slashes;
        if (slashes % 2 == 0) {
          open = i;
          break;
        }
      }
      if (open == std::string_view::npos || open == 0 || line[open - 1] != '=') break;
      std::string_view quoted = line.substr(open + 1, line.size() - open - 2);
      for (size_t k = 0; k < quoted.size(); ++k) {
        if (quoted[k] == '\\' && k + 1 < quoted.size()) {
          char e = quoted[++k];
          value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
        } else {
          value.push_back(quoted[k]);
        }
      }
      key_end = open - 1;
    } else {
      size_t eq = line.rfind('=');
      size_t space = line.rfind(' ');
      if (eq == std::string_view::npos || space == std::string_view::npos || eq < space) break;
      value = std::string(line.substr(eq + 1));
      key_end = eq;
    }
    size_t key_start = line.rfind(' ', key_end);
    if (key_start == std::string_view::npos) break;
    std::string key(line.substr(key_start + 1, key_end - key_start - 1));
    if (key.empty() ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      break;
    }
    out.fields.insert(out.fields.begin(), {key, value});
    line = line.substr(0, key_start);
  }
  out.message = std::string(line);
  return out;
}

TEST(LogFormat, TextLinesParseByTheDocumentedGrammar) {
  std::vector<Field> fields = {{"position", "0/19480B8"}, {"error", "a \"quoted\" = thing\n"}};
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    Record r{1'700'000'000'000'000, level, "pg", "state streaming", fields};
    std::string line = FormatText(r);
    line.pop_back();
    auto parsed = ParseTextLine(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    EXPECT_EQ(parsed->ts, "2023-11-14T22:13:20Z");
    EXPECT_EQ(parsed->source, "pg");
    EXPECT_EQ(parsed->message, "state streaming");
    using Fields = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(parsed->fields,
              (Fields{{"position", "0/19480B8"}, {"error", "a \"quoted\" = thing\n"}}));
  }
  Record none{0, Level::kInfo, "", "serving on port 7070", {}};
  std::string line = FormatText(none);
  line.pop_back();
  auto parsed = ParseTextLine(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  EXPECT_EQ(parsed->source, "");
  EXPECT_EQ(parsed->level, "INFO");
  EXPECT_EQ(parsed->message, "serving on port 7070");
  EXPECT_FALSE(ParseTextLine("no timestamp here").has_value());
}

TEST(LogFormat, JsonLineParsesWithEveryField) {
  std::vector<Field> fields = {{"position", "mysql-bin.000001:154"},
                               {"error", "quote \" backslash \\ newline \n bad utf8 \xff"}};
  Record r{1'765'014'219'000'000, Level::kError, "shop", "source error", fields};
  const std::string line = FormatJson(r);
  google::protobuf::Struct s = ParseJsonLine(line);
  EXPECT_EQ(Str(s, "ts"), "2025-12-06T09:43:39Z");
  EXPECT_EQ(Str(s, "level"), "error");
  EXPECT_EQ(Str(s, "source"), "shop");
  EXPECT_EQ(Str(s, "msg"), "source error");
  EXPECT_EQ(Str(s, "position"), "mysql-bin.000001:154");
  EXPECT_EQ(Str(s, "error"), "quote \" backslash \\ newline \n bad utf8 \xEF\xBF\xBD");
  EXPECT_EQ(s.fields().size(), 6);
}

TEST(LogFormat, JsonOmitsSourceWhenNotAboutOne) {
  Record r{0, Level::kInfo, "", "serving on port 7070", {}};
  google::protobuf::Struct s = ParseJsonLine(FormatJson(r));
  EXPECT_EQ(Str(s, "source"), "<absent>");
  EXPECT_EQ(Str(s, "msg"), "serving on port 7070");
}

TEST(LogFormat, ParseFormatNamesTheChoices) {
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  auto bad = ParseFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "log format \"xml\" is not known; use text or json");
}

// Log() writes whole lines to the configured descriptor, honoring the level and the format.
TEST(Log, WritesConfiguredFormatToDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Configure(Format::kJson, Level::kInfo, fds[1]);
  Log(Level::kDebug, "shop", "not shown");
  Info("shop", "state streaming", {{"position", "0/1"}});
  Error("", "retention failed", {{"error", "disk full"}});
  Configure(Format::kText, Level::kInfo, fds[1]);
  Warn("pg", "reconnecting");
  Configure(Format::kText, Level::kInfo, 2);
  close(fds[1]);
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, n);
  close(fds[0]);
  std::istringstream in(all);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  ASSERT_EQ(lines.size(), 3u) << all;
  auto first = ParseJsonLine(lines[0]);
  EXPECT_EQ(Str(first, "level"), "info");
  EXPECT_EQ(Str(first, "position"), "0/1");
  auto second = ParseJsonLine(lines[1]);
  EXPECT_EQ(Str(second, "level"), "error");
  EXPECT_EQ(Str(second, "error"), "disk full");
  EXPECT_NE(lines[2].find(" WARN  [pg] reconnecting\n"), std::string::npos) << lines[2];
}

}  // namespace
}  // namespace sluice::logging
