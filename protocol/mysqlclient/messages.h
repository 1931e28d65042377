#pragma once
// Command phase codecs: OK/ERR/EOF packets, text result sets, COM_QUERY, COM_REGISTER_SLAVE,
// COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, and the binlog network packet.
//
// Grammar (all integers little-endian; payloads, after framing):
//   OK      := 0x00 (or 0xFE, as a result-set terminator with DEPRECATE_EOF, length >= 7)
//              · affected_rows lenenc · last_insert_id lenenc · status u16 · warnings u16
//              · info string<EOF>
//   ERR     := 0xFF · code u16 · ['#' · sql_state[5]] · message string<EOF>
//   EOF     := 0xFE · warnings u16 · status u16           ; whole payload < 9 bytes
//   result  := column_count lenenc · column_def{count} · [EOF] · row* · (EOF | OK | ERR)
//   column_def := catalog lenenc-str · schema · table · org_table · name · org_name
//              · fixed_len lenenc (=0x0C) · charset u16 · length u32 · type u8 · flags u16
//              · decimals u8 · filler u16
//   row     := (0xFB | value lenenc-str){column_count}
//   COM_QUERY           := 0x03 · sql string<EOF>
//   COM_REGISTER_SLAVE  := 0x15 · server_id u32 · host_len u8 · host · user_len u8 · user
//                          · password_len u8 · password · port u16 · rank u32 · master_id u32
//   COM_BINLOG_DUMP     := 0x12 · pos u32 · flags u16 · server_id u32 · filename string<EOF>
//   COM_BINLOG_DUMP_GTID := 0x1E · flags u16 · server_id u32 · filename_len u32 · filename
//                          · pos u64 · [flags & THROUGH_GTID: data_len u32 · gtid_set]
//                          ; gtid_set is mysql::GtidSet::Encode() (MySQL only; MariaDB starts
//                          ; GTID dumps with SET @slave_connect_state and COM_BINLOG_DUMP)
//   binlog packet       := 0x00 · event | EOF | ERR
//
// Pure; peer bytes are read with wire::ByteReader. Thread-safety: none.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::mysqlclient {

inline constexpr uint8_t kComQuery = 0x03;
inline constexpr uint8_t kComBinlogDump = 0x12;
inline constexpr uint8_t kComRegisterSlave = 0x15;
inline constexpr uint8_t kComBinlogDumpGtid = 0x1E;
inline constexpr uint16_t kBinlogDumpNonBlock = 0x01;
inline constexpr uint16_t kBinlogThroughPosition = 0x02;
inline constexpr uint16_t kBinlogThroughGtid = 0x04;

inline bool IsOkPacket(std::string_view p) { return !p.empty() && p[0] == '\x00'; }
inline bool IsErrPacket(std::string_view p) { return !p.empty() && p[0] == '\xFF'; }
inline bool IsEofPacket(std::string_view p) {
  return !p.empty() && p[0] == '\xFE' && p.size() < 9;
}

struct OkPacket {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status_flags = 0;
  uint16_t warnings = 0;
  std::string info;
};
// Parses an OK packet (first byte 0x00 or 0xFE).
absl::StatusOr<OkPacket> ParseOk(std::string_view payload);

struct ErrPacket {
  uint16_t code = 0;
  std::string sql_state;  // empty if the server sent none
  std::string message;
};
absl::StatusOr<ErrPacket> ParseErr(std::string_view payload);

