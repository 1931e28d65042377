#include "protocol/pgclient/replication_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "protocol/pgclient/sql_error.h"

namespace sluice::pgclient {
namespace {

// The session settings that fix the text format of values (see the header).
constexpr char kSessionOptions[] =
    "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c timezone=UTC";

// libpq messages end in a newline and may span lines; errors here are one line.
std::string OneLine(const char* message) {
  std::string out;
  for (const char* p = message; p && *p; ++p) {
    if (*p == '\n' || *p == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += *p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool Contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

// Maps a libpq error to a status with a hint for the errors a user can fix.
absl::Status Classify(const std::string& where, const std::string& message) {
  const std::string full = absl::StrCat(where, ": ", message);
  if (Contains(message, "password authentication failed") ||
      Contains(message, "authentication failed")) {
    return absl::PermissionDeniedError(
        absl::StrCat(full, " (check the user and password of the source URL)"));
  }
  if (Contains(message, "no pg_hba.conf entry")) {
    return absl::PermissionDeniedError(absl::StrCat(
        full,
        " (add a \"host replication USER ADDRESS scram-sha-256\" line to pg_hba.conf and "
        "reload)"));
  }
  if (Contains(message, "must be superuser or replication role") ||
      Contains(message, "permission denied to start WAL sender") ||
      Contains(message, "REPLICATION attribute")) {
    return absl::PermissionDeniedError(
        absl::StrCat(full, " (run ALTER ROLE USER WITH REPLICATION as a superuser)"));
  }
  if (Contains(message, "logical decoding requires") || Contains(message, "wal_level")) {
    return absl::FailedPreconditionError(
        absl::StrCat(full, " (set wal_level = logical in postgresql.conf and restart the server)"));
  }
  if (Contains(message, "replication slot") && Contains(message, "does not exist")) {
    return absl::NotFoundError(absl::StrCat(
        full,
        " (the slot was dropped or lost; sluice never recreates it silently: re-snapshot "
        "with snapshot=when_needed, or create the slot and resnapshot by hand)"));
  }
  if (Contains(message, "can no longer get changes") || Contains(message, "invalidated")) {
    return absl::FailedPreconditionError(
        absl::StrCat(full,
                     " (the slot was invalidated, e.g. by max_slot_wal_keep_size; re-snapshot with "
                     "snapshot=when_needed)"));
  }
  if (Contains(message, "already exists")) return absl::AlreadyExistsError(full);
  if (Contains(message, "could not connect") || Contains(message, "Connection refused") ||
      Contains(message, "timeout expired") || Contains(message, "could not translate host")) {
    return absl::UnavailableError(
        absl::StrCat(full, " (is the server running and reachable at that address?)"));
  }
  return absl::UnavailableError(full);
}

// Maps a failed result: the known replication cases above by message (a source's next session
// looks at the slot again), everything else by its SQLSTATE (sql_error.h).
absl::Status ClassifyResult(const std::string& where, const PGresult* r, const char* user) {
  const std::string message = OneLine(PQresultErrorMessage(r));
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (state == nullptr || *state == '\0') return Classify(where, message);
  absl::Status known = Classify(where, message);
  if (!absl::IsUnavailable(known)) return WithSqlState(std::move(known), state);
  return SqlErrorStatus(where, state, message, user == nullptr ? "" : user);
}

// RAII for PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicationConnection>> ReplicationConnection::Connect(
    const ConnectParams& params) {
  const std::string port = std::to_string(params.port);
  const std::string timeout = std::to_string(params.connect_timeout.count());
  std::vector<const char*> keys;
  std::vector<const char*> values;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    keys.push_back(k);
    values.push_back(v.c_str());
  };
  add("host", params.host);
  add("port", port);
  add("user", params.user);
  add("password", params.password);
  add("dbname", params.database);
  add("sslmode", params.sslmode);
  add("sslrootcert", params.sslrootcert);
  add("connect_timeout", timeout);
  add("application_name", params.application_name);
  const std::string replication = params.replication ? "database" : "";
  const std::string options = kSessionOptions;
  const std::string encoding = "UTF8";
  add("replication", replication);
  add("options", options);
  add("client_encoding", encoding);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  const std::string describe =
      absl::StrCat("postgres at ", params.host, ":", params.port, "/", params.database);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return Classify(absl::StrCat("connecting to ", describe), message);
  }
  if (PQsetnonblocking(conn, 1) != 0) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::InternalError(absl::StrCat("making the connection non-blocking: ", message));
  }
  return std::unique_ptr<ReplicationConnection>(new ReplicationConnection(conn, describe));
}

ReplicationConnection::~ReplicationConnection() {
  FreeCopyRow();
  PQfinish(conn_);
}

int ReplicationConnection::server_major_version() const { return PQserverVersion(conn_) / 10000; }

absl::Status ReplicationConnection::Error(std::string_view what) const {
  return Classify(absl::StrCat(describe_, ": ", std::string(what)), OneLine(PQerrorMessage(conn_)));
}

absl::StatusOr<TextResult> ReplicationConnection::QueryText(const std::string& sql) {
  SLUICE_RETURN_IF_ERROR(NoCopyOpen(sql));
  Result r(PQexec(conn_, sql.c_str()));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return ClassifyResult(absl::StrCat(describe_, ": \"", sql.substr(0, 80), "\""), r.get(),
                          PQuser(conn_));
  }
  TextResult out;
  const int fields = PQnfields(r.get());
  for (int j = 0; j < fields; ++j) {
    out.names.emplace_back(PQfname(r.get(), j));
    out.type_oids.push_back(PQftype(r.get(), j));
  }
  const int n = PQntuples(r.get());
  out.rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto& row = out.rows.emplace_back();
    row.reserve(fields);
    for (int j = 0; j < fields; ++j) {
      if (PQgetisnull(r.get(), i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::in_place, PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j));
      }
    }
  }
  return out;
}

