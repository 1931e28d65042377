// libFuzzer target for the MariaDB/MySQL snapshot's row reader: the column definitions and one
// text-protocol row of a result set, each value through mysqlclient::DecodeTextColumn and
// AppendTextColumnWire, as MysqlSnapshotReader does with every row it reads.
//
// Input (the seeds are result sets captured from our own test MariaDB by
// mysql_corpus_capture_test):
//
//   n          1 byte, the number of columns
//   columns    n x (u16 little-endian length, a ColumnDefinition41 payload)
//   row        the rest: one text row payload
//
// Checks besides "no crash, no sanitizer report":
//   - ParseTextRow and ParseTextRowView agree (values, or both fail), and a row has n values;
//   - AppendTextColumnWire writes exactly DecodeTextColumn(...).SerializeAsString() (whichever
//     of the two the caller uses, the stored bytes are the same);
//   - every value is valid for its column: NULL is the null Value; otherwise it is of the kind
//     the column's type gives (text_value.h) or raw, raw keeps the type name and the text,
//     strings, bytes, decimals and JSON keep the text exactly, integers read back from the
//     text, dates and times are in range, a FLOAT is a float;
//   - decoding is deterministic and the value renders as valid JSON (json_check.h).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/base/utf8.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/messages.h"
#include "protocol/mysqlclient/text_value.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace sluice::fuzz {
namespace {

using mysql::ColumnType;
using mysqlclient::ColumnDefinition;

constexpr size_t kMaxJsonDepth = 1024;

std::string Describe(const ColumnDefinition& c, std::string_view text, const v1::Value& v) {
  return "type " + std::to_string(c.type) + " flags " + std::to_string(c.flags) + " charset " +
         std::to_string(c.charset) + " text '" + std::string(text) + "' -> " +
         v.ShortDebugString();
}

// The kind text of column `c` decodes to when it fits the type; kRaw for types never decoded.
v1::Value::KindCase ExpectedKind(const ColumnDefinition& c) {
  switch (static_cast<ColumnType>(c.type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
      return (c.flags & mysqlclient::kUnsignedFlag) ? v1::Value::kUint64 : v1::Value::kInt64;
    case ColumnType::kYear:
      return v1::Value::kInt64;
    case ColumnType::kFloat:
    case ColumnType::kDouble:
      return v1::Value::kDouble;
    case ColumnType::kDecimal:
    case ColumnType::kNewDecimal:
      return v1::Value::kDecimal;
    case ColumnType::kBit:
      return v1::Value::kUint64;
    case ColumnType::kDate:
    case ColumnType::kNewDate:
      return v1::Value::kDate;
    case ColumnType::kTime:
    case ColumnType::kTime2:
      return v1::Value::kTime;
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
      return v1::Value::kDatetime;
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2:
      return v1::Value::kTimestampMicros;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString:
    case ColumnType::kEnum:
    case ColumnType::kSet:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kBlob:
      return (c.flags & (mysqlclient::kEnumFlag | mysqlclient::kSetFlag)) == 0 &&
                     c.charset == mysqlclient::kBinaryCharset
                 ? v1::Value::kBytes
                 : v1::Value::kString;
    case ColumnType::kJson:
      return v1::Value::kJson;
    case ColumnType::kGeometry:
      return v1::Value::kBytes;
    default:
      return v1::Value::kRaw;
  }
}

template <typename T>
bool ReadsBack(std::string_view text, T want) {
  T got{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), got);
  return ec == std::errc() && end == text.data() + text.size() && got == want;
}

void CheckTime(const v1::Time& t, bool duration, const std::string& what) {
  SLUICE_FUZZ_CHECK(t.minutes() < 60 && t.seconds() < 60 && t.micros() < 1'000'000, what);
  SLUICE_FUZZ_CHECK(duration ? t.hours() < 10'000 : (t.hours() < 100 && !t.negative()), what);
  // "-00:00:00" is zero, not negative (as in the binlog).
  if (t.hours() == 0 && t.minutes() == 0 && t.seconds() == 0 && t.micros() == 0) {
    SLUICE_FUZZ_CHECK(!t.negative(), what);
  }
}

void CheckDate(const v1::Date& d, const std::string& what) {
  SLUICE_FUZZ_CHECK(d.year() >= 0 && d.year() <= 9999 && d.month() <= 12 && d.day() <= 31, what);
}

void CheckValue(const ColumnDefinition& c, std::string_view text, const v1::Value& v) {
  const std::string what = Describe(c, text, v);
  if (!IsValidUtf8(text) && v.kind_case() == v1::Value::kBytes) {
    // Text that is not UTF-8 is kept, byte for byte, as bytes (binary columns are bytes too).
    SLUICE_FUZZ_CHECK(v.bytes() == text, what);
    return;
  }
  if (v.kind_case() == v1::Value::kRaw) {
    SLUICE_FUZZ_CHECK(v.raw().text() == text, what);
    SLUICE_FUZZ_CHECK(v.raw().type_name() ==
                          mysql::ColumnTypeName(static_cast<ColumnType>(c.type)),
                      what);
    return;
  }
  SLUICE_FUZZ_CHECK(v.kind_case() == ExpectedKind(c), what);
  switch (v.kind_case()) {
    case v1::Value::kString:
      SLUICE_FUZZ_CHECK(v.string() == text, what);
      break;
    case v1::Value::kBytes:
      SLUICE_FUZZ_CHECK(v.bytes() == text, what);
      break;
    case v1::Value::kDecimal:
      SLUICE_FUZZ_CHECK(v.decimal() == text, what);
      break;
    case v1::Value::kJson:
      SLUICE_FUZZ_CHECK(v.json() == text, what);
      break;
    case v1::Value::kInt64:
      SLUICE_FUZZ_CHECK(ReadsBack(text, v.int64()), what);
      break;
    case v1::Value::kUint64:
      if (static_cast<ColumnType>(c.type) == ColumnType::kBit) {
        SLUICE_FUZZ_CHECK(text.size() <= 8, what);
      } else {
        SLUICE_FUZZ_CHECK(ReadsBack(text, v.uint64()), what);
      }
      break;
    case v1::Value::kDouble:
      if (static_cast<ColumnType>(c.type) == ColumnType::kFloat) {
        const double d = v.double_();
        SLUICE_FUZZ_CHECK(d != d || static_cast<double>(static_cast<float>(d)) == d, what);
      }
      break;
    case v1::Value::kDate:
      CheckDate(v.date(), what);
      break;
    case v1::Value::kTime:
      CheckTime(v.time(), true, what);
      break;
    case v1::Value::kDatetime:
      CheckDate(v.datetime().date(), what);
      CheckTime(v.datetime().time(), false, what);
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
  size_t pos = 1;
  std::vector<ColumnDefinition> columns;
  for (size_t c = 0; c < n; ++c) {
    if (in.size() - pos < 2) return;
    const size_t len =
        static_cast<uint8_t>(in[pos]) | (static_cast<size_t>(static_cast<uint8_t>(in[pos + 1])) << 8);
    pos += 2;
    if (in.size() - pos < len) return;
    // An exact-size copy, so that a read past the definition is caught.
    const std::string payload(in.substr(pos, len));
    pos += len;
    auto def = mysqlclient::ParseColumnDefinition(payload);
    if (!def.ok()) {
      SLUICE_FUZZ_CHECK(!def.status().message().empty());
      return;
    }
    columns.push_back(*std::move(def));
  }
  const std::string row(in.substr(pos));

  auto copied = mysqlclient::ParseTextRow(row, n);
  mysqlclient::TextRowView view;
  const absl::Status vst = mysqlclient::ParseTextRowView(row, n, view);
  SLUICE_FUZZ_CHECK(copied.ok() == vst.ok(), copied.status().ToString() + " vs " + vst.ToString());
  if (!copied.ok()) {
    SLUICE_FUZZ_CHECK(copied.status() == vst, copied.status().ToString() + " vs " + vst.ToString());
    return;
  }
  SLUICE_FUZZ_CHECK(copied->size() == n && view.size() == n);

  std::string wire;
  for (size_t c = 0; c < n; ++c) {
    const std::optional<std::string>& text = (*copied)[c];
    SLUICE_FUZZ_CHECK(text.has_value() == view[c].has_value());
    if (text) SLUICE_FUZZ_CHECK(*text == *view[c]);
    const v1::Value v = mysqlclient::DecodeTextColumn(columns[c], text);
    const v1::Value again = mysqlclient::DecodeTextColumn(columns[c], text);
    const std::string serialized = v.SerializeAsString();
    SLUICE_FUZZ_CHECK(again.SerializeAsString() == serialized);
    wire.clear();
    mysqlclient::AppendTextColumnWire(columns[c], view[c], wire);
    SLUICE_FUZZ_CHECK(wire == serialized, Describe(columns[c], text.value_or("NULL"), v));
    if (text) {
      CheckValue(columns[c], *text, v);
    } else {
      SLUICE_FUZZ_CHECK(v.kind_case() == v1::Value::kNull && v.null());
    }
    const std::string json = ValueToJson(v);
    SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
  }
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
