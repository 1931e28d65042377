// libFuzzer target for the Postgres snapshot's row reader: postgres::CopyTextRow (one row of
// COPY ... TO STDOUT in text format), then each value through DecodeTextValue and
// AppendTextValueWire, as PostgresSnapshotReader does with every row it reads.
//
// Input (the seeds are rows captured from our own test PostgreSQL by
// pg_copy_corpus_capture_test):
//
//   n          1 byte, the number of columns
//   oids       n x u32 little-endian, the columns' type OIDs
//   row        the rest: one CopyData message (the row and its newline)
//
// Checks besides "no crash, no sanitizer report":
//   - a row that parses has exactly n values, and it parses with no other column count (but
//     the empty line, which is also a row of no columns);
//   - parsing is deterministic;
//   - round trip: the values rendered back to COPY text (RenderCopyRow below, written from the
//     format's definition) parse to the same values;
//   - AppendTextValueWire writes exactly DecodeTextValue(...).SerializeAsString(), and those
//     bytes parse back to the same Value (when the text is UTF-8, as the server sends it);
//   - every decoded value is valid for its column's type: NULL is the null Value, a scalar is
//     of its type's kind or raw, text-like kinds and raw keep the text exactly, dates and times
//     are in range, an array's elements are each valid for the element type;
//   - the value renders as valid JSON (json_check.h).
// Type OIDs that are not built in go to a resolver that makes them domains, enums or arrays of a
// built-in type (from the OID's bits), so those paths are reached too.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/base/utf8.h"
#include "proto/base/value_json.h"
#include "protocol/postgres/copy_text.h"
#include "protocol/postgres/pg_text_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pg_value_wire.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace sluice::fuzz {
namespace {

using postgres::TypeResolution;
using Values = std::vector<std::optional<std::string_view>>;

constexpr size_t kMaxJsonDepth = 1024;

// Built-in types a resolved OID may stand for.
constexpr uint32_t kResolvedBases[] = {
    postgres::kInt4Oid,     postgres::kNumericOid,     postgres::kFloat8Oid,
    postgres::kBoolOid,     postgres::kTextOid,        postgres::kByteaOid,
    postgres::kJsonbOid,    postgres::kDateOid,        postgres::kTimetzOid,
    postgres::kTimestampOid, postgres::kTimestamptzOid, postgres::kIntervalOid};

TypeResolution Resolve(uint32_t oid) {
  TypeResolution r;
  const uint32_t base = kResolvedBases[(oid >> 2) % std::size(kResolvedBases)];
  switch (oid & 3) {
    case 0:
      break;  // unknown
    case 1:
      r.kind = TypeResolution::Kind::kBase;
      // Every eighth one a domain over another resolved type (a chain, or a cycle).
      r.oid = (oid & 0x20) ? oid + 4 : base;
      break;
    case 2:
      r.kind = TypeResolution::Kind::kEnum;
      r.type_name = "fuzz_enum";
      break;
    case 3:
      r.kind = TypeResolution::Kind::kArray;
      r.oid = base;
      break;
  }
  return r;
}

// COPY text format, from its definition: NULL is \N, and backslash, tab, newline and carriage
// return are escaped; every other byte is itself.
std::string RenderCopyRow(const Values& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back('\t');
    if (!values[i]) {
      out += "\\N";
      continue;
    }
    for (char c : *values[i]) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out.push_back(c);
      }
    }
  }
  out.push_back('\n');
  return out;
}

std::string Describe(uint32_t oid, std::string_view text, const v1::Value& v) {
  return "oid " + std::to_string(oid) + " text '" + std::string(text) + "' -> " +
         v.ShortDebugString();
}

// The kind a built-in scalar decodes to when its text fits the type (besides raw).
v1::Value::KindCase ScalarKind(uint32_t oid) {
  switch (oid) {
    case postgres::kInt2Oid:
    case postgres::kInt4Oid:
    case postgres::kInt8Oid:
    case postgres::kOidOid:
      return v1::Value::kInt64;
    case postgres::kNumericOid:
      return v1::Value::kDecimal;
    case postgres::kFloat4Oid:
    case postgres::kFloat8Oid:
      return v1::Value::kDouble;
    case postgres::kBoolOid:
      return v1::Value::kBool;
    case postgres::kTextOid:
    case postgres::kVarcharOid:
    case postgres::kBpcharOid:
    case postgres::kNameOid:
    case postgres::kCharOid:
    case postgres::kUuidOid:
    case postgres::kInetOid:
    case postgres::kCidrOid:
    case postgres::kMacaddrOid:
    case postgres::kMacaddr8Oid:
    case postgres::kMoneyOid:
    case postgres::kBitOid:
    case postgres::kVarbitOid:
    case postgres::kXmlOid:
      return v1::Value::kString;
    case postgres::kByteaOid:
      return v1::Value::kBytes;
    case postgres::kJsonOid:
    case postgres::kJsonbOid:
      return v1::Value::kJson;
    case postgres::kDateOid:
      return v1::Value::kDate;
    case postgres::kTimeOid:
    case postgres::kTimetzOid:
      return v1::Value::kTime;
    case postgres::kTimestampOid:
      return v1::Value::kDatetime;
    case postgres::kTimestamptzOid:
      return v1::Value::kTimestampMicros;
    case postgres::kIntervalOid:
      return v1::Value::kInterval;
    default:
      return v1::Value::kRaw;
  }
}

