#pragma once
// One column value of a row image, decoded into the canonical sluice value (v1::Value).
//
// Rendering (see README.md): integers -> int64, or uint64 when unsigned per SIGNEDNESS metadata;
// YEAR -> int64; FLOAT/DOUBLE -> double; NEWDECIMAL -> decimal text with the scale kept;
// BIT -> uint64; DATE -> date; TIME/TIME2 -> time (may be negative, may exceed 24 h);
// DATETIME/DATETIME2 -> datetime; TIMESTAMP/TIMESTAMP2 -> timestamp_micros (UTC);
// CHAR/VARCHAR/TEXT -> string for utf8mb4/utf8mb3/ascii, latin1/ucs2/utf16/utf16le/utf32
// and the CJK charsets (big5, cp932, eucjpms, euckr, gb18030, gb2312, gbk, sjis, ujis; see
// charset.h) converted to UTF-8 (invalid bytes fall back to the raw form below), bytes for
// the binary collation (63), RawValue{charset name, "base64:<b64>"} for other charsets;
// BLOB -> bytes (string if its collation is a text charset); no charset metadata: CHAR/VARCHAR
// -> string, BLOB -> bytes; ENUM -> member name ("" for index 0); SET -> names joined by ",";
// (without ENUM/SET value metadata: the index / bitmap as uint64); JSON -> json text;
// GEOMETRY -> bytes (SRID + WKB); VECTOR -> array of doubles (float32 LE).

#include "absl/status/status.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/table_map.h"
#include "protocol/wire/byte_reader.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

// Reads the value of a present, non-NULL column `c` and stores it in `out`. Consumes exactly the
// column's bytes. Errors: DataLoss (truncated or malformed value, ENUM index out of range, ...),
// Unimplemented (the pre-5.0 DECIMAL type).
absl::Status ReadColumnValue(wire::ByteReader& r, const ColumnDef& c, v1::Value& out);

// The same value appended to `row` as a FlatValue for `column` (flat_row.h): the same bytes
// consumed, the same value, the same errors. Views into `r`'s input and into `c` stay in the row.
absl::Status ReadFlatColumnValue(wire::ByteReader& r, const ColumnDef& c, uint32_t column,
                                 FlatRow& row);

// The DataLoss error ReadColumnValue / ReadFlatColumnValue return for a malformed value of `c`
// that `r` read fine (an ENUM index out of range, ...): "<TYPE> value: <what> (ending at offset
// N)".
absl::Status ColumnValueError(const wire::ByteReader& r, const ColumnDef& c, std::string_view what);

}  // namespace sluice::mysql
