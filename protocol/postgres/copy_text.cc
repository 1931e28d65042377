#include "protocol/postgres/copy_text.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::postgres {
namespace {

// The position of the first `c` at or after `from` in `s`, or s.size().
size_t Find(std::string_view s, size_t from, char c) {
  if (from >= s.size()) return s.size();
  const void* hit = std::memchr(s.data() + from, c, s.size() - from);
  return hit == nullptr ? s.size() : static_cast<size_t>(static_cast<const char*>(hit) - s.data());
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::Status CopyTextRow::Parse(std::string_view row, size_t columns) {
  values_.clear();
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  // Unescaped text is never longer than its escaped form: one reservation keeps every view
  // into unescaped_ valid while the row is read.
  unescaped_.clear();
  unescaped_.reserve(row.size());
  size_t pos = 0;
  for (size_t c = 0; c < columns; ++c) {
    if (c > 0) {
      if (pos >= row.size() || row[pos] != '\t') {
        return absl::InvalidArgumentError(
            absl::StrCat("COPY row: expected ", columns, " columns, found ", c));
      }
      ++pos;
    }
    // The column ends at the next tab, unless a backslash before it escapes a byte (COPY
    // writes a tab in a value as \t, but a backslash escapes whatever byte follows it).
    size_t end = Find(row, pos, '\t');
    const size_t backslash = Find(row.substr(0, end), pos, '\\');
    const bool escaped = backslash != end;
    if (escaped) {
      end = backslash;
      while (end < row.size() && row[end] != '\t') {
        if (row[end] == '\\') {
          ++end;
          if (end == row.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat("COPY row: column ", c + 1, " ends with a lone backslash"));
          }
        }
        ++end;
      }
    }
    const std::string_view field = row.substr(pos, end - pos);
    pos = end;
    if (field == "\\N") {
      values_.emplace_back(std::nullopt);
      continue;
    }
    if (!escaped) {
      values_.emplace_back(field);
      continue;
    }
    const size_t start = unescaped_.size();
    for (size_t i = 0; i < field.size(); ++i) {
      char ch = field[i];
      if (ch != '\\') {
        unescaped_.push_back(ch);
        continue;
      }
      ch = field[++i];
      switch (ch) {
        case 'b':
          unescaped_.push_back('\b');
          break;
        case 'f':
          unescaped_.push_back('\f');
          break;
        case 'n':
          unescaped_.push_back('\n');
          break;
        case 'r':
          unescaped_.push_back('\r');
          break;
        case 't':
          unescaped_.push_back('\t');
          break;
        case 'v':
          unescaped_.push_back('\v');
          break;
        case 'x':
          if (i + 1 < field.size() && HexValue(field[i + 1]) >= 0) {
            int v = HexValue(field[++i]);
            if (i + 1 < field.size() && HexValue(field[i + 1]) >= 0) {
              v = v * 16 + HexValue(field[++i]);
            }
            unescaped_.push_back(static_cast<char>(v));
          } else {
            unescaped_.push_back('x');
          }
          break;
        default:
          if (IsOctal(ch)) {
            int v = ch - '0';
            for (int k = 0; k < 2 && i + 1 < field.size() && IsOctal(field[i + 1]); ++k) {
              v = v * 8 + (field[++i] - '0');
            }
            unescaped_.push_back(static_cast<char>(v & 0xFF));
          } else {
            unescaped_.push_back(ch);
          }
      }
    }
    values_.emplace_back(std::string_view(unescaped_).substr(start));
  }
  if (pos != row.size()) {
    return absl::InvalidArgumentError(absl::StrCat("COPY row: more than ", columns, " columns"));
  }
  return absl::OkStatus();
}

}  // namespace sluice::postgres
