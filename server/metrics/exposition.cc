#include "server/metrics/exposition.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sluice::metrics {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendEscapedHelp(std::string_view help, std::string& out) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

// {a="x",b="y"} plus an optional extra label (le=...); nothing when there are no labels.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name, std::string_view extra_value, std::string& out) {
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out.append(names[i]);
    out.append("=\"");
    AppendEscapedLabelValue(i < values.size() ? values[i] : std::string_view(), out);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out.append(extra_name);
    out.append("=\"");
    out.append(extra_value);
    out.push_back('"');
  }
  out.push_back('}');
}

void AppendLine(std::string_view name, std::string_view suffix, const FamilySnapshot& f,
                const Sample& s, std::string_view le, const std::string& value, std::string& out) {
  out.append(name);
  out.append(suffix);
  AppendLabels(f.label_names, s.label_values, le.empty() ? "" : "le", le, out);
  out.push_back(' ');
  out.append(value);
  out.push_back('\n');
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

absl::Status ValidateMetricName(std::string_view name) {
  bool ok = !name.empty() && (IsNameStart(name[0]) || name[0] == ':');
  for (char c : name) ok = ok && (IsNameStart(c) || IsDigit(c) || c == ':');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("metric name \"", std::string(name),
                                                 "\" is not valid: use [a-zA-Z_:][a-zA-Z0-9_:]*"));
}

absl::Status ValidateLabelName(std::string_view name) {
  bool ok = !name.empty() && IsNameStart(name[0]);
  for (char c : name) ok = ok && (IsNameStart(c) || IsDigit(c));
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("label name \"", std::string(name),
                                                   "\" is not valid: use [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  if (name.starts_with("__") || name == "le") {
    return absl::InvalidArgumentError(absl::StrCat("label name \"", std::string(name),
                                                   "\" is reserved by Prometheus; choose another"));
  }
  return absl::OkStatus();
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9.0e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

void AppendEscapedLabelValue(std::string_view value, std::string& out) {
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

std::string RenderText(std::span<const FamilySnapshot> families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    out.append("# HELP ");
    out.append(f.name);
    out.push_back(' ');
    AppendEscapedHelp(f.help, out);
    out.append("\n# TYPE ");
    out.append(f.name);
    out.push_back(' ');
    out.append(TypeName(f.type));
    out.push_back('\n');
    for (const Sample& s : f.samples) {
      if (f.type != MetricType::kHistogram) {
        AppendLine(f.name, "", f, s, "", FormatValue(s.value), out);
        continue;
      }
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        const uint64_t n = i < s.cumulative_counts.size() ? s.cumulative_counts[i] : s.count;
        AppendLine(f.name, "_bucket", f, s, FormatValue(f.bounds[i]), std::to_string(n), out);
      }
      AppendLine(f.name, "_bucket", f, s, "+Inf", std::to_string(s.count), out);
      AppendLine(f.name, "_sum", f, s, "", FormatValue(s.sum), out);
      AppendLine(f.name, "_count", f, s, "", std::to_string(s.count), out);
    }
  }
  return out;
}

}  // namespace sluice::metrics
