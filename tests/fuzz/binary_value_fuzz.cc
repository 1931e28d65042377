// libFuzzer target for the MariaDB/MySQL snapshot's row reader over the binary protocol: the
// column definitions and one binary row of a prepared statement's result, split by
// mysqlclient::ParseBinaryRowView and each value stored by AppendBinaryColumnWire, as
// MysqlSnapshotReader does with every row it reads.
//
// Input (the seeds are result sets captured from our own test MariaDB by
// mysql_corpus_capture_test, BinaryRows):
//
//   n          1 byte, the number of columns
//   columns    n x (u16 little-endian length, a ColumnDefinition41 payload)
//   row        the rest: one binary row payload
//
// Checks besides "no crash, no sanitizer report":
//   - a row that parses has n values, each a view inside the row, of its type's fixed size
//     (binary_protocol.h) when it has one;
//   - every value of a parsed row stores (AppendBinaryColumnWire succeeds), and the bytes are a
//     v1::Value that parses, deterministic, of the kind the column's type gives or raw; NULL is
//     the null Value; strings, bytes, decimals and JSON are exactly the bytes sent (the same
//     bytes as the text protocol's, AppendTextColumnWire); dates and times are in range;
//   - a key column's text (BinaryKeyText) of an integer, FLOAT or DOUBLE reads back as the
//     stored number;
//   - the value renders as valid JSON (json_check.h).

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/base/value_json.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/binary_value.h"
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

std::string Describe(const ColumnDefinition& c, const v1::Value& v) {
  return "type " + std::to_string(c.type) + " flags " + std::to_string(c.flags) + " charset " +
         std::to_string(c.charset) + " -> " + v.ShortDebugString();
}

bool IsTemporal(ColumnType t) {
  switch (t) {
    case ColumnType::kDate:
    case ColumnType::kNewDate:
    case ColumnType::kTime:
    case ColumnType::kTime2:
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2:
      return true;
    default:
      return false;
  }
}

void CheckTime(const v1::Time& t, bool duration, const std::string& what) {
  SLUICE_FUZZ_CHECK(t.minutes() < 60 && t.seconds() < 60 && t.micros() < 1'000'000, what);
  SLUICE_FUZZ_CHECK(duration ? t.hours() < 10'000 : (t.hours() < 100 && !t.negative()), what);
  if (t.hours() == 0 && t.minutes() == 0 && t.seconds() == 0 && t.micros() == 0) {
    SLUICE_FUZZ_CHECK(!t.negative(), what);
  }
}

void CheckDate(const v1::Date& d, const std::string& what) {
  SLUICE_FUZZ_CHECK(d.year() >= 0 && d.year() <= 9999 && d.month() <= 12 && d.day() <= 31, what);
}

void CheckValue(const ColumnDefinition& c, std::string_view bytes, const v1::Value& v) {
  const std::string what = Describe(c, v);
  const auto type = static_cast<ColumnType>(c.type);
  const int fixed = mysqlclient::BinaryFieldSize(c);
  if (fixed < 0) {
    // Sent as in the text protocol, so stored as the text protocol stores it.
    std::string text_wire;
    mysqlclient::AppendTextColumnWire(c, bytes, text_wire);
    SLUICE_FUZZ_CHECK(text_wire == v.SerializeAsString(), what);
    return;
  }
  if (v.kind_case() == v1::Value::kRaw) {
    // Only a temporal out of the text decoder's range becomes raw, as from the text protocol.
    SLUICE_FUZZ_CHECK(IsTemporal(type), what);
    SLUICE_FUZZ_CHECK(v.raw().type_name() == mysql::ColumnTypeName(type), what);
    return;
  }
  switch (v.kind_case()) {
    case v1::Value::kInt64:
    case v1::Value::kUint64: {
      SLUICE_FUZZ_CHECK(fixed > 0 && type != ColumnType::kFloat && type != ColumnType::kDouble,
                        what);
      std::string key;
      SLUICE_FUZZ_CHECK(mysqlclient::BinaryKeyText(c, bytes, key), what);
      if (v.kind_case() == v1::Value::kInt64) {
        int64_t back = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), back);
        SLUICE_FUZZ_CHECK(ec == std::errc() && end == key.data() + key.size() && back == v.int64(),
                          what + " key " + key);
      } else {
        uint64_t back = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), back);
        SLUICE_FUZZ_CHECK(ec == std::errc() && end == key.data() + key.size() && back == v.uint64(),
                          what + " key " + key);
      }
      break;
    }
    case v1::Value::kDouble: {
      SLUICE_FUZZ_CHECK(type == ColumnType::kFloat || type == ColumnType::kDouble, what);
      const double d = v.double_();
      if (type == ColumnType::kFloat) {
        SLUICE_FUZZ_CHECK(d != d || static_cast<double>(static_cast<float>(d)) == d, what);
      }
      // The resume key of a FLOAT/DOUBLE key column reads back as exactly the stored number.
      std::string key;
      SLUICE_FUZZ_CHECK(mysqlclient::BinaryKeyText(c, bytes, key), what);
      if (std::isfinite(d)) {
        double back = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), back);
        SLUICE_FUZZ_CHECK(ec == std::errc() && end == key.data() + key.size() && back == d &&
                              std::signbit(back) == std::signbit(d),
                          what + " key " + key);
      }
      break;
    }
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
    case v1::Value::kTimestampMicros:
      SLUICE_FUZZ_CHECK(type == ColumnType::kTimestamp || type == ColumnType::kTimestamp2, what);
      break;
    default:
      SLUICE_FUZZ_CHECK(false, what);
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
    const size_t len = static_cast<uint8_t>(in[pos]) |
                       (static_cast<size_t>(static_cast<uint8_t>(in[pos + 1])) << 8);
    pos += 2;
    if (in.size() - pos < len) return;
    const std::string payload(in.substr(pos, len));
    pos += len;
    auto def = mysqlclient::ParseColumnDefinition(payload);
    if (!def.ok()) return;
    columns.push_back(*std::move(def));
  }
  // An exact-size copy, so that a read past the row is caught.
  const std::string row(in.substr(pos));
  mysqlclient::BinaryRowView values;
  const absl::Status st = mysqlclient::ParseBinaryRowView(row, columns, values);
  if (!st.ok()) {
    SLUICE_FUZZ_CHECK(absl::IsDataLoss(st) && !st.message().empty(), st.ToString());
    return;
  }
  SLUICE_FUZZ_CHECK(values.size() == n);
  std::string wire, again;
  for (size_t c = 0; c < n; ++c) {
    const std::optional<std::string_view>& value = values[c];
    if (value) {
      SLUICE_FUZZ_CHECK(value->data() >= row.data() &&
                        value->data() + value->size() <= row.data() + row.size());
      const int fixed = mysqlclient::BinaryFieldSize(columns[c]);
      if (fixed > 0) SLUICE_FUZZ_CHECK(value->size() == static_cast<size_t>(fixed));
    }
    wire.clear();
    again.clear();
    const absl::Status a = mysqlclient::AppendBinaryColumnWire(columns[c], value, wire);
    SLUICE_FUZZ_CHECK(a.ok(), a.ToString());  // ParseBinaryRowView checked every size
    SLUICE_FUZZ_CHECK(mysqlclient::AppendBinaryColumnWire(columns[c], value, again).ok());
    SLUICE_FUZZ_CHECK(wire == again);
    v1::Value v;
    SLUICE_FUZZ_CHECK(v.ParseFromString(wire), Describe(columns[c], v));
    if (value) {
      CheckValue(columns[c], *value, v);
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
