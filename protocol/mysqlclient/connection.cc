#include "protocol/mysqlclient/connection.h"

#include <array>
#include <cctype>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "protocol/mysqlclient/auth.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/packet.h"
#include "protocol/mysqlclient/transport.h"

namespace sluice::mysqlclient {

struct MysqlConnection::Io {
  Transport transport;
  PacketAssembler assembler;
  std::array<char, 64 * 1024> buf;
  std::string scratch;  // a payload of several packets, joined (ReadPayloadView)
};

namespace {

constexpr std::array<std::pair<TlsMode, std::string_view>, 5> kTlsModeNames = {{
    {TlsMode::kDisabled, "disabled"},
    {TlsMode::kPreferred, "preferred"},
    {TlsMode::kRequired, "required"},
    {TlsMode::kVerifyCa, "verify_ca"},
    {TlsMode::kVerifyIdentity, "verify_identity"},
}};

// Authentication takes a handful of round trips; more means a confused or hostile server.
constexpr int kMaxAuthRoundTrips = 8;

}  // namespace

std::string_view TlsModeName(TlsMode mode) {
  for (const auto& [m, name] : kTlsModeNames) {
    if (m == mode) return name;
  }
  return "unknown";
}

absl::StatusOr<TlsMode> ParseTlsMode(std::string_view name) {
  std::string norm;
  for (char c : name) norm.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(c)));
  for (const auto& [m, n] : kTlsModeNames) {
    if (n == norm) return m;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown TLS mode '", std::string(name),
                   "'; use disabled, preferred, required, verify_ca or verify_identity"));
}

MysqlConnection::MysqlConnection() : io_(std::make_unique<Io>()) {}

MysqlConnection::~MysqlConnection() = default;

bool MysqlConnection::tls_active() const { return io_->transport.tls(); }

std::string MysqlConnection::tls_description() const { return io_->transport.TlsDescription(); }

absl::Status MysqlConnection::CheckUsable() const {
  if (!broken_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("MySQL connection is broken by an earlier error: ", broken_.ToString()));
  }
  return absl::OkStatus();
}

absl::Status MysqlConnection::Broken(absl::Status st) {
  if (broken_.ok()) broken_ = st;
  io_->transport.Close();
  return st;
}

absl::Status MysqlConnection::WritePayload(std::string_view payload, absl::Duration timeout) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  std::string bytes = EncodePackets(payload, seq_, &seq_);
  io_->assembler.set_expected_seq(seq_);
  absl::Status st = io_->transport.WriteAll(bytes, DeadlineAfter(timeout));
  if (absl::IsDeadlineExceeded(st)) {
    return Broken(absl::DeadlineExceededError(absl::StrCat("writing a ", payload.size(),
                                                           "-byte MySQL packet timed out after ",
                                                           absl::FormatDuration(timeout))));
  }
  if (!st.ok()) return Broken(st);
  return absl::OkStatus();
}

absl::Status MysqlConnection::SendCommand(std::string_view payload) {
  seq_ = 0;
  return WritePayload(payload, io_timeout_);
}

absl::StatusOr<std::string> MysqlConnection::ReadPayload(absl::Duration timeout) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  Clock::time_point deadline = DeadlineAfter(timeout);
  while (true) {
    absl::StatusOr<std::optional<std::string>> next = io_->assembler.Next();
    if (!next.ok()) return Broken(next.status());
    if (next->has_value()) {
      seq_ = io_->assembler.expected_seq();
      return std::move(**next);
    }
    absl::StatusOr<size_t> got = io_->transport.ReadSome(io_->buf, deadline);
    if (absl::IsDeadlineExceeded(got.status())) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no whole MySQL packet from the server within ", absl::FormatDuration(timeout)));
    }
    if (!got.ok()) return Broken(got.status());
    io_->assembler.Feed(std::string_view(io_->buf.data(), *got));
  }
}

