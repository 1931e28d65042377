#pragma once
// Comparing a table replayed from sluice's events with the source table, for the e2e tests
// that rebuild tables from a log or a bootstrap (snapshot_e2e_test, bootstrap_e2e_test).
//
// A row is compared as the normalized texts of its columns: the source's SQL gives each column
// as text (in a canonical form chosen by the test's SELECT), the events give it as JSON, and
// Normalize() brings both to one spelling per column kind.

#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "tests/testing/test_database.h"

namespace sluice::e2e {

// Column kinds, for comparing the JSON rendering with the SQL text of the same value.
enum class Kind { kNumber, kText, kDateTime };

struct TableSpec {
  std::string name;                  // as the events name it
  std::vector<std::string> keys;     // key columns
  std::vector<std::string> columns;  // every column, in order
  std::vector<Kind> kinds;
  std::string select;  // SQL giving the columns as text, canonical form
};

using Rows = std::map<std::string, std::vector<std::string>>;  // key text -> column texts

// One spelling of a column value; "\N" is NULL.
inline std::string Normalize(Kind kind, const std::string& text) {
  if (text == "\\N") return text;
  if (kind == Kind::kNumber) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", std::strtod(text.c_str(), nullptr));
    return buf;
  }
  if (kind == Kind::kDateTime) {
    // "YYYY-MM-DD HH:MM:SS[.f]" -> six fraction digits.
    std::string out = text.size() >= 19 ? text.substr(0, 19) : text;
    std::string frac = text.size() > 20 ? text.substr(20) : "";
    frac.resize(6, '0');
    return out + "." + frac;
  }
  return text;
}

// A JSON value as the text Normalize() takes.
inline std::string JsonText(const google::protobuf::Value& v) {
  using google::protobuf::Value;
  switch (v.kind_case()) {
    case Value::kNullValue:
      return "\\N";
    case Value::kNumberValue: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.number_value());
      return buf;
    }
    case Value::kStringValue:
      return v.string_value();
    case Value::kBoolValue:
      return v.bool_value() ? "1" : "0";
    default:
      return "<unexpected JSON>";
  }
}

// The key of `row` (the column texts of `t`): its key columns joined by "|".
inline std::string KeyOf(const TableSpec& t, const std::vector<std::string>& row) {
  std::vector<std::string> parts;
  for (const std::string& k : t.keys) {
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (t.columns[c] == k) parts.push_back(row[c]);
    }
  }
  return absl::StrJoin(parts, "|");
}

// The tables' current contents in `db` (each table's `select`), normalized; one Rows per table.
inline std::vector<Rows> SourceRows(testing::TestDatabase& db,
                                    const std::vector<TableSpec>& tables) {
  std::vector<Rows> out;
  for (const TableSpec& t : tables) {
    auto rows = db.Query(t.select);
    EXPECT_TRUE(rows.ok()) << rows.status();
    Rows& m = out.emplace_back();
    if (!rows.ok()) continue;
    for (auto& row : *rows) {
      for (size_t c = 0; c < row.size(); ++c) row[c] = Normalize(t.kinds[c], row[c]);
      m[KeyOf(t, row)] = row;
    }
  }
  return out;
}

// Fails the test if `replay` is not exactly `source` (table `t`), naming the first few rows that
// are missing, differ or are extra.
inline void ExpectSameRows(const TableSpec& t, const Rows& source, const Rows& replay) {
  int reported = 0;
  for (const auto& [k, row] : source) {
    auto it = replay.find(k);
    if (it == replay.end()) {
      if (reported++ < 5) ADD_FAILURE() << t.name << " " << k << " missing";
    } else if (it->second != row) {
      if (reported++ < 5) {
        ADD_FAILURE() << t.name << " " << k << " differs: source [" << absl::StrJoin(row, ", ")
                      << "] replayed [" << absl::StrJoin(it->second, ", ") << "]";
      }
    }
  }
  for (const auto& [k, row] : replay) {
    if (!source.contains(k) && reported++ < 5) {
      ADD_FAILURE() << t.name << " " << k << " is in the replay, not the source";
    }
  }
  EXPECT_EQ(reported, 0) << t.name << ": " << reported << " rows differ";
}

}  // namespace sluice::e2e
