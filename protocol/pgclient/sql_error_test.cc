#include "protocol/pgclient/sql_error.h"

#include <gtest/gtest.h>

namespace sluice::pgclient {
namespace {

TEST(SqlErrorTest, RetryableClasses) {
  for (const char* s : {"08006", "08P01", "40001", "40P01", "53100", "53300", "57014", "57P01",
                        "58030", "XX000", "55P03", "55006"}) {
    EXPECT_TRUE(IsRetryableSqlState(s)) << s;
  }
  for (const char* s : {"42501", "42P01", "42703", "0A000", "22012", "22P02", "55000", "25006",
                        "XX001", "42601", "28000"}) {
    EXPECT_FALSE(IsRetryableSqlState(s)) << s;
  }
}

TEST(SqlErrorTest, PermanentErrorsNameTheStateAndTheFix) {
  absl::Status st = SqlErrorStatus("postgres at h:1/db: \"COPY ...\"", "42501",
                                   "ERROR:  permission denied for table orders", "reader");
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(IsPermanentSqlError(st));
  EXPECT_EQ(SqlStateOf(st).value_or(""), "42501");
  EXPECT_NE(st.message().find("SQLSTATE 42501"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("GRANT SELECT ON orders TO reader"), absl::string_view::npos) << st;

  st = SqlErrorStatus("w", "42501", "ERROR:  permission denied for schema sales", "reader");
  EXPECT_NE(st.message().find("GRANT USAGE ON SCHEMA sales TO reader"), absl::string_view::npos)
      << st;
  EXPECT_EQ(SqlErrorStatus("w", "42P01", "m", "u").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SqlErrorStatus("w", "0A000", "m", "u").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(SqlErrorStatus("w", "22P02", "m", "u").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlErrorStatus("w", "55000", "m", "u").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqlErrorTest, RetryableErrorsAreUnavailable) {
  absl::Status st = SqlErrorStatus("w", "40P01", "ERROR:  deadlock detected", "u");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsPermanentSqlError(st));
  EXPECT_EQ(SqlStateOf(st).value_or(""), "40P01");
  EXPECT_FALSE(IsPermanentSqlError(absl::UnavailableError("x")));
  EXPECT_FALSE(SqlStateOf(absl::UnavailableError("x")).has_value());
  EXPECT_FALSE(IsPermanentSqlError(absl::OkStatus()));
}

}  // namespace
}  // namespace sluice::pgclient
