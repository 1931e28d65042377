#include "tests/testing/sql_connection.h"

namespace sluice::testing {

absl::StatusOr<std::vector<NullableRow>> SqlConnection::QueryNullable(std::string_view sql) {
  std::vector<NullableRow> rows;
  absl::Status status = Run(sql, &rows);
  if (!status.ok()) {
    return status;
  }
  return rows;
}

absl::StatusOr<std::vector<Row>> SqlConnection::Query(std::string_view sql) {
  absl::StatusOr<std::vector<NullableRow>> nullable = QueryNullable(sql);
  if (!nullable.ok()) {
    return nullable.status();
  }
  std::vector<Row> rows;
  rows.reserve(nullable->size());
  for (NullableRow& in : *nullable) {
    Row& out = rows.emplace_back();
    out.reserve(in.size());
    for (std::optional<std::string>& value : in) {
      out.push_back(value.has_value() ? std::move(*value) : std::string(kNull));
    }
  }
  return rows;
}

}  // namespace sluice::testing