absl::StatusOr<uint64_t> ReplicationConnection::CopyOut(
    const std::string& sql, absl::FunctionRef<absl::Status(std::string_view row)> on_row) {
  SLUICE_RETURN_IF_ERROR(StartCopyOut(sql));
  uint64_t rows = 0;
  absl::Status failed;  // the first error of on_row; later rows are dropped
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string_view> row, NextCopyRow());
    if (!row) break;
    if (failed.ok()) failed = on_row(*row);
    ++rows;
  }
  if (!failed.ok()) return failed;
  return rows;
}

absl::Status ReplicationConnection::NoCopyOpen(const std::string& sql) const {
  if (!copy_open_) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      copy_what_, " is still being read: end it before \"", sql.substr(0, 80), "\""));
}

absl::Status ReplicationConnection::StartCopyOut(const std::string& sql) {
  SLUICE_RETURN_IF_ERROR(NoCopyOpen(sql));
  copy_what_ = absl::StrCat(describe_, ": \"", sql.substr(0, 80), "\"");
  Result r(PQexec(conn_, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COPY_OUT) {
    return ClassifyResult(copy_what_, r.get(), PQuser(conn_));
  }
  copy_open_ = true;
  return absl::OkStatus();
}

void ReplicationConnection::FreeCopyRow() {
  if (copy_row_ != nullptr) PQfreemem(copy_row_);
  copy_row_ = nullptr;
}

absl::StatusOr<std::optional<std::string_view>> ReplicationConnection::NextCopyRow() {
  FreeCopyRow();
  if (!copy_open_) return absl::FailedPreconditionError(absl::StrCat(describe_, ": no COPY open"));
  const int n = PQgetCopyData(conn_, &copy_row_, /*async=*/0);
  if (n > 0) return std::string_view(copy_row_, static_cast<size_t>(n));
  copy_open_ = false;
  if (n == -2) return Error("reading COPY data");
  // -1: the copy is complete; its outcome is in the results that follow.
  absl::Status outcome;
  while (PGresult* raw = PQgetResult(conn_)) {
    Result r(raw);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && outcome.ok()) {
      outcome = ClassifyResult(copy_what_, r.get(), PQuser(conn_));
    }
  }
  if (!outcome.ok()) return outcome;
  return std::nullopt;
}

