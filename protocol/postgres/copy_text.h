#pragma once
// The text format of COPY ... TO STDOUT: one row per CopyData message, columns separated by a
// tab, the row ended by a newline, NULL written as \N, and backslash escapes for the
// characters that would clash (\\ \b \f \n \r \t \v, plus \ooo octal and \xhh hex, which COPY
// FROM accepts; any other escaped character stands for itself). Unescaped, each column is the
// type output function's text: the same text a SELECT returns in text format.
//
// Pure; thread-compatible (the reader reuses its buffers).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sluice::postgres {

class CopyTextRow {
 public:
  // Splits `row` into exactly `columns` values. The values borrow `row` or this reader's
  // buffer: valid until the next Parse. InvalidArgument naming the column for a row with
  // another number of columns or a dangling backslash.
  absl::Status Parse(std::string_view row, size_t columns);
  const std::vector<std::optional<std::string_view>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string_view>> values_;
  std::string unescaped_;
};

}  // namespace sluice::postgres