// The status for a server error. Errors that fail the same way however often the statement is
// retried (IsPermanentMysqlError):
//   PermissionDenied    access: 1044, 1045, 1142, 1143, 1227, 1370, 1698
//   NotFound            a missing object: 1049 database, 1051/1109/1146 table, 1054 column,
//                       1305 routine
//   InvalidArgument     the statement: 1052, 1064, 1149
//   FailedPrecondition  the server's state or settings: 1193, 1229, 1231, 1236 (binlog reader),
//                       1238, 1290 (read-only), 1356 (view invalid), 1115, 1273, 1286
// Errors that retrying can heal:
//   Unavailable         1040 too many connections, 1053 shutdown, 1203/1226 user limits,
//                       1927 connection killed
//   Aborted             1205 lock wait timeout, 1213 deadlock, 1317 interrupted, 1412 table
//                       definition changed, 1637 too many transactions, 1969/3024 time limit
// Unknown for every other code (treated as transient). The message is
//   "MySQL error <code> (<sql_state>): <server message>"
// and the status carries the code (MysqlErrorCode).
absl::Status ErrToStatus(const ErrPacket& err);
// The server error code a status from ErrToStatus carries; nullopt for any other status.
std::optional<uint16_t> MysqlErrorCode(const absl::Status& status);
// True for a server error that cannot heal by retrying the statement (the first four classes
// above). False for every other status, including errors that did not come from the server.
bool IsPermanentMysqlError(const absl::Status& status);
// `status` with `prefix` before its message, keeping its code and payloads (the server error
// code among them), for callers that add context to a server error.
absl::Status WithContext(const absl::Status& status, std::string_view prefix);
// ParseErr + ErrToStatus; a malformed ERR packet gives the parse error.
absl::Status ErrPayloadToStatus(std::string_view payload);

struct ColumnDefinition {
  std::string schema;
  std::string table;
  std::string name;
  uint16_t charset = 0;
  uint32_t length = 0;
  uint8_t type = 0;
  uint16_t flags = 0;
  uint8_t decimals = 0;
};
absl::StatusOr<ColumnDefinition> ParseColumnDefinition(std::string_view payload);

using TextRow = std::vector<std::optional<std::string>>;  // NULL is std::nullopt
absl::StatusOr<TextRow> ParseTextRow(std::string_view payload, size_t columns);
// The same without copies: `out` (reused) gets `columns` values that borrow `payload`.
using TextRowView = std::vector<std::optional<std::string_view>>;
absl::Status ParseTextRowView(std::string_view payload, size_t columns, TextRowView& out);

struct ResultSet {
  std::vector<ColumnDefinition> columns;
  std::vector<TextRow> rows;
  std::optional<OkPacket> ok;  // set when the command returned OK instead of a result set
};

// Builds a ResultSet from the payloads of one COM_QUERY response, fed in order.
// Add() returns true once the response is complete; an ERR from the server becomes its status
// (see ErrToStatus). `deprecate_eof` says whether CLIENT_DEPRECATE_EOF was negotiated.
class TextResultSetReader {
 public:
  explicit TextResultSetReader(bool deprecate_eof = false) : deprecate_eof_(deprecate_eof) {}
  absl::StatusOr<bool> Add(std::string_view payload);
  bool done() const { return state_ == State::kDone; }
  ResultSet& result() { return result_; }
  // Streaming: each row's payload goes to `sink` instead of result().rows (the columns are in
  // result().columns by then); an error from it is Add()'s error.
  void StreamRows(std::function<absl::Status(std::string_view payload)> sink) {
    row_sink_ = std::move(sink);
  }

 private:
  enum class State { kStart, kColumns, kColumnsEof, kRows, kDone };
  std::function<absl::Status(std::string_view)> row_sink_;
  bool deprecate_eof_;
  State state_ = State::kStart;
  uint64_t column_count_ = 0;
  ResultSet result_;
};

std::string EncodeComQuery(std::string_view sql);
// Host, user and password empty, rank 0, master id 0.
std::string EncodeRegisterSlave(uint32_t server_id, uint16_t port = 0);
std::string EncodeBinlogDump(std::string_view file, uint32_t position, uint32_t server_id,
                             uint16_t flags = 0);
// COM_BINLOG_DUMP_GTID with BINLOG_THROUGH_GTID (always set, added to `flags`): the server sends
// every transaction not in `encoded_gtid_set` (mysql::GtidSet::Encode()). `file`/`position` are
// normally empty and 4.
std::string EncodeBinlogDumpGtid(std::string_view encoded_gtid_set, uint32_t server_id,
                                 std::string_view file = "", uint64_t position = 4,
                                 uint16_t flags = 0);

// One packet of a binlog dump stream. `event` views the payload after the 0x00 byte.
struct BinlogPacket {
  bool eof = false;
  std::span<const std::byte> event;
};
// Errors: the server's ERR as ErrToStatus; DataLoss for an empty payload or an unknown first
// byte.
absl::StatusOr<BinlogPacket> ParseBinlogPacket(std::string_view payload);

}  // namespace sluice::mysqlclient
