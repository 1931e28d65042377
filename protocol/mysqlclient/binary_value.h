#pragma once
// Binary-protocol result values (COM_STMT_EXECUTE rows, binary_protocol.h) into the stored
// Value bytes, exactly as text_value.h renders the same value read with COM_QUERY, so that a
// snapshot row is stored byte for byte the same whichever protocol read it, and renders as the
// same row decoded from a binlog row event. The exception is FLOAT and DOUBLE: the text
// protocol prints them rounded (FLOAT to 6 significant digits, DOUBLE(M,D) to D decimals), so
// text gives a nearby number where the binary protocol gives the stored bits, as the binlog
// does.
//
//   TINY SHORT INT24 LONG LONGLONG  -> int64, or uint64 with UNSIGNED_FLAG (the field's bytes,
//                                      sign-extended unless unsigned)
//   YEAR                            -> int64
//   FLOAT DOUBLE                    -> double (a FLOAT's 4 bytes widened)
//   DATE, DATETIME, TIME            -> Date, DateTime, Time (TIME: days * 24 + hours, the sign)
//   TIMESTAMP                       -> timestamp_micros from its fields read as UTC (the session
//                                      runs with time_zone '+00:00'); the zero timestamp -> 0
//   every other type                -> as AppendTextColumnWire: the server sends these as the
//                                      same string in both protocols
// A temporal whose fields are out of the range the text decoder accepts (month > 12, minute >
// 59, ...; a server never sends one) is rendered as the server's text would be and decoded by
// the text decoder, so it becomes the same RawValue the text protocol would give.
//
// Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "protocol/mysqlclient/messages.h"

namespace sluice::mysqlclient {

// Appends the Value contents of one binary field (as ParseBinaryRowView gives it; nullopt is
// NULL) to `out`. InvalidArgument, with nothing appended, when the field's size does not fit
// its type (binary_protocol.h: fixed sizes, temporals of 0/4/7/11 or 0/8/12 bytes).
absl::Status AppendBinaryColumnWire(const ColumnDefinition& column,
                                    std::optional<std::string_view> value, std::string& out);

// The text of a key column's binary value for a keyset condition and the stored resume key:
// integers in decimal, FLOAT and DOUBLE as ExactDoubleText of the stored number (a FLOAT
// widened to double), temporals as the server prints them (the column's decimals give the
// fraction digits), string-like values (every type BinaryFieldSize gives -1) as their bytes.
// False when the value's size does not fit its type.
bool BinaryKeyText(const ColumnDefinition& column, std::string_view value, std::string& out);

// `d` as the shortest decimal text that reads back as exactly `d` ("1.2345670461654663",
// "1e-45", "-0", "3.4028234663852886e+38"): unlike the server's text of a FLOAT (6 significant
// digits) or a DOUBLE(M,D) (D decimals), a keyset condition on it compares with the stored
// number itself. `out` is replaced.
void ExactDoubleText(double d, std::string& out);

}  // namespace sluice::mysqlclient