// Postgres reads a leap second (:60) and 24:00:00, though it never prints the former.
void CheckTime(const v1::Time& t, const std::string& what) {
  SLUICE_FUZZ_CHECK(t.hours() <= 24 && t.minutes() < 60 && t.seconds() <= 60 &&
                        t.micros() < 1'000'000,
                    what);
}

void CheckDate(const v1::Date& d, const std::string& what) {
  SLUICE_FUZZ_CHECK(d.month() >= 1 && d.month() <= 12 && d.day() >= 1 && d.day() <= 31, what);
}

// `v` is what `text` of type `oid` decoded to (an array element when depth > 0).
void CheckValue(uint32_t oid, std::string_view text, const v1::Value& v, int depth) {
  const std::string what = Describe(oid, text, v);
  SLUICE_FUZZ_CHECK(v.kind_case() != v1::Value::KIND_NOT_SET, what);
  if (!IsValidUtf8(text) && v.kind_case() == v1::Value::kBytes) {
    // Text that is not UTF-8 (a SQL_ASCII database) is kept, byte for byte, as bytes.
    SLUICE_FUZZ_CHECK(v.bytes() == text, what);
    return;
  }
  if (v.kind_case() == v1::Value::kRaw) {
    SLUICE_FUZZ_CHECK(v.raw().text() == text, what);  // nothing is lost
    SLUICE_FUZZ_CHECK(!v.raw().type_name().empty(), what);
    return;
  }
  if (v.kind_case() == v1::Value::kArray) {
    // Only built-in array types and resolved arrays decode to an array; the element texts are
    // the decoder's, so check the elements' kinds only.
    std::optional<uint32_t> element = postgres::BuiltinArrayElementOid(oid);
    if (!element) {
      const TypeResolution r = Resolve(oid);
      SLUICE_FUZZ_CHECK(!postgres::IsBuiltinScalarOid(oid) &&
                            (r.kind == TypeResolution::Kind::kArray ||
                             r.kind == TypeResolution::Kind::kBase),
                        what);
      if (r.kind == TypeResolution::Kind::kArray) element = r.oid;
    }
    SLUICE_FUZZ_CHECK(text.size() >= 2 && text.front() == '{' && text.back() == '}', what);
    if (!element) return;  // a domain over an array type
    const v1::Value::KindCase want = ScalarKind(*element);
    for (const v1::Value& e : v.array().elements()) {
      // An element whose text is not UTF-8 is kept as bytes (the array's text is not UTF-8).
      SLUICE_FUZZ_CHECK(e.kind_case() == v1::Value::kNull || e.kind_case() == want ||
                            e.kind_case() == v1::Value::kRaw ||
                            (e.kind_case() == v1::Value::kBytes && !IsValidUtf8(text)),
                        what);
    }
    return;
  }
  SLUICE_FUZZ_CHECK(v.kind_case() != v1::Value::kNull, what);  // a text is never NULL
  if (!postgres::IsBuiltinScalarOid(oid)) {
    // Resolved: an enum is its label; a domain decodes as its base type.
    const TypeResolution r = Resolve(oid);
    if (r.kind == TypeResolution::Kind::kEnum) {
      SLUICE_FUZZ_CHECK(v.kind_case() == v1::Value::kString && v.string() == text, what);
      return;
    }
    SLUICE_FUZZ_CHECK(r.kind == TypeResolution::Kind::kBase, what);
    if (depth < 8) CheckValue(r.oid, text, v, depth + 1);
    return;
  }
  SLUICE_FUZZ_CHECK(v.kind_case() == ScalarKind(oid), what);
  switch (v.kind_case()) {
    case v1::Value::kString:
      SLUICE_FUZZ_CHECK(v.string() == text, what);
      break;
    case v1::Value::kDecimal:
      SLUICE_FUZZ_CHECK(v.decimal() == text, what);
      break;
    case v1::Value::kJson:
      SLUICE_FUZZ_CHECK(v.json() == text, what);
      break;
    case v1::Value::kBool:
      SLUICE_FUZZ_CHECK(text == (v.bool_() ? "t" : "f"), what);
      break;
    case v1::Value::kInt64: {
      int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      SLUICE_FUZZ_CHECK(ec == std::errc() && end == text.data() + text.size() &&
                            parsed == v.int64(),
                        what);
      break;
    }
    case v1::Value::kBytes:
      // Hex format: "\x" and two digits a byte.
      SLUICE_FUZZ_CHECK(text.size() == 2 + 2 * v.bytes().size(), what);
      break;
    case v1::Value::kDate:
      if (text != "infinity" && text != "-infinity") CheckDate(v.date(), what);
      break;
    case v1::Value::kTime:
      CheckTime(v.time(), what);
      break;
    case v1::Value::kDatetime:
      if (text != "infinity" && text != "-infinity") {
        CheckDate(v.datetime().date(), what);
        // 24:00:00 is accepted here as in time (Postgres prints it only for time and timetz).
        CheckTime(v.datetime().time(), what);
      }
      break;
    default:
      break;
  }
}

