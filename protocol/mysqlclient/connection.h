#pragma once
// MysqlConnection: a blocking MySQL/MariaDB client connection over Boost.Asio, enough to pose as
// a replica: handshake, TLS, authentication, simple text queries, COM_REGISTER_SLAVE and
// COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID, then one binlog event per ReadBinlogEvent call. Codecs
// live in mysql_wire (packet.h, handshake.h, messages.h); the byte stream (plain or TLS) is
// transport.h; this file only sequences packets.
//
// TLS (ConnectOptions::tls): after the server's handshake the client sends an SSLRequest and runs
// the TLS handshake (OpenSSL, TLS 1.2+) when the mode asks for it and the server advertises
// CLIENT_SSL; the login then continues encrypted. See TlsMode for what each mode checks.
//
// Authentication: mysql_native_password; caching_sha2_password, fast path and full
// authentication (over TLS the password is sent in clear through the encrypted channel, over
// plain TCP it is RSA-encrypted with the public key the server sends on request);
// sha256_password likewise; MariaDB's client_ed25519; auth switch requests between all of these
// (auth.h). Other plugins give Unimplemented naming the plugin.
//
// Every call blocks the calling thread for at most its timeout. Errors:
//   Unavailable       TCP connect failed (refused, unreachable), the server closed the socket,
//                     or the TLS handshake failed for a reason other than the certificate.
//   DeadlineExceeded  the timeout passed. After a timed-out *read* the connection is still
//                     usable, over TLS too (bytes of a partial message are kept; ReadBinlogEvent
//                     may simply be called again). After a timed-out write, or a timed-out Query
//                     or RegisterReplica (whose late reply could be mistaken for the next one's),
//                     it is broken.
//   PermissionDenied  the server refused the login or a command for lack of privileges; the
//                     message holds the server's error code, SQL state and message.
//   FailedPrecondition  the TLS mode requires TLS but the server offers none, or the server's
//                     certificate failed verification (the message says why and what to do).
//   InvalidArgument   tls_ca_file cannot be loaded; the password is too long for RSA.
//   Unimplemented     the server asked for an authentication plugin sluice does not support.
//   (IsLoginRefused tells a refused login, which retrying cannot heal, from the rest.)
//   other             server ERR packets map as in messages.h ErrToStatus; malformed peer
//                     bytes give DataLoss.
// After an I/O error, a write timeout or DataLoss the connection is broken and every later call
// returns FailedPrecondition.
//
// Thread-safety: none. Use one connection from one thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "protocol/mysql/gtid_set.h"
#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/messages.h"

namespace sluice::mysqlclient {

// How the connection uses TLS (mirrors the mysql client's --ssl-mode).
//   kDisabled        plain TCP even if the server offers TLS.
//   kPreferred       TLS if the server offers it (CLIENT_SSL), else plain; no certificate check.
//   kRequired        TLS or fail; no certificate check.
//   kVerifyCa        TLS, and the server's chain must verify against tls_ca_file (or the
//                    system store when tls_ca_file is empty).
//   kVerifyIdentity  as kVerifyCa, and the certificate must also name the host (DNS name or IP
//                    address in subjectAltName).
enum class TlsMode { kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };

// "disabled", "preferred", "required", "verify_ca", "verify_identity".
std::string_view TlsModeName(TlsMode mode);
// The inverse of TlsModeName (case-insensitive; '-' may stand for '_'). InvalidArgument
// listing the valid names otherwise.
absl::StatusOr<TlsMode> ParseTlsMode(std::string_view name);

// Everything Connect needs. `timeout` bounds the TCP connect and each handshake step, and
// becomes the per-call timeout of later commands (see set_io_timeout).
struct ConnectOptions {
  std::string host;
  uint16_t port = 3306;
  std::string user;
  std::string password;
  absl::Duration timeout = absl::Seconds(10);
  TlsMode tls = TlsMode::kPreferred;
  // PEM file of trusted CA certificates; required for kVerifyCa / kVerifyIdentity unless the
  // system store should be used (empty = system store).
  std::string tls_ca_file;
};

// True for an error from MysqlConnection::Connect that another try with the same user and
// password meets again: the server refused the login (1045 access denied: a wrong password or
// no such user@host; 1698 access denied without a password check, e.g. unix_socket over TCP;
// 1130 host not allowed; 1251 or 1524, the account's plugin is not available), or it asked for
// an authentication plugin sluice does not support (Unimplemented). The status keeps the server
// error code (MysqlErrorCode). False for every other status: connect refused, timeouts, 1040
// too many connections, an interrupted TLS handshake, a closed socket.
bool IsLoginRefused(const absl::Status& status);

class MysqlConnection {
 public:
  // Connects over TCP to options.host:port within `options.timeout`, negotiates TLS as
  // options.tls says, then performs the handshake and authentication (each read/write step
  // within the timeout too).
  static absl::StatusOr<std::unique_ptr<MysqlConnection>> Connect(const ConnectOptions& options);

