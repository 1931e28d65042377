#include "server/logging/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "proto/base/time_format.h"
#include "proto/base/value_json.h"

namespace sluice::logging {
namespace {

std::atomic<int> g_format{static_cast<int>(Format::kText)};
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_fd{2};

void AppendHex(unsigned char c, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append("\\x");
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xF]);
}

// Text: control characters become \n, \r, \t or \xNN so that a record stays on one line.
void AppendTextEscaped(std::string_view s, bool quoting, std::string& out) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c < 0x20 || c == 0x7F) {
      AppendHex(c, out);
    } else if (quoting && (c == '"' || c == '\\')) {
      out.push_back('\\');
      out.push_back(ch);
    } else {
      out.push_back(ch);
    }
  }
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) return true;
  }
  return false;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void WriteAll(int fd, std::string_view line) {
  while (!line.empty()) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // dropped: logging never stops the server
    line.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

absl::StatusOr<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", std::string(text), "\" is not known; use text or json"));
}

std::string FormatText(const Record& record) {
  std::string out;
  out.reserve(96 + record.message.size());
  AppendTimestampMicros(record.ts_micros, out);
  out.push_back(' ');
  const std::string_view level = LevelName(record.level);
  for (char c : level) out.push_back(static_cast<char>(c - 'a' + 'A'));
  out.append(6 - level.size(), ' ');
  if (!record.source.empty()) {
    out.push_back('[');
    AppendTextEscaped(record.source, false, out);
    out.append("] ");
  }
  AppendTextEscaped(record.message, false, out);
  for (const Field& f : record.fields) {
    out.push_back(' ');
    out.append(f.key);
    out.push_back('=');
    if (NeedsQuotes(f.value)) {
      out.push_back('"');
      AppendTextEscaped(f.value, true, out);
      out.push_back('"');
    } else {
      out.append(f.value);
    }
  }
  out.push_back('\n');
  return out;
}

std::string FormatJson(const Record& record) {
  std::string out;
  out.reserve(112 + record.message.size());
  out.append("{\"ts\":\"");
  AppendTimestampMicros(record.ts_micros, out);
  out.append("\",\"level\":\"");
  out.append(LevelName(record.level));
  out.push_back('"');
  if (!record.source.empty()) {
    out.append(",\"source\":");
    AppendJsonString(record.source, out);
  }
  out.append(",\"msg\":");
  AppendJsonString(record.message, out);
  for (const Field& f : record.fields) {
    out.push_back(',');
    AppendJsonString(f.key, out);
    out.push_back(':');
    AppendJsonString(f.value, out);
  }
  out.append("}\n");
  return out;
}

void Configure(Format format, Level min_level, int fd) {
  g_format.store(static_cast<int>(format));
  g_min_level.store(static_cast<int>(min_level));
  g_fd.store(fd);
}

void Log(Level level, std::string_view source, std::string_view message,
         std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  Record r;
  r.ts_micros = NowMicros();
  r.level = level;
  r.source = source;
  r.message = message;
  r.fields = std::span<const Field>(fields.begin(), fields.size());
  const std::string line =
      static_cast<Format>(g_format.load(std::memory_order_relaxed)) == Format::kJson
          ? FormatJson(r)
          : FormatText(r);
  WriteAll(g_fd.load(std::memory_order_relaxed), line);
}

}  // namespace sluice::logging
