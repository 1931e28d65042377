#include "tests/e2e/mariadb_binlog_diff.h"

#include <iconv.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/time_format.h"
#include "proto/base/utf8.h"

namespace sluice::e2e {
namespace {

// ---- JSON -------------------------------------------------------------------------------------

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  absl::StatusOr<JsonNode> ParseAll() {
    JsonNode node;
    if (!Value(node, 0)) return Error();
    SkipSpace();
    if (pos_ != s_.size()) {
      error_ = "trailing characters";
      return Error();
    }
    return node;
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat("bad JSON at offset ", pos_, ": ", error_,
                                                   " in ", std::string(s_.substr(0, 200))));
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      error_ = "unknown literal";
      return false;
    }
    pos_ += word.size();
    return true;
  }
  bool Hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool String(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) {
            error_ = "bad \\u escape";
            return false;
          }
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t low = 0;
            if (!Hex4(low)) {
              error_ = "bad \\u escape";
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          error_ = "bad escape";
          return false;
      }
    }
    error_ = "unterminated string";
    return false;
  }
  bool Value(JsonNode& node, int depth) {
    if (depth > 64) {
      error_ = "too deep";
      return false;
    }
    SkipSpace();
    if (pos_ >= s_.size()) {
      error_ = "unexpected end";
      return false;
    }
    const char c = s_[pos_];
    if (c == 'n') {
      node.type = JsonNode::Type::kNull;
      return Literal("null");
    }
    if (c == 't' || c == 'f') {
      node.type = JsonNode::Type::kBool;
      node.text = c == 't' ? "true" : "false";
      return Literal(node.text);
    }
    if (c == '"') {
      node.type = JsonNode::Type::kString;
      return String(node.text);
    }
    if (c == '[' || c == '{') {
      const bool object = c == '{';
      node.type = object ? JsonNode::Type::kObject : JsonNode::Type::kArray;
      ++pos_;
      SkipSpace();
      const char close = object ? '}' : ']';
      if (pos_ < s_.size() && s_[pos_] == close) {
        ++pos_;
        return true;
      }
      while (true) {
        std::string key;
        if (object) {
          SkipSpace();
          if (pos_ >= s_.size() || s_[pos_] != '"' || !String(key)) {
            if (error_.empty()) error_ = "expected a key";
            return false;
          }
          SkipSpace();
          if (pos_ >= s_.size() || s_[pos_++] != ':') {
            error_ = "expected ':'";
            return false;
          }
        }
        JsonNode child;
        if (!Value(child, depth + 1)) return false;
        node.members.emplace_back(std::move(key), std::move(child));
        SkipSpace();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == close) {
          ++pos_;
          return true;
        }
        error_ = "expected ',' or a closing bracket";
        return false;
      }
    }
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
            s_[pos_] == '+' || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
    }
    if (pos_ == start) {
      error_ = "unexpected character";
      return false;
    }
    node.type = JsonNode::Type::kNumber;
    node.text = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// ---- mariadb-binlog ---------------------------------------------------------------------------

// "`db`.`t`" -> db, t.
bool ParseQualifiedName(std::string_view s, std::string& db, std::string& table) {
  if (s.size() < 5 || s.front() != '`' || s.back() != '`') return false;
  const size_t dot = s.find("`.`");
  if (dot == std::string_view::npos) return false;
  db = std::string(s.substr(1, dot - 1));
  table = std::string(s.substr(dot + 3, s.size() - dot - 4));
  return true;
}