  // Same as Connect(ConnectOptions{host, port, user, password, timeout, tls}).
  static absl::StatusOr<std::unique_ptr<MysqlConnection>> Connect(
      const std::string& host, uint16_t port, const std::string& user, const std::string& password,
      absl::Duration timeout, TlsMode tls = TlsMode::kDisabled);

  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // The server's Handshake v10 (version, connection id, capabilities, ...).
  const Handshake& handshake() const { return handshake_; }
  // Whether the session runs over TLS, and "TLSv1.3 TLS_AES_256_GCM_SHA384" (or "plain").
  bool tls_active() const;
  std::string tls_description() const;
  // The authentication plugin that completed the login (after any auth switch).
  const std::string& auth_plugin() const { return auth_plugin_; }
  // Timeout for each later command (not ReadBinlogEvent, which takes its own).
  void set_io_timeout(absl::Duration timeout) { io_timeout_ = timeout; }

  // Runs one statement with COM_QUERY and returns its text result set (rows of nullable
  // strings), or ResultSet::ok for statements without one. FailedPrecondition once a binlog dump
  // has started on this connection.
  absl::StatusOr<ResultSet> Query(std::string_view sql);
  // Query for large results: each row's payload (ParseTextRowView reads it) goes to `on_row`
  // as it arrives, after the column definitions are in `columns`, instead of being collected;
  // memory is one row. An error from `on_row` is returned after the rest of the result has
  // been read and dropped, so the session stays usable.
  absl::Status QueryStream(std::string_view sql, std::vector<ColumnDefinition>& columns,
                           absl::FunctionRef<absl::Status(std::string_view row)> on_row);

  // QueryStream over the binary protocol: COM_STMT_PREPARE `sql` (which must have no `?`
  // parameters), COM_STMT_EXECUTE, then COM_STMT_CLOSE. Each row is a binary_row payload
  // (ParseBinaryRowView reads it): the server sends integers, floats and temporals without
  // formatting them as text. Errors as QueryStream; InvalidArgument if `sql` has parameters.
  // When the server refuses to prepare the statement (its ERR to COM_STMT_PREPARE, e.g. at
  // max_prepared_stmt_count), that error is returned and `*prepare_refused` (if not null) set;
  // the session stays usable (the caller may run the same SQL with QueryStream).
  absl::Status QueryStreamBinary(std::string_view sql, std::vector<ColumnDefinition>& columns,
                                 absl::FunctionRef<absl::Status(std::string_view row)> on_row,
                                 bool* prepare_refused = nullptr);

  // COM_REGISTER_SLAVE with `server_id` (host, user, password empty; port 0; rank 0).
  absl::Status RegisterReplica(uint32_t server_id);

  // Sends COM_BINLOG_DUMP from `file`:`position`. The server's answer (events, or an ERR such as
  // "Could not find first log file") arrives through ReadBinlogEvent. After this the connection
  // only streams events.
  absl::Status StartBinlogDump(std::string_view file, uint32_t position, uint32_t server_id);

  // MySQL 5.6+ only: sends COM_BINLOG_DUMP_GTID asking for every transaction not in `executed`
  // (tagged GTIDs need MySQL 8.3+). As StartBinlogDump, the answer arrives through
  // ReadBinlogEvent (e.g. ERR 1236 "the source has purged binary logs containing GTIDs that the
  // replica requires" as FailedPrecondition). MariaDB has no such command: it starts GTID dumps
  // with SET @slave_connect_state='...' and StartBinlogDump.
  absl::Status StartBinlogDumpGtid(const mysql::GtidSet& executed, uint32_t server_id);

  // The next whole binlog event (header through checksum, without the leading 0x00 byte).
  // OutOfRange when the server ends the stream with EOF; server ERR packets as ErrToStatus
  // (1236 "binlog purged / not found" is FailedPrecondition); DeadlineExceeded after `timeout`.
  absl::StatusOr<std::string> ReadBinlogEvent(absl::Duration timeout);

 private:
  struct Io;
  MysqlConnection();

  // Reads the server's handshake, negotiates TLS, and logs in.
  absl::Status Login(const ConnectOptions& options);
  // Sends the SSLRequest and runs the TLS handshake.
  absl::Status NegotiateTls(const ConnectOptions& options, const HandshakeResponse& resp);
  absl::Status WritePayload(std::string_view payload, absl::Duration timeout);
  absl::Status SendCommand(std::string_view payload);
  absl::StatusOr<std::string> ReadPayload(absl::Duration timeout);
  // As ReadPayload, as a view valid until the next read on this connection (QueryStream's rows).
  absl::StatusOr<std::string_view> ReadPayloadView(absl::Duration timeout);
  absl::Status CheckUsable() const;
  absl::Status Broken(absl::Status st);
  // Reads the result set of the command just sent, handing each row to `on_row` as a view of
  // the received bytes (no copy per row); `columns` gets its columns. Returns on_row's first
  // error (later rows are read and dropped) or the server's error, with the session fine; or,
  // with `broken` set, the error of a session that can no longer be used.
  absl::Status StreamResultSet(std::vector<ColumnDefinition>& columns,
                               absl::FunctionRef<absl::Status(std::string_view row)> on_row,
                               bool& broken);

  std::unique_ptr<Io> io_;
  Handshake handshake_;
  std::string auth_plugin_;
  uint8_t seq_ = 0;  // sequence id of the next packet we send
  absl::Duration io_timeout_ = absl::Seconds(30);
  bool dumping_ = false;
  absl::Status broken_;
};

}  // namespace sluice::mysqlclient
