#pragma once
// Decoding of Postgres text-format values (pgoutput 't' columns) into sluice::v1::Value by type
// OID. The text is what the walsender's output functions produce under the pinned session
// settings DateStyle=ISO, IntervalStyle=postgres, extra_float_digits=3, TimeZone=UTC,
// client_encoding=UTF8 (see pg_datetime.h for the date/time grammars).
//
//   int2 int4 int8 oid                      -> int64
//   numeric                                 -> decimal, digits exactly as sent ("NaN",
//                                              "Infinity", "-Infinity" kept)
//   float4 float8                           -> double (NaN, Infinity, -Infinity)
//   bool ("t"/"f")                          -> bool
//   text varchar bpchar name "char" uuid inet cidr macaddr macaddr8 money bit varbit xml
//                                           -> string
//   bytea (hex format "\x0a0b")             -> bytes
//   json jsonb                              -> json (document text as sent)
//   date / time / timetz / timestamp        -> Date / Time / Time+offset / DateTime
//   timestamptz                             -> timestamp_micros (UTC; infinity = INT64_MAX/MIN)
//   interval                                -> Interval
//   one-dimensional arrays of the above     -> Array (NULL elements -> null Value)
//   enums (via the resolver)                -> string
//   domains (via the resolver)              -> decoded as their base type
//   anything else                           -> RawValue{type_name, text}
//
// Error policy: this function never fails. Text that does not match its type's grammar
// (malformed, out of range, a multi-dimensional array, an array with explicit bounds, bytea in
// escape format) becomes RawValue{type_name, text}, so nothing is lost and nothing crashes.
// Inside an array, only the malformed element becomes raw.
//
// Pure; thread-safe if the resolver is.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice::postgres {

// What the caller knows about a type that is not built in (from the catalog or Type messages).
struct TypeResolution {
  enum class Kind {
    kUnknown,  // keep the text as RawValue
    kBase,     // a domain: decode as type `oid`
    kEnum,     // an enum: the label is a string
    kArray,    // an array whose element type is `oid`
  };
  Kind kind = Kind::kUnknown;
  uint32_t oid = 0;       // kBase: the base type; kArray: the element type
  std::string type_name;  // used in RawValue; "" lets the decoder choose ("oid:12345")
};

// Called only for OIDs that are not built in. May be empty (every such type is then unknown).
using TypeResolver = std::function<TypeResolution(uint32_t oid)>;

v1::Value DecodeTextValue(uint32_t type_oid, std::string_view text,
                          const TypeResolver& resolver = nullptr);

// A null Value.
v1::Value NullValue();

}  // namespace sluice::postgres