// The bytes of a quoted mariadb-binlog string: bytes below 0x20 are written as \xNN, every
// other byte as it is (quotes and backslashes included), so the value is everything between the
// first and the last quote of the line.
absl::StatusOr<std::string> UnquoteMariadb(std::string_view v) {
  if (v.size() < 2 || v.front() != '\'' || v.back() != '\'') {
    return absl::InvalidArgumentError(absl::StrCat("not a quoted string: ", std::string(v)));
  }
  v = v.substr(1, v.size() - 2);
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 3 < v.size() && v[i + 1] == 'x' &&
        std::isxdigit(static_cast<unsigned char>(v[i + 2])) &&
        std::isxdigit(static_cast<unsigned char>(v[i + 3]))) {
      const std::string hex(v.substr(i + 2, 2));
      const unsigned long b = std::strtoul(hex.c_str(), nullptr, 16);
      if (b < 0x20) {
        out.push_back(static_cast<char>(b));
        i += 3;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

absl::StatusOr<std::string> Cp1252ToUtf8(std::string_view in) {
  iconv_t cd = iconv_open("UTF-8", "CP1252");
  if (cd == reinterpret_cast<iconv_t>(-1)) return absl::InternalError("iconv: no CP1252");
  std::string input(in);
  std::string out(in.size() * 4 + 4, '\0');
  char* src = input.data();
  size_t src_left = input.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  const size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1)) {
    return absl::InvalidArgumentError(absl::StrCat("iconv CP1252: ", std::strerror(errno)));
  }
  out.resize(out.size() - dst_left);
  return out;
}

// "b'0101'" -> 5.
absl::StatusOr<uint64_t> ParseBitLiteral(std::string_view v) {
  if (v.size() < 3 || v.substr(0, 2) != "b'" || v.back() != '\'') {
    return absl::InvalidArgumentError(absl::StrCat("not a bit literal: ", std::string(v)));
  }
  uint64_t out = 0;
  for (char c : v.substr(2, v.size() - 3)) {
    if (c != '0' && c != '1') return absl::InvalidArgumentError("bad bit digit");
    out = (out << 1) | static_cast<uint64_t>(c - '0');
  }
  return out;
}

