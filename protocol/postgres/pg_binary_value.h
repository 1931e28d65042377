#pragma once
// Decoding of Postgres binary-format values (the send functions' output, as COPY ... (FORMAT
// binary) delivers them) into the stored Value bytes. For every value a type's send function can
// produce, the result is exactly what AppendTextValueWire (pg_value_wire.h) gives for the text
// the type's output function prints for it under the pinned session settings (DateStyle=ISO,
// extra_float_digits=3, TimeZone=UTC, client_encoding=UTF8), so a snapshot read in binary stores
// the same bytes as one read in text.
//
// Binary forms decoded (any other type is read as its output function's text instead):
//
//   int2 / int4 / int8 / oid   Int16 / Int32 / Int64 / UInt32             -> int64
//   bool                       Byte1 0 | 1                                -> bool
//   float8                     IEEE 754 binary64 (every NaN is one NaN)   -> double
//   numeric                    Int16 ndigits  Int16 weight  UInt16 sign  UInt16 dscale
//                              UInt16 digit{ndigits} (base 10,000, each < 10,000)
//                              sign 0x0000 +, 0x4000 -, 0xC000 NaN, 0xD000 Infinity,
//                              0xF000 -Infinity                           -> decimal text
//   timestamp / timestamptz    Int64 microseconds since 2000-01-01 (INT64_MAX/MIN infinity)
//   uuid                       Byte16                                     -> string, 8-4-4-4-12
//   text varchar bpchar name json
//                              the text itself (bpchar with its padding)
//   jsonb                      Byte1 version(1)  the document text
//
// Errors: DataLoss naming the type and what was expected when the bytes do not have the type's
// binary form (wrong length, a numeric digit >= 10,000 or unknown sign, a bool byte other than
// 0/1, a jsonb version other than 1). Nothing is ever turned into a RawValue here.
//
// Pure; thread-safe if the resolver is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "protocol/postgres/pg_text_value.h"

namespace sluice::postgres {

// True for the types whose binary form AppendBinaryValueWire decodes.
bool HasBinaryDecoder(uint32_t type_oid);
// True for the types whose binary form AppendBinaryValueText also renders back to the output
// function's text (integers, numeric, uuid, text, varchar, bpchar, name): the ones a keyset
// pagination key may be read in.
bool HasBinaryText(uint32_t type_oid);

namespace binary_internal {
// The common values of the decoded types, without a Status or the resolver (a snapshot reader
// calls this for every value): appends what AppendBinaryValueWireGeneral appends and returns
// true, or appends nothing and returns false (another type, bytes that are not the type's
// binary form, a value the general path renders: infinity, a numeric NaN or too long for the
// stack, a timestamp outside years 1-9999, ...). copy_binary_test and copy_binary_fuzz check
// that both give the same bytes.
bool AppendBinaryValueWireFast(uint32_t type_oid, std::string_view bytes, std::string& out);
// The function AppendBinaryValueWireFast calls for `type_oid`'s values (nullptr: none, every value
// takes the general path), for a caller that decodes many values of one column: it chooses once
// and calls it per value, without the switch on the type.
using FastDecoder = bool (*)(std::string_view bytes, std::string& out);
FastDecoder FastDecoderFor(uint32_t type_oid);
// Every value (and every error) of the decoded types.
absl::Status AppendBinaryValueWireGeneral(uint32_t type_oid, std::optional<std::string_view> bytes,
                                          const TypeResolver& resolver, std::string& scratch,
                                          std::string& out);
}  // namespace binary_internal

// Appends the stored Value contents of a binary value of `type_oid` (HasBinaryDecoder) to
// `out`; `bytes` nullopt is SQL NULL. `scratch` is working space (its contents are replaced).
// Inline, so that a caller's check of the returned Status folds away on the fast path.
inline absl::Status AppendBinaryValueWire(uint32_t type_oid, std::optional<std::string_view> bytes,
                                          const TypeResolver& resolver, std::string& scratch,
                                          std::string& out) {
  if (bytes && binary_internal::AppendBinaryValueWireFast(type_oid, *bytes, out)) {
    return absl::OkStatus();
  }
  return binary_internal::AppendBinaryValueWireGeneral(type_oid, bytes, resolver, scratch, out);
}

// Appends to `out` the text the output function prints for a binary value of `type_oid`
// (HasBinaryText).
absl::Status AppendBinaryValueText(uint32_t type_oid, std::string_view bytes, std::string& out);

}  // namespace sluice::postgres
