// Fuzzes the canonical JSON rendering of values (proto/base/value_json.h).
//
//   1. The input as a serialized sluice.v1.Value (skipped when it does not parse): ValueToJson
//      must be valid UTF-8 JSON, and AppendValueJson must append exactly that.
//   2. The input as JSON text: AppendMinifiedJson must agree with our own checker
//      (json_check.h) on whether it is valid, produce the same minified text, append nothing
//      when it is invalid, and be idempotent.
//   3. The input as a `json`, `string`, `raw`, `decimal` and `bytes` Value: valid JSON; a json
//      value renders minified or, when invalid, as a JSON string; strings of valid UTF-8 decode
//      back to themselves; bytes decode back from base64.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/base/value_json.h"
#include "sluice/v1/event.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace {

using sluice::fuzz::CheckJson;
using sluice::fuzz::DecodeBase64;
using sluice::fuzz::DecodeJsonString;
using sluice::fuzz::IsValidUtf8;

// Rendered values may nest deeper than one json value: arrays (up to protobuf's 100 levels)
// around a json value of up to kMaxJsonNestingDepth levels.
constexpr size_t kMaxRenderedDepth = 4096;

void CheckRendered(const std::string& json, std::string_view what) {
  SLUICE_FUZZ_CHECK(IsValidUtf8(json), std::string(what) + " is not UTF-8: " + json);
  SLUICE_FUZZ_CHECK(CheckJson(json, kMaxRenderedDepth, nullptr),
                    std::string(what) + " is not valid JSON: " + json);
}

void CheckSerializedValue(const uint8_t* data, size_t size) {
  sluice::v1::Value value;
  if (!value.ParseFromArray(data, static_cast<int>(size))) return;
  const std::string json = sluice::ValueToJson(value);
  CheckRendered(json, "ValueToJson");
  std::string appended = "[";
  sluice::AppendValueJson(value, appended);
  SLUICE_FUZZ_CHECK(appended == "[" + json, "AppendValueJson differs from ValueToJson");
}

void CheckMinifier(std::string_view input) {
  std::string minified = "prefix";
  const bool valid = sluice::AppendMinifiedJson(input, minified);
  std::string expected = "prefix";
  const bool expected_valid = CheckJson(input, sluice::kMaxJsonNestingDepth, &expected);
  SLUICE_FUZZ_CHECK(valid == expected_valid, std::string("AppendMinifiedJson says ") +
                                                 (valid ? "valid" : "invalid") +
                                                 ", the checker disagrees");
  SLUICE_FUZZ_CHECK(minified == expected, "minified text differs: " + minified + " vs " + expected);
  if (!valid) return;
  // Minifying minified text changes nothing.
  std::string twice;
  SLUICE_FUZZ_CHECK(sluice::AppendMinifiedJson(std::string_view(minified).substr(6), twice),
                    "minified JSON is not valid");
  SLUICE_FUZZ_CHECK(twice == minified.substr(6), "minifying is not idempotent");
}

void CheckTextValues(std::string_view input) {
  const std::string text(input);

  sluice::v1::Value json_value;
  json_value.set_json(text);
  const std::string json = sluice::ValueToJson(json_value);
  CheckRendered(json, "a json value");
  std::string minified;
  if (sluice::AppendMinifiedJson(input, minified)) {
    SLUICE_FUZZ_CHECK(json == minified, "a valid json value is not rendered minified");
  } else {
    std::string as_string;
    sluice::AppendJsonString(input, as_string);
    SLUICE_FUZZ_CHECK(json == as_string, "an invalid json value is not rendered as a string");
  }

  sluice::v1::Value string_value;
  string_value.set_string(text);
  const std::string rendered = sluice::ValueToJson(string_value);
  CheckRendered(rendered, "a string value");
  const std::optional<std::string> decoded = DecodeJsonString(rendered);
  SLUICE_FUZZ_CHECK(decoded.has_value(), "a string value is not one JSON string: " + rendered);
  if (IsValidUtf8(input)) {
    SLUICE_FUZZ_CHECK(*decoded == input, "a UTF-8 string does not round-trip: " + rendered);
  } else {
    SLUICE_FUZZ_CHECK(decoded->find("\xEF\xBF\xBD") != std::string::npos,
                      "invalid UTF-8 rendered without U+FFFD: " + rendered);
  }

  sluice::v1::Value raw_value;
  raw_value.mutable_raw()->set_text(text);
  SLUICE_FUZZ_CHECK(sluice::ValueToJson(raw_value) == rendered, "raw text renders differently");
  sluice::v1::Value decimal_value;
  decimal_value.set_decimal(text);
  SLUICE_FUZZ_CHECK(sluice::ValueToJson(decimal_value) == rendered, "decimal renders differently");

  sluice::v1::Value bytes_value;
  bytes_value.set_bytes(text);
  const std::string base64 = sluice::ValueToJson(bytes_value);
  CheckRendered(base64, "a bytes value");
  SLUICE_FUZZ_CHECK(base64.size() >= 2 && base64.front() == '"' && base64.back() == '"', base64);
  const std::optional<std::string> bytes =
      DecodeBase64(std::string_view(base64).substr(1, base64.size() - 2));
  SLUICE_FUZZ_CHECK(bytes.has_value() && *bytes == input, "bytes do not round-trip: " + base64);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = (sluice::fuzz::QuietProtobufLogs(), true);
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckSerializedValue(data, size);
  CheckMinifier(input);
  CheckTextValues(input);
  return 0;
}