// "12:00:00.500000" -> "12:00:00.5"; "1.000" -> "1".
std::string TrimFraction(std::string s) {
  const size_t dot = s.rfind('.');
  if (dot == std::string::npos) return s;
  size_t end = s.size();
  while (end > dot + 1 && s[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  s.resize(end);
  return s;
}

std::string Strip(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

// The mariadb-binlog side of a value, in the common form of its kind.
absl::StatusOr<std::string> NormalizeMariadb(const ColumnSpec& c, std::string_view raw) {
  const std::string v = Strip(raw);
  switch (c.kind) {
    case ValueKind::kInt:
    case ValueKind::kDecimal:
      return v.substr(0, v.find(' '));
    case ValueKind::kUint: {
      const size_t open = v.find(" (");
      if (open == std::string::npos) return v;
      return v.substr(open + 2, v.size() - open - 3);
    }
    case ValueKind::kFloat:
    case ValueKind::kDouble:
      return v;
    case ValueKind::kBit: {
      auto bits = ParseBitLiteral(v);
      if (!bits.ok()) return bits.status();
      return absl::StrCat(*bits);
    }
    case ValueKind::kYear:
      return v == "1900" ? std::string("0") : v;
    case ValueKind::kDate: {
      auto s = UnquoteMariadb(v);
      if (!s.ok()) return s.status();
      std::string d = *s;
      for (char& ch : d) {
        if (ch == ':') ch = '-';
      }
      return d;
    }
    case ValueKind::kTime:
    case ValueKind::kDateTime: {
      auto s = UnquoteMariadb(v);
      if (!s.ok()) return s.status();
      return TrimFraction(*s);
    }
    case ValueKind::kTimestamp: {
      const size_t dot = v.find('.');
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(v.substr(0, dot), &seconds)) {
        return absl::InvalidArgumentError(absl::StrCat("bad timestamp ", v));
      }
      int64_t micros = seconds * 1'000'000;
      if (dot != std::string::npos) {
        std::string frac = v.substr(dot + 1);
        frac.resize(6, '0');
        int64_t f = 0;
        if (!absl::SimpleAtoi(frac, &f)) return absl::InvalidArgumentError("bad fraction");
        micros += f;
      }
      return absl::StrCat(micros);
    }
    case ValueKind::kUtf8:
    case ValueKind::kJsonText:
    case ValueKind::kBytes:
      return UnquoteMariadb(v);
    case ValueKind::kLatin1: {
      auto s = UnquoteMariadb(v);
      if (!s.ok()) return s.status();
      return Cp1252ToUtf8(*s);
    }
    case ValueKind::kEnum: {
      size_t index = 0;
      if (!absl::SimpleAtoi(v, &index) || index > c.members.size()) {
        return absl::InvalidArgumentError(absl::StrCat("bad ENUM index ", v));
      }
      return index == 0 ? std::string() : c.members[index - 1];
    }
    case ValueKind::kSet: {
      auto bits = ParseBitLiteral(v);
      if (!bits.ok()) return bits.status();
      std::string out;
      for (size_t i = 0; i < 64; ++i) {
        if (!((*bits >> i) & 1)) continue;
        if (i >= c.members.size()) return absl::InvalidArgumentError("SET bit beyond members");
        if (!out.empty()) out.push_back(',');
        out += c.members[i];
      }
      return out;
    }
  }
  return absl::InternalError("unknown kind");
}

// The sluice side of a value, in the common form of its kind.
absl::StatusOr<std::string> NormalizeSluice(const ColumnSpec& c, const JsonNode& node) {
  using T = JsonNode::Type;
  const bool number_kind = c.kind == ValueKind::kInt || c.kind == ValueKind::kUint ||
                           c.kind == ValueKind::kFloat || c.kind == ValueKind::kDouble ||
                           c.kind == ValueKind::kBit || c.kind == ValueKind::kYear;
  if (number_kind != (node.type == T::kNumber) || (!number_kind && node.type != T::kString)) {
    return absl::InvalidArgumentError(absl::StrCat("sluice rendered ",
                                                   std::string(ValueKindName(c.kind)),
                                                   " as JSON type ", static_cast<int>(node.type)));
  }
  switch (c.kind) {
    case ValueKind::kTime:
    case ValueKind::kDateTime:
      return TrimFraction(node.text);
    case ValueKind::kTimestamp: {
      auto micros = ParseTimestamp(node.text);
      if (!micros.ok()) return micros.status();
      return absl::StrCat(*micros);
    }
    case ValueKind::kBytes: {
      std::string bytes;
      if (!absl::Base64Unescape(node.text, &bytes)) {
        return absl::InvalidArgumentError(absl::StrCat("bad base64 ", node.text));
      }
      return bytes;
    }
    default:
      return node.text;
  }
}

bool SameNumber(ValueKind kind, const std::string& a, const std::string& b) {
  char* end = nullptr;
  const double x = std::strtod(a.c_str(), &end);
  if (end == a.c_str()) return false;
  const double y = std::strtod(b.c_str(), &end);
  if (end == b.c_str()) return false;
  if (kind == ValueKind::kDouble) return std::memcmp(&x, &y, sizeof x) == 0 || x == y;
  // FLOAT: "%g" keeps 6 significant digits of the float; sluice has the float exactly.
  const double scale = std::max(std::fabs(x), std::fabs(y));
  return std::fabs(x - y) <= 5e-6 * scale;
}

std::string Shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) {
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  if (s.size() > 120) absl::StrAppend(&out, "...(", s.size(), " bytes)");
  return out;
}

void CompareImage(const std::string& where, const std::vector<ColumnSpec>& columns,
                  const std::optional<std::vector<std::string>>& mariadb,
                  const std::optional<std::vector<std::pair<std::string, JsonNode>>>& sluice,
                  DiffReport& report) {
  if (mariadb.has_value() != sluice.has_value()) {
    report.mismatches.push_back(absl::StrCat(where, ": mariadb-binlog ", mariadb ? "has" : "lacks",
                                             " the image, sluice ", sluice ? "has" : "lacks",
                                             " it"));
    return;
  }
  if (!mariadb) return;
  if (mariadb->size() != sluice->size()) {
    report.mismatches.push_back(absl::StrCat(where, ": mariadb-binlog prints ", mariadb->size(),
                                             " columns, sluice ", sluice->size()));
    return;
  }
  if (mariadb->size() > columns.size()) {
    report.mismatches.push_back(absl::StrCat(where, ": ", mariadb->size(),
                                             " columns but the test schema has ", columns.size()));
    return;
  }
  for (size_t i = 0; i < mariadb->size(); ++i) {
    const ColumnSpec& c = columns[i];
    const std::string& mv = (*mariadb)[i];
    const auto& [name, node] = (*sluice)[i];
    const std::string col =
        absl::StrCat(where, " column ", i + 1, " `", c.name, "` (", c.sql_type, ")");
    if (name != c.name) {
      report.mismatches.push_back(absl::StrCat(col, ": sluice names it `", name, "`"));
      continue;
    }
    const bool mnull = mv == "NULL";
    const bool snull = node.type == JsonNode::Type::kNull;
    if (mnull || snull) {
      if (mnull != snull) {
        report.mismatches.push_back(absl::StrCat(col, ": mariadb-binlog ", Shorten(mv),
                                                 " vs sluice ", Shorten(node.text),
                                                 snull ? "null" : ""));
      } else {
        ++report.nulls;
      }
      continue;
    }
    auto m = NormalizeMariadb(c, mv);
    auto s = NormalizeSluice(c, node);
    if (!m.ok() || !s.ok()) {
      report.mismatches.push_back(
          absl::StrCat(col, ": cannot normalise: mariadb-binlog ", Shorten(mv), " (",
                       m.ok() ? "ok" : m.status().message(), "), sluice ", Shorten(node.text), " (",
                       s.ok() ? "ok" : s.status().message(), ")"));
      continue;
    }
    bool same = (c.kind == ValueKind::kFloat || c.kind == ValueKind::kDouble)
                    ? SameNumber(c.kind, *m, *s)
                    : *m == *s;
    if (!same && c.fixed_length > m->size()) {
      std::string padded = *m;
      padded.resize(c.fixed_length, '\0');
      same = padded == *s;
    }
    if (!same) {
      report.mismatches.push_back(absl::StrCat(col, ": mariadb-binlog ", Shorten(mv), " -> ",
                                               Shorten(*m), " vs sluice ", Shorten(node.text),
                                               " -> ", Shorten(*s)));
      continue;
    }
    ++report.compared[c.kind];
  }
}

}  // namespace