void Run(std::string_view in) {
  static const bool quiet = (QuietProtobufLogs(), true);
  (void)quiet;
  if (in.empty()) return;
  const size_t n = static_cast<uint8_t>(in[0]);
  if (in.size() < 1 + 4 * n) return;
  std::vector<uint32_t> oids(n);
  for (size_t c = 0; c < n; ++c) {
    uint32_t oid = 0;
    for (int b = 3; b >= 0; --b) oid = (oid << 8) | static_cast<uint8_t>(in[1 + 4 * c + b]);
    oids[c] = oid;
  }
  // An exact-size copy of the row, so that a read past its end is caught.
  const std::string row(in.substr(1 + 4 * n));

  postgres::CopyTextRow reader;
  const absl::Status st = reader.Parse(row, n);
  postgres::CopyTextRow again;
  const absl::Status st2 = again.Parse(row, n);
  SLUICE_FUZZ_CHECK(st == st2, st.ToString() + " vs " + st2.ToString());
  if (!st.ok()) {
    SLUICE_FUZZ_CHECK(st.code() == absl::StatusCode::kInvalidArgument, st.ToString());
    return;
  }
  const Values values = reader.values();
  SLUICE_FUZZ_CHECK(values.size() == n);
  SLUICE_FUZZ_CHECK(again.values() == values);
  for (const auto& v : values) {
    // A value is the field's bytes or their unescaped form, which is never longer.
    if (v) SLUICE_FUZZ_CHECK(v->size() <= row.size());
  }
  // One column count only (an empty line is both one empty column and no column at all).
  postgres::CopyTextRow other;
  const bool empty_line = row.empty() || row == "\n";
  if (!(n == 0 && empty_line)) SLUICE_FUZZ_CHECK(!other.Parse(row, n + 1).ok());
  if (n > 1 || (n == 1 && !empty_line)) SLUICE_FUZZ_CHECK(!other.Parse(row, n - 1).ok());

  // Round trip through our own rendering.
  const std::string rendered = RenderCopyRow(values);
  postgres::CopyTextRow back;
  const absl::Status rst = back.Parse(rendered, n);
  SLUICE_FUZZ_CHECK(rst.ok(), rst.ToString() + " for " + rendered);
  SLUICE_FUZZ_CHECK(back.values() == values, rendered);

  const postgres::TypeResolver resolver = Resolve;
  std::string wire;
  std::string json;
  for (size_t c = 0; c < n; ++c) {
    const v1::Value v = values[c] ? postgres::DecodeTextValue(oids[c], *values[c], resolver)
                                  : postgres::NullValue();
    wire.clear();
    postgres::AppendTextValueWire(oids[c], values[c], resolver, wire);
    const std::string serialized = v.SerializeAsString();
    SLUICE_FUZZ_CHECK(wire == serialized, Describe(oids[c], values[c].value_or("NULL"), v));
    // proto3 refuses a string field that is not UTF-8 (the server's client_encoding is UTF8).
    if (!values[c] || IsValidUtf8(*values[c])) {
      v1::Value parsed;
      SLUICE_FUZZ_CHECK(parsed.ParseFromString(wire),
                        Describe(oids[c], values[c].value_or(""), v));
      SLUICE_FUZZ_CHECK(parsed.SerializeAsString() == serialized);
    }
    if (values[c]) {
      CheckValue(oids[c], *values[c], v, 0);
    } else {
      SLUICE_FUZZ_CHECK(v.kind_case() == v1::Value::kNull && v.null());
    }
    json = ValueToJson(v);
    SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
  }
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
