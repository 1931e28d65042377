#pragma once
// Decoding of text-protocol result values (COM_QUERY result rows) into sluice::v1::Value, so
// that a row read with SELECT renders exactly as the same row decoded from a binlog row event
// (protocol/mysql/row_values.h). The column definition says how to read the text:
//
//   TINY SHORT INT24 LONG LONGLONG   -> int64, or uint64 with UNSIGNED_FLAG
//   YEAR                             -> int64 ("0000" -> 0)
//   FLOAT                            -> double of the nearest float (as the binlog's 4 bytes)
//   DOUBLE                           -> double
//   DECIMAL NEWDECIMAL               -> decimal, the server's digits with the scale kept
//   BIT                              -> uint64 (the raw big-endian bytes)
//   DATE, TIME, DATETIME             -> Date, Time (may be negative, over 24 h), DateTime
//   TIMESTAMP                        -> timestamp_micros; the text must be UTC (the snapshot
//                                       session sets time_zone = '+00:00'); zero -> 0
//   CHAR VARCHAR TEXT, ENUM, SET     -> string (the connection charset is utf8mb4)
//   BINARY VARBINARY BLOB (charset 63) -> bytes
//   JSON (MySQL)                     -> json
//   GEOMETRY                         -> bytes (SRID + WKB, as the binlog carries it)
//   anything else                    -> RawValue{type name, text}
//
// Never fails: text that does not fit its type becomes RawValue{type name, text}, so nothing
// is lost. NULL (nullopt) becomes the null Value. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "protocol/mysqlclient/messages.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysqlclient {

// Column flags of the protocol's column definition.
inline constexpr uint16_t kUnsignedFlag = 32;
inline constexpr uint16_t kEnumFlag = 256;
inline constexpr uint16_t kSetFlag = 2048;
inline constexpr uint16_t kBinaryCharset = 63;

v1::Value DecodeTextColumn(const ColumnDefinition& column, const std::optional<std::string>& text);

// The same value in protobuf wire format: appends to `out` exactly the bytes
// DecodeTextColumn(column, text).SerializeToString() gives (the contents of the Value message,
// without a tag or length), with no allocation beyond growing `out`. For encoders that write
// stored events directly (snapshot rows).
void AppendTextColumnWire(const ColumnDefinition& column, std::optional<std::string_view> text,
                          std::string& out);

}  // namespace sluice::mysqlclient