const JsonNode* JsonNode::Find(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

absl::StatusOr<JsonNode> ParseJson(std::string_view text) { return JsonParser(text).ParseAll(); }

absl::StatusOr<std::vector<BinlogRow>> ParseMariadbBinlogVerbose(std::string_view output) {
  std::vector<BinlogRow> rows;
  std::vector<std::string>* image = nullptr;
  size_t line_no = 0;
  while (!output.empty()) {
    const size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
    ++line_no;
    if (!line.starts_with("### ")) continue;
    line.remove_prefix(4);
    auto bad = [&](std::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("mariadb-binlog output line ", line_no, ": ",
                                                     std::string(what), ": ", Shorten(line)));
    };
    if (line.starts_with("  @")) {
      if (image == nullptr) return bad("a value outside an image");
      const size_t eq = line.find('=');
      size_t n = 0;
      if (eq == std::string_view::npos ||
          !absl::SimpleAtoi(std::string(line.substr(3, eq - 3)), &n) || n != image->size() + 1) {
        return bad("expected @N=value with N the next column");
      }
      image->emplace_back(line.substr(eq + 1));
      continue;
    }
    if (line == "WHERE" || line == "SET") {
      if (rows.empty()) return bad("an image before any row");
      BinlogRow& row = rows.back();
      auto& target = line == "WHERE" ? row.before : row.after;
      if (target) return bad("a second image of one row");
      image = &target.emplace();
      continue;
    }
    BinlogRow row;
    std::string_view name;
    if (line.starts_with("INSERT INTO ")) {
      row.op = 'c';
      name = line.substr(12);
    } else if (line.starts_with("UPDATE ")) {
      row.op = 'u';
      name = line.substr(7);
    } else if (line.starts_with("DELETE FROM ")) {
      row.op = 'd';
      name = line.substr(12);
    } else {
      return bad("unknown row line");
    }
    if (!ParseQualifiedName(name, row.database, row.table)) return bad("bad table name");
    rows.push_back(std::move(row));
    image = nullptr;
  }
  return rows;
}

