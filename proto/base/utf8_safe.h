#pragma once
// Every `string` field of a stored event must hold well-formed UTF-8: protobuf refuses to parse a
// message whose string field does not, so one such field would make the event unreadable for
// every subscriber (and for the table state). Sources can send such bytes: a Postgres database
// in SQL_ASCII, a MySQL column declared utf8mb4 holding bytes written around the server's
// checks, a DDL statement sent by a latin1 client. MakeUtf8Safe mends an event before it is
// stored:
//   - a value's text (string, decimal, json, raw) that is not well-formed UTF-8 becomes `bytes`
//     holding exactly the same bytes: row data is never altered, only its kind says "binary";
//   - names and other metadata (column names, key columns, table/database names, positions, a
//     DDL statement, a message prefix) get U+FFFD for each ill-formed part.
// value_wire.h applies the same value rule to events encoded without messages.
// Pure; the checks are a fast scan, and nothing is copied for well-formed text.

#include "sluice/v1/event.pb.h"

namespace sluice {

// Each returns the number of fields it changed (0 for a well-formed message).
int MakeUtf8Safe(v1::Value& value);
int MakeUtf8Safe(v1::SourceInfo& info);
int MakeUtf8Safe(v1::ChangeEvent& event);

// True when MakeUtf8Safe(info) would change nothing (checked without a copy).
bool IsUtf8Safe(const v1::SourceInfo& info);

}  // namespace sluice