absl::StatusOr<bool> ReplicationConnection::EndCopyOut() {
  FreeCopyRow();
  if (!copy_open_) return false;
  // The server stops at its next row; until then its rows are read and dropped (without the
  // cancel, the rest of the copy).
  if (PGcancel* cancel = PQgetCancel(conn_)) {
    char error[256];
    PQcancel(cancel, error, sizeof error);  // if it fails, the copy runs to its end
    PQfreeCancel(cancel);
  }
  for (;;) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn_, &buffer, /*async=*/0);
    if (n > 0) {
      PQfreemem(buffer);
      continue;
    }
    if (n == -2) {
      copy_open_ = false;
      return Error("ending a COPY");
    }
    break;
  }
  copy_open_ = false;
  bool cancelled = false;
  while (PGresult* raw = PQgetResult(conn_)) {
    Result r(raw);
    const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string_view(state) == "57014") cancelled = true;  // query_canceled
  }
  return cancelled;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ReplicationConnection::Query(
    const std::string& sql) {
  SLUICE_RETURN_IF_ERROR(NoCopyOpen(sql));
  // A non-blocking connection still allows PQexec: it waits for the whole result.
  Result r(PQexec(conn_, sql.c_str()));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return ClassifyResult(absl::StrCat(describe_, ": \"", sql.substr(0, 80), "\""), r.get(),
                          PQuser(conn_));
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j) {
      row.push_back(PQgetisnull(r.get(), i, j) ? "\\N" : PQgetvalue(r.get(), i, j));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<SystemIdentity> ReplicationConnection::IdentifySystem() {
  SLUICE_ASSIGN_OR_RETURN(auto rows, Query("IDENTIFY_SYSTEM"));
  if (rows.size() != 1 || rows[0].size() < 4) {
    return absl::DataLossError(absl::StrCat(describe_, ": IDENTIFY_SYSTEM returned ", rows.size(),
                                            " rows; expected 1 row of 4 columns"));
  }
  SystemIdentity id;
  char* end = nullptr;
  id.system_id = std::strtoull(rows[0][0].c_str(), &end, 10);
  id.timeline = static_cast<uint32_t>(std::strtoul(rows[0][1].c_str(), &end, 10));
  SLUICE_ASSIGN_OR_RETURN(id.xlogpos, ParseLsn(rows[0][2]));
  id.database = rows[0][3];
  return id;
}

absl::StatusOr<CreatedSlot> ReplicationConnection::CreateSlot(const std::string& name,
                                                              bool export_snapshot) {
  std::string sql =
      absl::StrCat("CREATE_REPLICATION_SLOT ", QuoteIdentifier(name), " LOGICAL pgoutput");
  if (server_major_version() >= 15) {
    absl::StrAppend(&sql, export_snapshot ? " (SNAPSHOT 'export')" : " (SNAPSHOT 'nothing')");
  } else {
    absl::StrAppend(&sql, export_snapshot ? " EXPORT_SNAPSHOT" : " NOEXPORT_SNAPSHOT");
  }
  SLUICE_ASSIGN_OR_RETURN(auto rows, Query(sql));
  if (rows.size() != 1 || rows[0].size() < 3) {
    return absl::DataLossError(
        absl::StrCat(describe_, ": CREATE_REPLICATION_SLOT returned an unexpected result"));
  }
  CreatedSlot slot;
  slot.name = rows[0][0];
  SLUICE_ASSIGN_OR_RETURN(slot.consistent_point, ParseLsn(rows[0][1]));
  if (rows[0][2] != "\\N") slot.snapshot_name = rows[0][2];
  return slot;
}

absl::StatusOr<SlotState> ReplicationConnection::GetSlot(const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(
      auto rows,
      Query(absl::StrCat("SELECT plugin, restart_lsn, confirmed_flush_lsn, wal_status, active "
                         "FROM pg_replication_slots WHERE slot_name = ",
                         QuoteLiteral(name))));
  SlotState state;
  if (rows.empty()) return state;
  state.exists = true;
  state.plugin = rows[0][0];
  if (rows[0][1] != "\\N") {
    SLUICE_ASSIGN_OR_RETURN(state.restart_lsn, ParseLsn(rows[0][1]));
  }
  if (rows[0][2] != "\\N") {
    SLUICE_ASSIGN_OR_RETURN(state.confirmed_flush_lsn, ParseLsn(rows[0][2]));
  }
  state.wal_status = rows[0][3] == "\\N" ? "" : rows[0][3];
  state.active = rows[0][4] == "t";
  return state;
}

absl::Status ReplicationConnection::StartReplication(
    const std::string& slot, Lsn start,
    const std::vector<std::pair<std::string, std::string>>& options) {
  std::string sql =
      absl::StrCat("START_REPLICATION SLOT ", QuoteIdentifier(slot), " LOGICAL ", FormatLsn(start));
  if (!options.empty()) {
    sql += " (";
    for (size_t i = 0; i < options.size(); ++i) {
      if (i) sql += ", ";
      absl::StrAppend(&sql, QuoteIdentifier(options[i].first), " ",
                      QuoteLiteral(options[i].second));
    }
    sql += ")";
  }
  Result r(PQexec(conn_, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
    return ClassifyResult(absl::StrCat(describe_, ": START_REPLICATION of slot \"", slot, "\""),
                          r.get(), PQuser(conn_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ReplicationConnection::ReadCopyData(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn_, &buffer, /*async=*/1);
    if (n > 0) {
      std::string message(buffer, static_cast<size_t>(n));
      PQfreemem(buffer);
      return std::optional<std::string>(std::move(message));
    }
    if (n == -1) {
      // The server ended the stream; its reason is in the final result.
      Result r(PQgetResult(conn_));
      const std::string where = absl::StrCat(describe_, ": replication stream ended");
      if (r && PQresultStatus(r.get()) == PGRES_FATAL_ERROR) {
        return ClassifyResult(where, r.get(), PQuser(conn_));
      }
      std::string message = r ? OneLine(PQresultErrorMessage(r.get())) : "";
      if (message.empty()) message = "the server ended the replication stream";
      return Classify(where, message);
    }
    if (n == -2) return Error("reading the replication stream");
    // n == 0: nothing complete yet; wait for the socket.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<std::string>();
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    const int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    const int rc = poll(&pfd, 1, std::max(wait_ms, 1));
    if (rc < 0 && errno != EINTR)
      return absl::UnavailableError("poll on the replication socket failed");
    if (rc > 0 && PQconsumeInput(conn_) == 0) return Error("reading the replication stream");
  }
}

absl::Status ReplicationConnection::SendCopyData(std::string_view message) {
  if (PQputCopyData(conn_, message.data(), static_cast<int>(message.size())) != 1) {
    return Error("sending to the replication stream");
  }
  for (;;) {
    const int rc = PQflush(conn_);
    if (rc == 0) return absl::OkStatus();
    if (rc < 0) return Error("flushing the replication stream");
    pollfd pfd{PQsocket(conn_), POLLOUT, 0};
    poll(&pfd, 1, 1000);
  }
}

std::string ReplicationConnection::QuoteLiteral(const std::string& s) const {
  char* q = PQescapeLiteral(conn_, s.c_str(), s.size());
  if (q == nullptr) return "''";
  std::string out(q);
  PQfreemem(q);
  return out;
}

std::string ReplicationConnection::QuoteIdentifier(const std::string& s) const {
  char* q = PQescapeIdentifier(conn_, s.c_str(), s.size());
  if (q == nullptr) return "\"\"";
  std::string out(q);
  PQfreemem(q);
  return out;
}

}  // namespace sluice::pgclient