absl::StatusOr<std::vector<SluiceRow>> ParseSluiceJsonLines(std::string_view output) {
  std::vector<SluiceRow> rows;
  size_t line_no = 0;
  while (!output.empty()) {
    const size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto json = ParseJson(line);
    if (!json.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("sluicectl output line ", line_no, ": ", json.status().message()));
    }
    const JsonNode* op = json->Find("op");
    const JsonNode* source = json->Find("source");
    if (op == nullptr || source == nullptr || json->Find("offset") != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("sluicectl output line ", line_no, ": not the offline event shape"));
    }
    if (op->text != "c" && op->text != "u" && op->text != "d") continue;
    SluiceRow row;
    row.op = op->text[0];
    if (const JsonNode* db = source->Find("database")) row.database = db->text;
    if (const JsonNode* t = source->Find("table")) row.table = t->text;
    if (const JsonNode* p = source->Find("position")) row.position = p->text;
    if (const JsonNode* b = json->Find("before"); b && b->type == JsonNode::Type::kObject) {
      row.before = b->members;
    }
    if (const JsonNode* a = json->Find("after"); a && a->type == JsonNode::Type::kObject) {
      row.after = a->members;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kInt:
      return "int";
    case ValueKind::kUint:
      return "unsigned int";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kBit:
      return "bit";
    case ValueKind::kYear:
      return "year";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kTime:
      return "time";
    case ValueKind::kDateTime:
      return "datetime";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kUtf8:
      return "utf8mb4 text";
    case ValueKind::kLatin1:
      return "latin1 text";
    case ValueKind::kBytes:
      return "binary";
    case ValueKind::kEnum:
      return "enum";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kJsonText:
      return "json";
  }
  return "?";
}

DiffReport CompareBinlogRows(const std::vector<BinlogRow>& mariadb,
                             const std::vector<SluiceRow>& sluice, const DiffSchema& schema) {
  DiffReport report;
  auto in_schema = [&](const std::string& db, const std::string& t) {
    return schema.contains(absl::StrCat(db, ".", t));
  };
  std::vector<const BinlogRow*> m;
  for (const BinlogRow& r : mariadb) {
    if (in_schema(r.database, r.table)) m.push_back(&r);
  }
  std::vector<const SluiceRow*> s;
  for (const SluiceRow& r : sluice) {
    if (in_schema(r.database, r.table)) s.push_back(&r);
  }
  if (m.size() != s.size()) {
    report.mismatches.push_back(
        absl::StrCat("mariadb-binlog prints ", m.size(), " row changes, sluice ", s.size()));
  }
  for (size_t i = 0; i < std::min(m.size(), s.size()); ++i) {
    const BinlogRow& a = *m[i];
    const SluiceRow& b = *s[i];
    const std::string where = absl::StrCat("row change ", i, " (sluice ", b.position, ")");
    if (a.op != b.op || a.database != b.database || a.table != b.table) {
      report.mismatches.push_back(
          absl::StrCat(where, ": mariadb-binlog ", std::string(1, a.op), " ", a.database, ".",
                       a.table, ", sluice ", std::string(1, b.op), " ", b.database, ".", b.table));
      continue;
    }
    const auto& columns = schema.at(absl::StrCat(a.database, ".", a.table));
    CompareImage(where + " before", columns, a.before, b.before, report);
    CompareImage(where + " after", columns, a.after, b.after, report);
    ++report.rows;
  }
  return report;
}

}  // namespace sluice::e2e
