// SqlConnection over libmariadb.

#include <errmsg.h>
#include <mysql.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "tests/testing/sql_connection.h"

namespace sluice::testing {
namespace {

constexpr unsigned int kConnectTimeoutSeconds = 10;
constexpr unsigned int kReadWriteTimeoutSeconds = 120;

// mysql_library_init is not thread-safe; mysql_init would call it implicitly.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

bool IsConnectionError(unsigned int code) {
  return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONNECTION_ERROR ||
         code == CR_CONN_HOST_ERROR;
}

class MariaDbConnection final : public SqlConnection {
 public:
  explicit MariaDbConnection(MYSQL* mysql) : mysql_(mysql) {}
  ~MariaDbConnection() override { mysql_close(mysql_); }
  MariaDbConnection(const MariaDbConnection&) = delete;
  MariaDbConnection& operator=(const MariaDbConnection&) = delete;

  bool Broken() const override { return broken_; }

 private:
  absl::Status Error(std::string_view sql) {
    unsigned int code = mysql_errno(mysql_);
    std::string message =
        absl::StrCat("MariaDB error ", code, " (", mysql_sqlstate(mysql_),
                     "): ", mysql_error(mysql_), "; statement: ", std::string(sql.substr(0, 500)));
    if (IsConnectionError(code)) {
      broken_ = true;
      return absl::UnavailableError(message);
    }
    return absl::InvalidArgumentError(message);
  }

  // Runs `sql` and, when `rows` is set, stores the rows of the last result set into it. Always
  // drains every result so that the connection stays usable.
  absl::Status Run(std::string_view sql, std::vector<NullableRow>* rows) override {
    if (broken_) {
      return absl::UnavailableError("MariaDB connection is broken");
    }
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
      return Error(sql);
    }
    while (true) {
      MYSQL_RES* result = mysql_store_result(mysql_);
      if (result != nullptr) {
        if (rows != nullptr) {
          rows->clear();
          unsigned int columns = mysql_num_fields(result);
          while (MYSQL_ROW row = mysql_fetch_row(result)) {
            unsigned long* lengths = mysql_fetch_lengths(result);
            NullableRow& out = rows->emplace_back();
            out.reserve(columns);
            for (unsigned int i = 0; i < columns; ++i) {
              if (row[i] == nullptr) {
                out.emplace_back(std::nullopt);
              } else {
                out.emplace_back(std::string(row[i], lengths[i]));
              }
            }
          }
        }
        mysql_free_result(result);
      } else if (mysql_field_count(mysql_) != 0) {
        return Error(sql);
      }
      int next = mysql_next_result(mysql_);
      if (next < 0) {
        return absl::OkStatus();
      }
      if (next > 0) {
        return Error(sql);
      }
    }
  }

  MYSQL* mysql_;
  bool broken_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectMariaDb(const ConnectionParams& params) {
  InitLibraryOnce();
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) {
    return absl::ResourceExhaustedError("mysql_init failed");
  }
  auto connection = std::make_unique<MariaDbConnection>(mysql);
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &kConnectTimeoutSeconds);
  mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &kReadWriteTimeoutSeconds);
  mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &kReadWriteTimeoutSeconds);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // No option files are read (libmariadb reads them only when asked to): `params` is everything.
  const char* db = params.database.empty() ? nullptr : params.database.c_str();
  if (mysql_real_connect(mysql, params.host.c_str(), params.user.c_str(), params.password.c_str(),
                         db, static_cast<unsigned int>(params.port),
                         /*unix_socket=*/nullptr, CLIENT_MULTI_STATEMENTS) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot connect to MariaDB at ", params.host, ":",
                                               params.port, " as ", params.user, ": ",
                                               mysql_error(mysql)));
  }
  return connection;
}

}  // namespace sluice::testing