absl::StatusOr<std::string_view> MysqlConnection::ReadPayloadView(absl::Duration timeout) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  std::optional<Clock::time_point> deadline;  // from the first read of the socket
  while (true) {
    absl::StatusOr<std::optional<std::string_view>> next = io_->assembler.NextView(io_->scratch);
    if (!next.ok()) return Broken(next.status());
    if (next->has_value()) {
      seq_ = io_->assembler.expected_seq();
      return **next;
    }
    if (!deadline) deadline = DeadlineAfter(timeout);
    absl::StatusOr<size_t> got = io_->transport.ReadSome(io_->buf, *deadline);
    if (absl::IsDeadlineExceeded(got.status())) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no whole MySQL packet from the server within ", absl::FormatDuration(timeout)));
    }
    if (!got.ok()) return Broken(got.status());
    io_->assembler.Feed(std::string_view(io_->buf.data(), *got));
  }
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlConnection::Connect(
    const std::string& host, uint16_t port, const std::string& user, const std::string& password,
    absl::Duration timeout, TlsMode tls) {
  ConnectOptions options;
  options.host = host;
  options.port = port;
  options.user = user;
  options.password = password;
  options.timeout = timeout;
  options.tls = tls;
  return Connect(options);
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlConnection::Connect(
    const ConnectOptions& options) {
  std::unique_ptr<MysqlConnection> c(new MysqlConnection());
  c->io_timeout_ = options.timeout;
  if (absl::Status st = c->io_->transport.Connect(options.host, options.port, options.timeout);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = c->Login(options); !st.ok()) {
    // WithContext keeps the server error code and the login-refused mark.
    return WithContext(st, absl::StrCat("connecting to ", options.host, ":", options.port,
                                        " as '", options.user, "': "));
  }
  return c;
}

namespace {

constexpr char kLoginRefusedPayload[] = "sluice/mysql-login-refused";

// `st` marked for IsLoginRefused when it is the server refusing these credentials (or asking
// for a plugin sluice lacks); other statuses unchanged.
absl::Status MarkLoginRefused(absl::Status st) {
  bool refused = absl::IsUnimplemented(st);
  if (std::optional<uint16_t> code = MysqlErrorCode(st)) {
    switch (*code) {
      case 1045:  // ER_ACCESS_DENIED_ERROR
      case 1130:  // ER_HOST_NOT_PRIVILEGED
      case 1251:  // ER_NOT_SUPPORTED_AUTH_MODE
      case 1524:  // ER_PLUGIN_IS_NOT_LOADED
      case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
        refused = true;
        break;
      default:
        break;
    }
  }
  if (refused) st.SetPayload(kLoginRefusedPayload, absl::Cord("1"));
  return st;
}

}  // namespace

bool IsLoginRefused(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kLoginRefusedPayload).has_value();
}

absl::Status MysqlConnection::Login(const ConnectOptions& options) {
  io_->assembler.set_expected_seq(0);
  absl::StatusOr<std::string> hello = ReadPayload(options.timeout);
  if (!hello.ok()) return hello.status();
  if (IsErrPacket(*hello)) return Broken(MarkLoginRefused(ErrPayloadToStatus(*hello)));
  absl::StatusOr<Handshake> hs = ParseHandshake(*hello);
  if (!hs.ok()) return Broken(hs.status());
  handshake_ = *std::move(hs);

  HandshakeResponse resp;
  resp.capabilities =
      (kClientLongPassword | kClientLongFlag | kClientTransactions) & handshake_.capabilities;
  bool offered = (handshake_.capabilities & kClientSsl) != 0;
  bool use_tls = options.tls != TlsMode::kDisabled && offered;
  if (!offered && options.tls != TlsMode::kDisabled && options.tls != TlsMode::kPreferred) {
    return Broken(absl::FailedPreconditionError(
        absl::StrCat("the server does not offer TLS (tls=", std::string(TlsModeName(options.tls)),
                     "); enable ssl on the server or use tls=preferred/disabled")));
  }
  if (use_tls) {
    resp.capabilities |= kClientSsl;
    if (absl::Status st = NegotiateTls(options, resp); !st.ok()) return st;
  }

  AuthExchange auth(options.password, use_tls);
  resp.user = options.user;
  resp.auth_plugin_name = std::string(AuthExchange::InitialPlugin(handshake_.auth_plugin_name));
  absl::StatusOr<std::string> first =
      auth.Start(resp.auth_plugin_name, handshake_.auth_plugin_data);
  if (!first.ok()) return Broken(MarkLoginRefused(first.status()));
  resp.auth_response = *std::move(first);
  if (absl::Status st = WritePayload(EncodeHandshakeResponse(resp), options.timeout); !st.ok()) {
    return st;
  }
  for (int round = 0; round < kMaxAuthRoundTrips; ++round) {
    absl::StatusOr<std::string> p = ReadPayload(options.timeout);
    if (!p.ok()) return Broken(p.status());
    absl::StatusOr<AuthExchange::Reply> reply = auth.OnServerPacket(*p);
    if (!reply.ok()) return Broken(MarkLoginRefused(reply.status()));
    if (reply->done) {
      auth_plugin_ = auth.plugin();
      return absl::OkStatus();
    }
    if (reply->send.has_value()) {
      if (absl::Status st = WritePayload(*reply->send, options.timeout); !st.ok()) return st;
    }
  }
  return Broken(absl::DataLossError("too many authentication round trips"));
}

