#pragma once
// Renders a ChangeEvent as the one-line JSON object printed by `sluicectl tail --format json`:
//
//   {"offset":17,"op":"c","source":{"name":..,"kind":"mysql","database":..,"schema":..,
//    "table":..,"position":"binlog.000003:1234","gtid":..,"txid":..,
//    "commit_ts":"2026-01-02T03:04:05.123Z","snapshot":false},
//    "key":{...},"before":{...}|null,"after":{...}|null,"unchanged":[...],
//    "txn":{"index":0,"last":true}}
//
// Values use the canonical encoding of value_json.h; docs/event-format.md specifies every field.
// Output is always valid UTF-8 JSON on one line. Pure and thread-compatible.

#include <string>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice {

// "r", "c", "u", "d", "t", "ddl", "m"; "?" for OP_UNSPECIFIED or unknown values.
std::string_view OpCode(v1::Op op);
// "mysql", "postgres", "unknown".
std::string_view SourceKindName(v1::SourceKind kind);

// The JSON object for one event, without a trailing newline. "key" holds the key columns'
// values taken from "after" (or from "before" when the after image is missing or lacks the
// column; columns in neither image are left out). database/schema/table/gtid/txid are null when
// empty, commit_ts is null when 0. "txn" holds transaction_index and last_in_transaction. Op DDL
// adds "ddl":{"statement":..,"columns":[{"name":..,"type":..,"nullable":..,"key":..}]}; op MESSAGE
// adds "message":{"prefix":..,"content":base64,"transactional":..}.
std::string EventToJson(const v1::ChangeEvent& event);

// A compact human-readable line: "17 c shop.orders key={...} after={...}"; the optional parts
// are key=, before=, after=, unchanged=, ddl= and message=, each printed only when present.
std::string EventToText(const v1::ChangeEvent& event);

}  // namespace sluice
