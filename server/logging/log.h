#pragma once
// sluiced's structured log: one line per event with the time, the level, the source it concerns
// (if any), a message and key=value fields. Two renderings of the same record:
//   text (default, for people):
//     2026-12-06T09:43:39.123456Z INFO  [shop] state connecting -> streaming
//     position=binlog.000003:4
//   JSON (`sluiced --log-format json`, one object per line):
//     {"ts":"2026-12-06T09:43:39.123456Z","level":"info","source":"shop","msg":"state ...",
//      "position":"binlog.000003:4"}
// The grammar is in server/logging/README.md. A record never spans lines: control characters in
// messages and values are escaped. Callers pass redacted text: never a password or a source URL
// that holds one (use SourceConfig::url_redacted).
//
// Errors: none. A failed write to the log file descriptor is dropped; logging never stops sluiced.
// Thread-safety: every function may be called from any thread. Each line goes out in one
// write(2), so lines of different threads never interleave.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

struct Field {
  std::string_view key;  // [a-z0-9_]+ by convention
  std::string value;
};

struct Record {
  int64_t ts_micros = 0;  // UTC microseconds since the epoch
  Level level = Level::kInfo;
  std::string_view source;  // empty: not about one source
  std::string_view message;
  std::span<const Field> fields;
};

// "debug", "info", "warn", "error".
std::string_view LevelName(Level level);
// "text" or "json"; InvalidArgument naming the accepted values otherwise.
absl::StatusOr<Format> ParseFormat(std::string_view text);

// One record as one line, with the trailing '\n'. Pure.
std::string FormatText(const Record& record);
std::string FormatJson(const Record& record);

// Where the process logs: `format`, records at `min_level` and above, to file descriptor `fd`.
// The default is text, kInfo, fd 2 (stderr). Call early in main; it may be called again (tests).
void Configure(Format format, Level min_level = Level::kInfo, int fd = 2);

// Logs one record stamped with the current time.
void Log(Level level, std::string_view source, std::string_view message,
         std::initializer_list<Field> fields = {});

inline void Info(std::string_view source, std::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Log(Level::kInfo, source, message, fields);
}
inline void Warn(std::string_view source, std::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Log(Level::kWarn, source, message, fields);
}
inline void Error(std::string_view source, std::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Log(Level::kError, source, message, fields);
}

}  // namespace sluice::logging