absl::Status MysqlConnection::NegotiateTls(const ConnectOptions& options,
                                           const HandshakeResponse& resp) {
  if (absl::Status st = WritePayload(EncodeSslRequest(resp), options.timeout); !st.ok()) {
    return st;
  }
  TlsSettings settings;
  settings.verify_chain =
      options.tls == TlsMode::kVerifyCa || options.tls == TlsMode::kVerifyIdentity;
  settings.verify_identity = options.tls == TlsMode::kVerifyIdentity;
  settings.ca_file = options.tls_ca_file;
  settings.host = options.host;
  absl::Status st = io_->transport.StartTls(settings, options.timeout);
  if (!st.ok()) return Broken(st);
  return absl::OkStatus();
}

absl::StatusOr<ResultSet> MysqlConnection::Query(std::string_view sql) {
  if (dumping_) {
    return absl::FailedPreconditionError("cannot run a query on a connection streaming binlogs");
  }
  if (absl::Status st = SendCommand(EncodeComQuery(sql)); !st.ok()) return st;
  TextResultSetReader reader;
  while (true) {
    absl::StatusOr<std::string> p = ReadPayload(io_timeout_);
    if (!p.ok()) return Broken(p.status());  // a late reply would be taken for the next one's
    absl::StatusOr<bool> done = reader.Add(*p);
    if (!done.ok()) {
      if (IsErrPacket(*p)) return done.status();  // the server's error; the session is fine
      return Broken(done.status());
    }
    if (*done) return std::move(reader.result());
  }
}

absl::Status MysqlConnection::QueryStream(
    std::string_view sql, std::vector<ColumnDefinition>& columns,
    absl::FunctionRef<absl::Status(std::string_view row)> on_row) {
  if (dumping_) {
    return absl::FailedPreconditionError("cannot run a query on a connection streaming binlogs");
  }
  if (absl::Status st = SendCommand(EncodeComQuery(sql)); !st.ok()) return st;
  bool broken = false;
  return StreamResultSet(columns, on_row, broken);
}

absl::Status MysqlConnection::StreamResultSet(
    std::vector<ColumnDefinition>& columns,
    absl::FunctionRef<absl::Status(std::string_view row)> on_row, bool& broken) {
  broken = false;
  TextResultSetReader reader;  // text rows, or binary_row payloads: the same framing
  absl::Status failed;         // the first error of on_row; later rows are dropped
  bool first = true;
  reader.StreamRows([&](std::string_view row) {
    if (first) columns = reader.result().columns;
    first = false;
    if (failed.ok()) failed = on_row(row);
    return absl::OkStatus();
  });
  while (true) {
    absl::StatusOr<std::string_view> p = ReadPayloadView(io_timeout_);
    if (!p.ok()) {
      broken = true;
      return Broken(p.status());
    }
    absl::StatusOr<bool> done = reader.Add(*p);
    if (!done.ok()) {
      if (IsErrPacket(*p)) return done.status();  // the server's error; the session is fine
      broken = true;
      return Broken(done.status());
    }
    if (*done) {
      columns = reader.result().columns;
      return failed;
    }
  }
}

