#include "clients/sluicectl/output.h"

#include <algorithm>
#include <iostream>

#include "clients/sluicectl/cli.h"
#include "proto/base/time_format.h"
#include "proto/base/units.h"
#include "proto/base/value_json.h"

namespace sluice::cli {

std::optional<VerbArgs> ParseVerbArgs(const GlobalOptions& global,
                                      const std::vector<std::string>& args,
                                      const std::vector<std::string>& allowed,
                                      size_t min_positional, size_t max_positional,
                                      const std::string& usage) {
  VerbArgs out;
  out.format = global.format;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      out.positional.push_back(a);
      continue;
    }
    if (a != "--format" && std::find(allowed.begin(), allowed.end(), a) == allowed.end()) {
      Fail(kExitUsage, "unknown flag " + a + "\n" + usage);
      return std::nullopt;
    }
    if (i + 1 >= args.size()) {
      Fail(kExitUsage, a + " needs a value\n" + usage);
      return std::nullopt;
    }
    if (a == "--format") {
      out.format = args[++i];
    } else {
      out.flags[a] = args[++i];
    }
  }
  if (out.format != "text" && out.format != "json") {
    Fail(kExitUsage, "--format \"" + out.format + "\" is not text or json");
    return std::nullopt;
  }
  if (out.positional.size() < min_positional || out.positional.size() > max_positional) {
    Fail(kExitUsage, (out.positional.size() < min_positional
                          ? std::string("missing arguments")
                          : "unexpected argument \"" + out.positional.back() + "\"") +
                         "\n" + usage);
    return std::nullopt;
  }
  return out;
}

void TextTable::Print() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  std::cout << out << std::flush;
}

std::string StateName(v1::SourceState state) {
  switch (state) {
    case v1::SOURCE_STATE_CONNECTING:
      return "connecting";
    case v1::SOURCE_STATE_SNAPSHOTTING:
      return "snapshotting";
    case v1::SOURCE_STATE_STREAMING:
      return "streaming";
    case v1::SOURCE_STATE_PAUSED:
      return "paused";
    case v1::SOURCE_STATE_ERROR:
      return "error";
    case v1::SOURCE_STATE_STOPPED:
      return "stopped";
    default:
      return "unknown";
  }
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, out);
  return out;
}

std::string JsonTime(int64_t micros) {
  return micros == 0 ? "null" : JsonString(FormatTimestampMicros(micros));
}

std::string RetentionAgeText(const v1::RetentionSettings& r) {
  return r.max_age_micros() == 0 ? "none" : FormatDurationMicros(r.max_age_micros());
}

std::string RetentionBytesText(const v1::RetentionSettings& r) {
  return r.max_bytes() == 0 ? "none" : FormatByteSize(r.max_bytes());
}

std::string RetentionJson(const v1::RetentionSettings& r) {
  return "{\"max_age_micros\":" + std::to_string(r.max_age_micros()) +
         ",\"max_age\":" + (r.max_age_micros() == 0 ? "null" : JsonString(RetentionAgeText(r))) +
         ",\"max_bytes\":" + std::to_string(r.max_bytes()) + ",\"max_bytes_text\":" +
         (r.max_bytes() == 0 ? "null" : JsonString(RetentionBytesText(r))) + "}";
}

}  // namespace sluice::cli
