#pragma once
// Prepared statements and binary-protocol result rows: what a client needs to run one SELECT
// with COM_STMT_PREPARE / COM_STMT_EXECUTE and split the rows the server sends. The server
// then sends integers, floats and temporals as fixed binary fields instead of formatting them
// as text (DECIMAL, strings, BIT, ENUM/SET, JSON and GEOMETRY stay length-encoded strings).
//
// Grammar (all integers little-endian; payloads, after framing):
//   COM_STMT_PREPARE  := 0x16 · sql string<EOF>
//   prepare_ok        := 0x00 · statement_id u32 · columns u16 · params u16 · 0x00
//                        · warnings u16 ; then, unless CLIENT_DEPRECATE_EOF, params column_def +
//                        EOF (if params > 0) and columns column_def + EOF (if columns > 0)
//   COM_STMT_EXECUTE  := 0x17 · statement_id u32 · flags u8 (0: no cursor)
//                        · iteration_count u32 (1) ; no parameters follow (params must be 0)
//   COM_STMT_CLOSE    := 0x19 · statement_id u32   ; the server sends no reply
//   execute reply     := as a text result set (messages.h), with binary_row in place of row
//   binary_row        := 0x00 · null_bitmap[(columns + 9) / 8] · value{non-NULL columns}
//                        ; column i is NULL when bit (i + 2) of the bitmap is set
//   value, by the column definition's type:
//     LONGLONG DOUBLE             8 bytes
//     LONG INT24 FLOAT            4 bytes (INT24 sign- or zero-extended to 4)
//     SHORT YEAR                  2 bytes
//     TINY                        1 byte
//     DATE DATETIME TIMESTAMP     length u8 (0, 4, 7 or 11) · year u16 · month u8 · day u8
//                                 · [hour u8 · minute u8 · second u8 · [micros u32]]
//     TIME                        length u8 (0, 8 or 12) · negative u8 · days u32 · hour u8
//                                 · minute u8 · second u8 · [micros u32]
//     anything else               lenenc string
//
// Pure; peer bytes are read with wire::ByteReader. Thread-safety: none.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/mysqlclient/messages.h"

namespace sluice::mysqlclient {

inline constexpr uint8_t kComStmtPrepare = 0x16;
inline constexpr uint8_t kComStmtExecute = 0x17;
inline constexpr uint8_t kComStmtClose = 0x19;

std::string EncodeStmtPrepare(std::string_view sql);
// Executes a statement without parameters, without a cursor, once.
std::string EncodeStmtExecute(uint32_t statement_id);
std::string EncodeStmtClose(uint32_t statement_id);

struct PrepareOk {
  uint32_t statement_id = 0;
  uint16_t columns = 0;
  uint16_t params = 0;
  uint16_t warnings = 0;
};
// The first packet of the reply to COM_STMT_PREPARE (an ERR is the caller's to check first).
// DataLoss when it is not a prepare_ok.
absl::StatusOr<PrepareOk> ParsePrepareOk(std::string_view payload);

// The size of column `c`'s values in a binary row: 1, 2, 4 or 8 for fixed fields, 0 for a
// field with a u8 length first (temporals), and -1 for a lenenc string.
int BinaryFieldSize(const ColumnDefinition& c);

// Splits one binary row into its columns' values without copying: `out` (reused) gets one
// entry per column, nullopt for NULL, otherwise a view into `payload` of the value's bytes:
// the fixed field, a temporal's bytes after its length byte, or a string's contents.
// DataLoss naming the column when the row is cut short, has bytes left over, does not start
// with 0x00, or a temporal's length is not one the grammar allows for its type.
using BinaryRowView = std::vector<std::optional<std::string_view>>;
absl::Status ParseBinaryRowView(std::string_view payload, std::span<const ColumnDefinition> columns,
                                BinaryRowView& out);

}  // namespace sluice::mysqlclient
