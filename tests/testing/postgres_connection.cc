// SqlConnection over libpq.

#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/testing/sql_connection.h"

namespace sluice::testing {
namespace {

constexpr char kConnectTimeoutSeconds[] = "10";

void DropNotice(void* /*arg*/, const char* /*message*/) {}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  bool Broken() const override { return PQstatus(conn_) != CONNECTION_OK; }

 private:
  absl::Status Run(std::string_view sql, std::vector<NullableRow>* rows) override {
    if (Broken()) {
      return absl::UnavailableError(
          absl::StrCat("PostgreSQL connection is broken: ", PQerrorMessage(conn_)));
    }
    // PQexec runs every statement of a multi-statement string (in one implicit transaction
    // unless it has its own BEGIN/COMMIT) and returns the result of the last one.
    std::string query(sql);
    PGresult* result = PQexec(conn_, query.c_str());
    ExecStatusType status = PQresultStatus(result);
    absl::Status out = absl::OkStatus();
    if (status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE) {
      if (rows != nullptr) {
        int n_rows = PQntuples(result);
        int n_cols = PQnfields(result);
        rows->reserve(static_cast<size_t>(n_rows));
        for (int r = 0; r < n_rows; ++r) {
          NullableRow& row = rows->emplace_back();
          row.reserve(static_cast<size_t>(n_cols));
          for (int c = 0; c < n_cols; ++c) {
            if (PQgetisnull(result, r, c)) {
              row.emplace_back(std::nullopt);
            } else {
              row.emplace_back(std::string(PQgetvalue(result, r, c),
                                           static_cast<size_t>(PQgetlength(result, r, c))));
            }
          }
        }
      }
    } else if (status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY) {
      const char* sqlstate =
          result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
      std::string message = absl::StrCat(
          "PostgreSQL error ", sqlstate != nullptr ? sqlstate : "(no SQLSTATE)", " (",
          PQresStatus(status), "): ",
          absl::StripTrailingAsciiWhitespace(result != nullptr ? PQresultErrorMessage(result)
                                                               : PQerrorMessage(conn_)),
          "; statement: ", std::string(sql.substr(0, 500)));
      out = Broken() ? absl::UnavailableError(message) : absl::InvalidArgumentError(message);
    }
    PQclear(result);
    return out;
  }

  PGconn* conn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectPostgres(const ConnectionParams& params) {
  std::string port = std::to_string(params.port);
  const char* keys[] = {"host",
                        "port",
                        "user",
                        "password",
                        "dbname",
                        "connect_timeout",
                        "client_encoding",
                        "application_name",
                        nullptr};
  const char* values[] = {params.host.c_str(),
                          port.c_str(),
                          params.user.c_str(),
                          params.password.c_str(),
                          params.database.empty() ? "postgres" : params.database.c_str(),
                          kConnectTimeoutSeconds,
                          "UTF8",
                          "sluice-testing",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/0);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("PQconnectdbParams returned null");
  }
  auto connection = std::make_unique<PostgresConnection>(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL at ", params.host, ":", params.port, " as ",
                     params.user, ": ", absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
  }
  PQsetNoticeProcessor(conn, &DropNotice, nullptr);
  return connection;
}

}  // namespace sluice::testing
