// Fuzzes what a subscriber does with bytes read back from the change log (storage/key_format.h):
// decode the input as a log key, a time key and a record; when the record decodes, parse its
// event as a sluice.v1.ChangeEvent and render it with EventToJson and EventToText.
//
// Checks: decoded keys re-encode to the same bytes; a decoded record's views lie inside the
// input and survive AppendRecord -> DecodeRecord; a bad record is DataLoss; EventToJson is one
// line of valid UTF-8 JSON; EventToText is one line of valid UTF-8.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/base/event_json.h"
#include "sluice/v1/event.pb.h"
#include "storage/key_format.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace {

namespace storage = sluice::storage;
using sluice::fuzz::CheckJson;
using sluice::fuzz::IsValidUtf8;

// Nesting of rendered events: protobuf limits messages to 100 levels; a json value adds 512.
constexpr size_t kMaxRenderedDepth = 4096;

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void CheckKeys(std::string_view input) {
  if (const auto key = storage::DecodeLogKey(input)) {
    SLUICE_FUZZ_CHECK(input.size() == storage::kLogKeySize);
    SLUICE_FUZZ_CHECK(storage::LogKey(key->source, key->offset) == input, "log key round trip");
    SLUICE_FUZZ_CHECK(storage::DescribeLogKey(input).rfind("log key ", 0) == 0);
  } else {
    SLUICE_FUZZ_CHECK(input.size() != storage::kLogKeySize, "a log-key-sized key did not decode");
    SLUICE_FUZZ_CHECK(storage::DescribeLogKey(input).size() == 4 + 2 * input.size(),
                      "DescribeLogKey of a non-key is not \"key \" + hex");
  }
  if (const auto key = storage::DecodeTimeKey(input)) {
    SLUICE_FUZZ_CHECK(input.size() == storage::kTimeKeySize);
    SLUICE_FUZZ_CHECK(storage::TimeKey(key->source, key->commit_ts_micros, key->offset) == input,
                      "time key round trip");
  } else {
    SLUICE_FUZZ_CHECK(input.size() != storage::kTimeKeySize, "a time-key-sized key did not decode");
  }
}

void CheckRendering(const sluice::v1::ChangeEvent& event) {
  const std::string json = sluice::EventToJson(event);
  SLUICE_FUZZ_CHECK(json.find_first_of("\r\n") == std::string::npos,
                    "EventToJson is not one line: " + json);
  SLUICE_FUZZ_CHECK(IsValidUtf8(json), "EventToJson is not UTF-8: " + json);
  SLUICE_FUZZ_CHECK(CheckJson(json, kMaxRenderedDepth, nullptr),
                    "EventToJson is not valid JSON: " + json);

  const std::string text = sluice::EventToText(event);
  SLUICE_FUZZ_CHECK(text.find_first_of("\r\n") == std::string::npos,
                    "EventToText is not one line: " + text);
  SLUICE_FUZZ_CHECK(IsValidUtf8(text), "EventToText is not UTF-8: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = (sluice::fuzz::QuietProtobufLogs(), true);
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  CheckKeys(input);

  const absl::StatusOr<storage::RecordView> record = storage::DecodeRecord(input);
  if (!record.ok()) {
    SLUICE_FUZZ_CHECK(record.status().code() == absl::StatusCode::kDataLoss,
                      "DecodeRecord failed with " + record.status().ToString());
    return 0;
  }
  SLUICE_FUZZ_CHECK(Inside(record->table, input) && Inside(record->event, input),
                    "record views outside the input");
  SLUICE_FUZZ_CHECK(record->event.data() + record->event.size() == input.data() + input.size(),
                    "the event is not the rest of the record");

  // Re-encoding gives a record that decodes to the same parts (the varint may be shorter).
  std::string again;
  storage::AppendRecord(record->flags, record->op, record->table, record->event, again);
  const absl::StatusOr<storage::RecordView> reread = storage::DecodeRecord(again);
  SLUICE_FUZZ_CHECK(reread.ok(), "AppendRecord output does not decode");
  SLUICE_FUZZ_CHECK(reread->flags == record->flags && reread->op == record->op &&
                        reread->table == record->table && reread->event == record->event,
                    "record round trip");
  SLUICE_FUZZ_CHECK(again.size() <= input.size(), "AppendRecord is longer than its input");

  sluice::v1::ChangeEvent event;
  if (!event.ParseFromArray(record->event.data(), static_cast<int>(record->event.size()))) {
    return 0;
  }
  CheckRendering(event);
  return 0;
}