absl::Status MysqlConnection::QueryStreamBinary(
    std::string_view sql, std::vector<ColumnDefinition>& columns,
    absl::FunctionRef<absl::Status(std::string_view row)> on_row, bool* prepare_refused) {
  if (prepare_refused != nullptr) *prepare_refused = false;
  if (dumping_) {
    return absl::FailedPreconditionError("cannot run a query on a connection streaming binlogs");
  }
  if (absl::Status st = SendCommand(EncodeStmtPrepare(sql)); !st.ok()) return st;
  absl::StatusOr<std::string> first = ReadPayload(io_timeout_);
  if (!first.ok()) return Broken(first.status());
  if (IsErrPacket(*first)) {  // the session is fine
    if (prepare_refused != nullptr) *prepare_refused = true;
    return ErrPayloadToStatus(*first);
  }
  absl::StatusOr<PrepareOk> prepared = ParsePrepareOk(*first);
  if (!prepared.ok()) return Broken(prepared.status());
  // The parameters' and the columns' definitions, each list followed by an EOF.
  for (uint16_t count : {prepared->params, prepared->columns}) {
    if (count == 0) continue;
    for (uint32_t i = 0; i <= count; ++i) {
      absl::StatusOr<std::string> p = ReadPayload(io_timeout_);
      if (!p.ok()) return Broken(p.status());
      const bool ok = i < count ? ParseColumnDefinition(*p).ok() : IsEofPacket(*p);
      if (!ok) return Broken(absl::DataLossError("COM_STMT_PREPARE: malformed reply"));
    }
  }
  const uint32_t id = prepared->statement_id;
  absl::Status result;
  if (prepared->params != 0) {
    result = absl::InvalidArgumentError("QueryStreamBinary: the statement has parameters");
  } else if (absl::Status st = SendCommand(EncodeStmtExecute(id)); !st.ok()) {
    return st;
  } else {
    bool broken = false;
    result = StreamResultSet(columns, on_row, broken);
    if (broken) return result;
  }
  if (absl::Status st = SendCommand(EncodeStmtClose(id)); !st.ok()) return st;
  return result;
}

absl::Status MysqlConnection::RegisterReplica(uint32_t server_id) {
  if (absl::Status st = SendCommand(EncodeRegisterSlave(server_id)); !st.ok()) return st;
  absl::StatusOr<std::string> p = ReadPayload(io_timeout_);
  if (!p.ok()) return Broken(p.status());
  if (IsErrPacket(*p)) return ErrPayloadToStatus(*p);
  if (!IsOkPacket(*p)) {
    return Broken(absl::DataLossError("COM_REGISTER_SLAVE: expected an OK packet"));
  }
  return absl::OkStatus();
}

absl::Status MysqlConnection::StartBinlogDump(std::string_view file, uint32_t position,
                                              uint32_t server_id) {
  if (absl::Status st = SendCommand(EncodeBinlogDump(file, position, server_id)); !st.ok()) {
    return st;
  }
  dumping_ = true;
  return absl::OkStatus();
}

absl::Status MysqlConnection::StartBinlogDumpGtid(const mysql::GtidSet& executed,
                                                  uint32_t server_id) {
  if (dumping_) return absl::FailedPreconditionError("a binlog dump is already running");
  if (absl::Status st = SendCommand(EncodeBinlogDumpGtid(executed.Encode(), server_id)); !st.ok()) {
    return st;
  }
  dumping_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> MysqlConnection::ReadBinlogEvent(absl::Duration timeout) {
  if (!dumping_) return absl::FailedPreconditionError("no binlog dump was started");
  absl::StatusOr<std::string> p = ReadPayload(timeout);
  if (!p.ok()) return p.status();
  absl::StatusOr<BinlogPacket> packet = ParseBinlogPacket(*p);
  if (!packet.ok()) {
    if (IsErrPacket(*p)) return packet.status();
    return Broken(packet.status());
  }
  if (packet->eof) return absl::OutOfRangeError("the server ended the binlog dump (EOF packet)");
  return std::string(reinterpret_cast<const char*>(packet->event.data()), packet->event.size());
}

}  // namespace sluice::mysqlclient
