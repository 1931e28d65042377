#pragma once
// DecodeTextValue (pg_text_value.h) in protobuf wire format, for encoders that write stored
// events directly (snapshot rows): appends to `out` exactly the bytes
// DecodeTextValue(type_oid, text, resolver).SerializeToString() gives (the contents of the
// Value message, no tag or length). The common types (integers, text, numeric, bool, json,
// timestamp, timestamptz) are written without building a message; every other type, and any
// text the fast path does not recognize, goes through DecodeTextValue itself, so the result is
// always the same. Pure; thread-safe if the resolver is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/postgres/pg_text_value.h"

namespace sluice::postgres {

// `text` nullopt is SQL NULL.
void AppendTextValueWire(uint32_t type_oid, std::optional<std::string_view> text,
                         const TypeResolver& resolver, std::string& out);

}  // namespace sluice::postgres
