#include "tests/testing/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"

namespace sluice::testing {
namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

bool ValidMetricName(std::string_view n) {
  if (n.empty() || !(NameStart(n[0]) || n[0] == ':')) return false;
  for (char c : n) {
    if (!NameChar(c) && c != ':') return false;
  }
  return true;
}

std::optional<double> ParseFloat(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  if (s == "NaN") return std::nan("");
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

// The family a sample name belongs to, given the declared families.
std::string FamilyOf(const std::string& name, const std::map<std::string, PromFamily>& families) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = families.find(base);
      if (it != families.end() &&
          (it->second.type == "histogram" || it->second.type == "summary")) {
        return base;
      }
    }
  }
  return name;
}

bool Matches(const PromSeries& s, std::string_view name,
             const std::map<std::string, std::string>& labels) {
  if (s.name != name) return false;
  for (const auto& [k, v] : labels) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

class LineParser {
 public:
  LineParser(std::string_view line) : s_(line) {}

  absl::StatusOr<PromSeries> Sample() {
    PromSeries out;
    size_t i = 0;
    while (i < s_.size() && (NameChar(s_[i]) || s_[i] == ':')) ++i;
    out.name = std::string(s_.substr(0, i));
    if (!ValidMetricName(out.name)) return Bad("a metric name");
    pos_ = i;
    if (pos_ < s_.size() && s_[pos_] == '{') {
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '}') {
        size_t start = pos_;
        while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
        std::string label(s_.substr(start, pos_ - start));
        if (label.empty() || !NameStart(label[0])) return Bad("a label name");
        if (pos_ + 1 >= s_.size() || s_[pos_] != '=' || s_[pos_ + 1] != '"') {
          return Bad("=\" after the label name");
        }
        pos_ += 2;
        std::string value;
        for (;;) {
          if (pos_ >= s_.size()) return Bad("a closing quote");
          char c = s_[pos_++];
          if (c == '"') break;
          if (c == '\n') return Bad("no raw newline in a label value");
          if (c == '\\') {
            if (pos_ >= s_.size()) return Bad("an escape after the backslash");
            char e = s_[pos_++];
            if (e == 'n') {
              value.push_back('\n');
            } else if (e == '\\' || e == '"') {
              value.push_back(e);
            } else {
              return Bad("\\n, \\\\ or \\\" as the escape");
            }
          } else {
            value.push_back(c);
          }
        }
        if (!out.labels.emplace(label, value).second) return Bad("each label once");
        if (pos_ < s_.size() && s_[pos_] == ',')
          ++pos_;
        else if (pos_ < s_.size() && s_[pos_] != '}')
          return Bad("',' or '}' after a label");
      }
      if (pos_ >= s_.size()) return Bad("'}'");
      ++pos_;
    }
    if (pos_ >= s_.size() || s_[pos_] != ' ') return Bad("one space before the value");
    ++pos_;
    std::string_view rest = s_.substr(pos_);
    std::string_view value = rest.substr(0, rest.find(' '));
    auto v = ParseFloat(value);
    if (!v) return Bad("a float value (digits, +Inf, -Inf or NaN)");
    out.value = *v;
    if (value.size() < rest.size()) {
      std::string_view ts = rest.substr(value.size() + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
        return Bad("an integer timestamp after the value");
      }
    }
    return out;
  }

 private:
  absl::Status Bad(std::string_view expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", std::string(expected), " at column ", pos_ + 1));
  }
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<double> PromScrape::Find(std::string_view name,
                                       const std::map<std::string, std::string>& labels) const {
  for (const auto& s : series) {
    if (Matches(s, name, labels)) return s.value;
  }
  return std::nullopt;
}

double PromScrape::Sum(std::string_view name,
                       const std::map<std::string, std::string>& labels) const {
  double total = 0;
  for (const auto& s : series) {
    if (Matches(s, name, labels)) total += s.value;
  }
  return total;
}

size_t PromScrape::Count(std::string_view name,
                         const std::map<std::string, std::string>& labels) const {
  size_t n = 0;
  for (const auto& s : series) n += Matches(s, name, labels);
  return n;
}

absl::StatusOr<PromScrape> ParsePrometheusText(std::string_view text) {
  PromScrape out;
  std::set<std::string> finished;  // families whose samples ended
  std::string current;             // family of the previous sample
  std::set<std::pair<std::string, std::map<std::string, std::string>>> seen;
  size_t line_no = 0;
  auto fail = [&](std::string_view line, std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_no, " \"", std::string(line), "\": ", std::string(why)));
  };
  if (!text.empty() && text.back() != '\n') {
    return absl::InvalidArgumentError("the text does not end with a newline");
  }
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (line.empty()) return fail(line, "blank line");
    if (line[0] == '#') {
      if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
        std::string_view rest = line.substr(7);
        size_t sp = rest.find(' ');
        if (sp == std::string_view::npos) return fail(line, "expected a name and a value");
        std::string name(rest.substr(0, sp));
        if (!ValidMetricName(name)) return fail(line, "bad metric name");
        std::string value(rest.substr(sp + 1));
        if (finished.count(name) || current == name) {
          return fail(line, "HELP/TYPE after the family's samples");
        }
        PromFamily& f = out.families[name];
        if (line[2] == 'T') {
          if (!f.type.empty()) return fail(line, "second TYPE line");
          if (value != "counter" && value != "gauge" && value != "histogram" &&
              value != "summary" && value != "untyped") {
            return fail(line, "unknown type");
          }
          f.type = value;
        } else {
          if (!f.help.empty()) return fail(line, "second HELP line");
          f.help = value;
        }
      } else if (!line.starts_with("# ") && line != "#") {
        return fail(line, "a comment starts with \"# \"");
      }
      continue;
    }
    LineParser p(line);
    auto sample = p.Sample();
    if (!sample.ok()) return fail(line, std::string(sample.status().message()));
    std::string family = FamilyOf(sample->name, out.families);
    if (family != current) {
      if (finished.count(family)) return fail(line, "samples of a family are not contiguous");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    if (!seen.emplace(sample->name, sample->labels).second) return fail(line, "repeated series");
    PromFamily& f = out.families[family];
    if (f.type.empty()) f.type = "untyped";
    if (f.type == "histogram" && sample->name == family + "_bucket" &&
        !sample->labels.count("le")) {
      return fail(line, "a histogram bucket without le");
    }
    out.series.push_back(*std::move(sample));
  }
  // Histograms: cumulative buckets ending with +Inf == _count, per label set.
  for (const auto& [name, f] : out.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    for (const auto& s : out.series) {
      if (s.name != name + "_bucket") continue;
      auto labels = s.labels;
      auto le = ParseFloat(labels["le"]);
      if (!le) return absl::InvalidArgumentError(absl::StrCat(name, ": bad le ", labels["le"]));
      labels.erase("le");
      buckets[labels].push_back({*le, s.value});
    }
    for (auto& [labels, list] : buckets) {
      double prev_le = -HUGE_VAL, prev_count = 0;
      for (const auto& [le, count] : list) {
        if (le <= prev_le || count < prev_count) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, ": buckets are not ascending and cumulative"));
        }
        prev_le = le;
        prev_count = count;
      }
      if (!std::isinf(prev_le)) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": no le=\"+Inf\" bucket"));
      }
      auto count = out.Find(name + "_count", labels);
      if (!count || *count != prev_count) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": the +Inf bucket differs from _count"));
      }
    }
  }
  return out;
}

}  // namespace sluice::testing
