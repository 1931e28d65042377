#pragma once
// A minimal blocking SQL client for tests: run statements against MariaDB (libmariadb) or
// PostgreSQL (libpq) and read results back as text. Not for production code.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::testing {

// How to reach a server. Always TCP; `database` may be empty (MariaDB: no default schema).
struct ConnectionParams {
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
  std::string database;
};

// One value of a result row; std::nullopt is SQL NULL.
using NullableRow = std::vector<std::optional<std::string>>;
// One result row with SQL NULL rendered as `kNull`.
using Row = std::vector<std::string>;

// How Query() renders SQL NULL: "\N", as MariaDB writes it in tab-separated output. Use
// QueryNullable() when a test has to tell NULL from the string "\N".
inline constexpr std::string_view kNull = "\\N";

// One open session. Values are always the text form the server sends.
//
// Not thread-safe: use one connection per thread (TestDatabase serializes its own).
// Errors: Unavailable when the connection cannot be made or is lost (then Broken() is true);
// InvalidArgument with the server's code and message when a statement fails.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one or more statements separated by ';' and discards any rows.
  absl::Status Exec(std::string_view sql) { return Run(sql, /*rows=*/nullptr); }

  // Runs one or more statements and returns the rows of the last one that produced a result set
  // (an empty vector when none did).
  absl::StatusOr<std::vector<NullableRow>> QueryNullable(std::string_view sql);

  // QueryNullable() with NULL rendered as kNull.
  absl::StatusOr<std::vector<Row>> Query(std::string_view sql);

  // True once the session is gone (server shut down, connection lost); drop the connection.
  virtual bool Broken() const = 0;

 protected:
  // Runs `sql`; when `rows` is not null, fills it with the last result set's rows.
  virtual absl::Status Run(std::string_view sql, std::vector<NullableRow>* rows) = 0;
};

// Connects to MariaDB/MySQL over TCP with libmariadb, charset utf8mb4, multi-statements on.
absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectMariaDb(const ConnectionParams& params);

// Connects to PostgreSQL over TCP with libpq, client_encoding UTF8. Server notices are dropped.
absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectPostgres(const ConnectionParams& params);

}  // namespace sluice::testing
