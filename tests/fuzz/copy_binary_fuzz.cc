// libFuzzer target for the Postgres snapshot's binary row reader: postgres::CopyBinaryRow (one
// CopyData message of COPY ... TO STDOUT (FORMAT binary)), then each value as
// PostgresSnapshotReader takes it: through AppendBinaryValueWire for the types it decodes in
// binary, through AppendTextValueWire (an output function's text) for the others.
//
// Input (the seeds are messages captured from our own test PostgreSQL by
// pg_copy_corpus_capture_test):
//
//   flags_n    1 byte: bit 7 set = the message starts with the COPY header (the first message);
//              bits 0-6 the number of columns n
//   oids       n x u32 little-endian, the columns' type OIDs
//   message    the rest: one CopyData message
//
// Checks besides "no crash, no sanitizer report":
//   - parsing is deterministic, and fails only with DataLoss;
//   - a tuple has exactly n values, each a view inside the message, and rendering the values
//     back to the tuple format (from the format's definition) gives the message's bytes after
//     its header;
//   - a value of a type with a binary decoder decodes or fails with DataLoss (never another
//     error); decoded, its bytes parse as a v1::Value of the type's kind (or raw, or bytes for
//     text that is not UTF-8), and render as valid JSON;
//   - AppendBinaryValueWire (which takes the fast path when it can) gives the same status and
//     bytes as binary_internal::AppendBinaryValueWireGeneral alone;
//   - differential: for the types whose binary form also renders as text (integers, numeric,
//     uuid, text types), the binary decoder succeeds exactly when the text rendering does, and
//     its bytes equal AppendTextValueWire of that text; for integers and numeric that text
//     equals an independent digit-by-digit rendering of the send format (ReferenceText).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/base/value_json.h"
#include "protocol/postgres/copy_binary.h"
#include "protocol/postgres/pg_binary_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pg_value_wire.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace sluice::fuzz {
namespace {

constexpr size_t kMaxJsonDepth = 1024;

void PutBe(uint64_t v, int bytes, std::string& out) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Oracles for the text AppendBinaryValueText gives, written digit by digit from the types'
// send formats (nothing shared with pg_binary_value.cc); nullopt where the bytes are not a
// valid value of the type.
std::optional<std::string> ReferenceText(uint32_t oid, std::string_view b) {
  auto u16 = [&](size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
  };
  auto be = [&](size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(b[i]);
    return v;
  };
  switch (oid) {
    case postgres::kInt2Oid:
      if (b.size() != 2) return std::nullopt;
      return std::to_string(static_cast<int16_t>(be(2)));
    case postgres::kInt4Oid:
      if (b.size() != 4) return std::nullopt;
      return std::to_string(static_cast<int32_t>(be(4)));
    case postgres::kInt8Oid:
      if (b.size() != 8) return std::nullopt;
      return std::to_string(static_cast<int64_t>(be(8)));
    case postgres::kNumericOid: {
      // numeric_send: Int16 ndigits, Int16 weight, UInt16 sign, UInt16 dscale, ndigits
      // base-10000 digits; numeric_out: sign, the integer groups (the first unpadded, "0" when
      // the weight is negative), then dscale fraction digits.
      if (b.size() < 8) return std::nullopt;
      const int ndigits = static_cast<int16_t>(u16(0));
      const int weight = static_cast<int16_t>(u16(2));
      const uint16_t sign = u16(4);
      const size_t dscale = u16(6);
      if (ndigits < 0 || b.size() != 8 + 2 * static_cast<size_t>(ndigits)) return std::nullopt;
      std::vector<int> digits;
      for (int i = 0; i < ndigits; ++i) {
        digits.push_back(u16(8 + 2 * static_cast<size_t>(i)));
        if (digits.back() > 9999) return std::nullopt;
      }
      if (dscale > 0x3FFF) return std::nullopt;
      if (sign == 0xC000) return "NaN";
      if (sign == 0xD000) return "Infinity";
      if (sign == 0xF000) return "-Infinity";
      if (sign != 0x0000 && sign != 0x4000) return std::nullopt;
      auto digit = [&](long g) { return g < 0 || g >= ndigits ? 0 : digits[static_cast<size_t>(g)]; };
      auto group = [&](long g) {
        std::string s = std::to_string(digit(g));
        return std::string(4 - s.size(), '0') + s;
      };
      std::string out = sign == 0x4000 ? "-" : "";
      if (weight < 0) {
        out += '0';
      } else {
        out += std::to_string(digit(0));
        for (long g = 1; g <= weight; ++g) out += group(g);
      }
      if (dscale > 0) {
        std::string fraction;
        for (long g = weight + 1; fraction.size() < dscale; ++g) fraction += group(g);
        out += '.';
        out += fraction.substr(0, dscale);
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

bool HasReferenceText(uint32_t oid) {
  return oid == postgres::kInt2Oid || oid == postgres::kInt4Oid || oid == postgres::kInt8Oid ||
         oid == postgres::kNumericOid;
}

// The tuple format, from its definition: Int16 count, then per field Int32 length (-1 NULL)
// and the bytes.
std::string RenderTuple(const std::vector<std::optional<std::string_view>>& values) {
  std::string out;
  PutBe(values.size(), 2, out);
  for (const auto& v : values) {
    if (!v) {
      PutBe(0xFFFFFFFFu, 4, out);
      continue;
    }
    PutBe(v->size(), 4, out);
    out.append(*v);
  }
  return out;
}

// The kinds a decoded binary value of `oid` may have.
bool KindFits(uint32_t oid, v1::Value::KindCase kind) {
  switch (oid) {
    case postgres::kInt2Oid:
    case postgres::kInt4Oid:
    case postgres::kInt8Oid:
    case postgres::kOidOid:
      return kind == v1::Value::kInt64;
    case postgres::kBoolOid:
      return kind == v1::Value::kBool;
    case postgres::kFloat8Oid:
      return kind == v1::Value::kDouble;
    case postgres::kNumericOid:
      return kind == v1::Value::kDecimal;
    case postgres::kTimestampOid:
      return kind == v1::Value::kDatetime || kind == v1::Value::kRaw;
    case postgres::kTimestamptzOid:
      return kind == v1::Value::kTimestampMicros || kind == v1::Value::kRaw;
    case postgres::kUuidOid:
      return kind == v1::Value::kString;
    case postgres::kJsonOid:
    case postgres::kJsonbOid:
      return kind == v1::Value::kJson || kind == v1::Value::kBytes;
    default:  // text types
      return kind == v1::Value::kString || kind == v1::Value::kBytes;
  }
}

void Run(std::string_view in) {
  static const bool quiet = (QuietProtobufLogs(), true);
  (void)quiet;
  if (in.empty()) return;
  const bool header = (static_cast<uint8_t>(in[0]) & 0x80) != 0;
  const size_t n = static_cast<uint8_t>(in[0]) & 0x7F;
  if (in.size() < 1 + 4 * n) return;
  std::vector<uint32_t> oids(n);
  for (size_t c = 0; c < n; ++c) {
    uint32_t oid = 0;
    for (int b = 3; b >= 0; --b) oid = (oid << 8) | static_cast<uint8_t>(in[1 + 4 * c + b]);
    oids[c] = oid;
  }
  // An exact-size copy of the message, so that a read past its end is caught.
  const std::string message(in.substr(1 + 4 * n));

  postgres::CopyBinaryRow parser, again;
  if (!header) {  // a later message: both parsers first read a first message (header + NULLs)
    std::string first(postgres::kCopyBinarySignature);
    PutBe(0, 4, first);
    PutBe(0, 4, first);
    first += RenderTuple(std::vector<std::optional<std::string_view>>(n));
    SLUICE_FUZZ_CHECK(parser.Parse(first, n).ok());
    SLUICE_FUZZ_CHECK(again.Parse(first, n).ok());
  }
  const absl::Status st = parser.Parse(message, n);
  const absl::Status st2 = again.Parse(message, n);
  SLUICE_FUZZ_CHECK(st == st2, st.ToString() + " vs " + st2.ToString());
  if (!st.ok()) {
    SLUICE_FUZZ_CHECK(st.code() == absl::StatusCode::kDataLoss, st.ToString());
    return;
  }
  SLUICE_FUZZ_CHECK(parser.ended() == again.ended());
  if (parser.ended()) {
    SLUICE_FUZZ_CHECK(message.size() >= 2 &&
                      message.compare(message.size() - 2, 2, "\xFF\xFF") == 0);
    SLUICE_FUZZ_CHECK(!parser.Parse(message, n).ok());  // nothing after the trailer
    return;
  }
  const auto& values = parser.values();
  SLUICE_FUZZ_CHECK(values.size() == n);
  SLUICE_FUZZ_CHECK(again.values() == values);
  for (const auto& v : values) {
    if (!v || v->empty()) continue;
    SLUICE_FUZZ_CHECK(v->data() >= message.data() &&
                      v->data() + v->size() <= message.data() + message.size());
  }
  const std::string rendered = RenderTuple(values);
  SLUICE_FUZZ_CHECK(message.size() >= rendered.size() &&
                    message.compare(message.size() - rendered.size(), rendered.size(), rendered) ==
                        0);
  const size_t header_size = message.size() - rendered.size();
  SLUICE_FUZZ_CHECK(header ? header_size >= postgres::kCopyBinaryHeaderSize : header_size == 0);

  std::string wire, scratch, text, text_wire, json;
  for (size_t c = 0; c < n; ++c) {
    wire.clear();
    if (!postgres::HasBinaryDecoder(oids[c])) {
      // Read as an output function's text, as the reader does.
      postgres::AppendTextValueWire(oids[c], values[c], nullptr, wire);
      continue;
    }
    const absl::Status ds =
        postgres::AppendBinaryValueWire(oids[c], values[c], nullptr, scratch, wire);
    SLUICE_FUZZ_CHECK(ds.ok() || ds.code() == absl::StatusCode::kDataLoss, ds.ToString());
    {  // the fast path (taken inside AppendBinaryValueWire when it can) adds nothing of its own
      std::string general;
      const absl::Status gs = postgres::binary_internal::AppendBinaryValueWireGeneral(
          oids[c], values[c], nullptr, scratch, general);
      SLUICE_FUZZ_CHECK(gs == ds && general == wire,
                        "oid " + std::to_string(oids[c]) + ": fast and general paths differ");
    }
    if (values[c] && postgres::HasBinaryText(oids[c])) {
      text.clear();
      const absl::Status ts = postgres::AppendBinaryValueText(oids[c], *values[c], text);
      SLUICE_FUZZ_CHECK(ts.ok() == ds.ok(), ts.ToString() + " vs " + ds.ToString());
      if (HasReferenceText(oids[c])) {
        const std::optional<std::string> reference = ReferenceText(oids[c], *values[c]);
        SLUICE_FUZZ_CHECK(ts.ok() == reference.has_value(), ts.ToString());
        if (reference) {
          SLUICE_FUZZ_CHECK(text == *reference,
                            "oid " + std::to_string(oids[c]) + ": " + text + " vs " + *reference);
        }
      }
      if (ts.ok()) {
        text_wire.clear();
        postgres::AppendTextValueWire(oids[c], text, nullptr, text_wire);
        SLUICE_FUZZ_CHECK(wire == text_wire, "oid " + std::to_string(oids[c]) + " text " + text);
      }
    }
    if (!ds.ok()) continue;
    v1::Value parsed;
    SLUICE_FUZZ_CHECK(parsed.ParseFromString(wire), "oid " + std::to_string(oids[c]));
    SLUICE_FUZZ_CHECK(parsed.SerializeAsString() == wire, "oid " + std::to_string(oids[c]));
    if (!values[c]) {
      SLUICE_FUZZ_CHECK(parsed.kind_case() == v1::Value::kNull && parsed.null());
    } else {
      SLUICE_FUZZ_CHECK(KindFits(oids[c], parsed.kind_case()),
                        "oid " + std::to_string(oids[c]) + " -> " + parsed.ShortDebugString());
    }
    json = ValueToJson(parsed);
    SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
  }
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
