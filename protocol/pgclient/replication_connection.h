#pragma once
// ReplicationConnection: a libpq connection in logical replication mode (replication=database).
//
// It speaks the replication commands (IDENTIFY_SYSTEM, CREATE_REPLICATION_SLOT,
// START_REPLICATION) and, once streaming, hands whole CopyData messages to the caller; decoding
// them is protocol/postgres's job. Session settings are pinned at connect time because text
// values are formatted with them: datestyle=ISO, intervalstyle=postgres, extra_float_digits=3,
// timezone=UTC, client_encoding=UTF8.
//
// Thread-compatible: use one connection from one thread at a time (the source's own thread).
// Errors name the server, the command and the fix where one is known. An error the server
// reported carries its SQLSTATE; whether running the statement again can succeed is decided by
// it (sql_error.h: Unavailable when it may, a code marked IsPermanentSqlError when not).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "proto/base/positions.h"

struct pg_conn;

namespace sluice::pgclient {

struct ConnectParams {
  std::string host = "127.0.0.1";
  uint16_t port = 5432;
  std::string user;
  std::string password;
  std::string database;
  std::string sslmode =
      "prefer";             // passed through: disable|allow|prefer|require|verify-ca|verify-full
  std::string sslrootcert;  // CA file for verify-ca / verify-full
  std::chrono::seconds connect_timeout{10};
  std::string application_name = "sluice";
  // false: an ordinary SQL session (snapshot reads) with the same pinned settings.
  bool replication = true;
};

// A query result in text format, NULL kept apart from text.
struct TextResult {
  std::vector<std::string> names;
  std::vector<uint32_t> type_oids;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

struct SystemIdentity {
  uint64_t system_id = 0;
  uint32_t timeline = 0;
  Lsn xlogpos;
  std::string database;
};

struct CreatedSlot {
  std::string name;
  Lsn consistent_point;
  std::string snapshot_name;  // empty unless an exported snapshot was asked for
};

struct SlotState {
  bool exists = false;
  std::string plugin;
  Lsn restart_lsn;
  Lsn confirmed_flush_lsn;
  std::string wal_status;  // "reserved", "extended", "unreserved", "lost"
  bool active = false;
};

class ReplicationConnection {
 public:
  // Connects and pins the session settings. Unavailable when the server cannot be reached,
  // PermissionDenied for authentication or a missing REPLICATION privilege.
  static absl::StatusOr<std::unique_ptr<ReplicationConnection>> Connect(
      const ConnectParams& params);
  ~ReplicationConnection();

  absl::StatusOr<SystemIdentity> IdentifySystem();
  // The major server version, e.g. 15.
  int server_major_version() const;

  // CREATE_REPLICATION_SLOT name LOGICAL pgoutput, optionally exporting a snapshot (which stays
  // valid only until the next command on this connection).
  absl::StatusOr<CreatedSlot> CreateSlot(const std::string& name, bool export_snapshot);
  // Reads pg_replication_slots (allowed on a replication=database connection).
  absl::StatusOr<SlotState> GetSlot(const std::string& name);

  // START_REPLICATION SLOT slot LOGICAL start (options...). `options` are rendered as
  // key 'value' pairs. NotFound naming the slot when it does not exist.
  absl::Status StartReplication(const std::string& slot, Lsn start,
                                const std::vector<std::pair<std::string, std::string>>& options);

  // Waits up to `timeout` for the next CopyData message. nullopt on timeout. FailedPrecondition
  // with the server's message when the stream ends (slot dropped, server shutting down).
  absl::StatusOr<std::optional<std::string>> ReadCopyData(std::chrono::milliseconds timeout);
  // Sends one CopyData message (a standby status update) and flushes it.
  absl::Status SendCopyData(std::string_view message);

  // Runs a simple query and returns its result with column names and type OIDs.
  absl::StatusOr<TextResult> QueryText(const std::string& sql);

  // Runs `sql`, a COPY ... TO STDOUT, and hands each row (one CopyData message, with its
  // newline in text format) to `on_row` as it arrives, so memory is one row. An error from
  // `on_row` is returned after the rest of the copy has been read and dropped (the session
  // stays usable). Returns the number of rows.
  absl::StatusOr<uint64_t> CopyOut(const std::string& sql,
                                   absl::FunctionRef<absl::Status(std::string_view row)> on_row);

  // The same COPY read by the caller one row at a time, for a reader that takes a long copy in
  // parts and may stop between rows. StartCopyOut runs `sql`; NextCopyRow returns each row (one
  // CopyData message, valid until the next call on this connection), then nullopt once the
  // copy is complete and succeeded, or the server's error. Memory is one row: libpq reads one
  // message at a time, and TCP holds the server back while the caller does not read.
  // Until the copy is over (NextCopyRow returned nullopt or an error, or EndCopyOut), the session
  // takes no other command: Query, QueryText, CopyOut and StartCopyOut return FailedPrecondition.
  absl::Status StartCopyOut(const std::string& sql);
  absl::StatusOr<std::optional<std::string_view>> NextCopyRow();
  // Ends the open copy early: asks the server to cancel it (PQcancel), drops the rows still on
  // their way and reads the outcome, so that the session takes the next command. True when the
  // server cancelled the copy, false when it was over already (or none was open). A cancelled
  // copy inside a transaction block aborts the transaction: roll back to a savepoint taken
  // before StartCopyOut to go on with it. An error only when the connection broke.
  absl::StatusOr<bool> EndCopyOut();
  bool copy_open() const { return copy_open_; }

  // Runs a simple query and returns its rows as text ("\N" for NULL).
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(const std::string& sql);

  // Quotes a string literal / identifier for the simple query protocol.
  std::string QuoteLiteral(const std::string& s) const;
  std::string QuoteIdentifier(const std::string& s) const;

  const std::string& describe() const { return describe_; }  // "postgres at host:port/db"

 private:
  ReplicationConnection(pg_conn* conn, std::string describe)
      : conn_(conn), describe_(std::move(describe)) {}
  absl::Status Error(std::string_view what) const;
  void FreeCopyRow();
  // FailedPrecondition while a copy is open (running `sql` would read and drop its rest).
  absl::Status NoCopyOpen(const std::string& sql) const;

  pg_conn* conn_;  // owned
  std::string describe_;
  bool copy_open_ = false;     // StartCopyOut ran and the copy is not over
  char* copy_row_ = nullptr;   // the row NextCopyRow returned last (libpq's, PQfreemem)
  std::string copy_what_;      // the open copy's description, for its errors
};

}  // namespace sluice::pgclient
