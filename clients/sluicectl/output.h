#pragma once
// Output helpers shared by the admin verbs: an aligned text table, JSON fragments, and the
// names of source states. Thread-compatible.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/v1/service.pb.h"

namespace sluice::cli {

struct GlobalOptions;

// A verb's arguments: positionals, "--flag VALUE" pairs, and the output format (--format may
// also follow the verb).
struct VerbArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  std::string format;
};
// Splits `args`; `allowed` lists the verb's flags besides --format. Prints the problem and
// `usage` and returns nullopt for an unknown flag, a flag without value, a bad --format or a
// positional count outside [min_positional, max_positional].
std::optional<VerbArgs> ParseVerbArgs(const GlobalOptions& global,
                                      const std::vector<std::string>& args,
                                      const std::vector<std::string>& allowed,
                                      size_t min_positional, size_t max_positional,
                                      const std::string& usage);

// Columns padded to their widest cell, two spaces apart; the header row is upper case.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Prints to stdout.
  void Print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "connecting", "streaming", ... as status prints them.
std::string StateName(v1::SourceState state);

// A JSON string literal.
std::string JsonString(std::string_view s);
// A timestamp as a JSON string ("2026-01-02T03:04:05.123Z"), or null for 0.
std::string JsonTime(int64_t micros);
// {"max_age":"7d"|null,"max_age_micros":N,"max_bytes":N,"max_bytes_text":"50GiB"|null}
std::string RetentionJson(const v1::RetentionSettings& r);
// "7d" / "none", "50GiB" / "none".
std::string RetentionAgeText(const v1::RetentionSettings& r);
std::string RetentionBytesText(const v1::RetentionSettings& r);

}  // namespace sluice::cli
