#include "proto/base/debezium_json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "proto/base/event_json.h"
#include "proto/base/format_internal.h"
#include "proto/base/time_format.h"
#include "proto/base/value_json.h"

#ifndef SLUICE_VERSION
#error "SLUICE_VERSION must be defined by the build (proto/CMakeLists.txt)"
#endif

namespace sluice {
namespace {

using internal::AppendDecimal;
using internal::AppendPaddedDecimal;

// What Debezium (like the Postgres JDBC driver) sends for timestamp 'infinity' / '-infinity'.
constexpr int64_t kDebeziumInfinityMicros = 9'223'372'036'825'200'000;
constexpr int64_t kDebeziumMinusInfinityMicros = -9'223'372'036'832'400'000;
// MicroDuration: a month is 365.25 / 12 = 30.4375 days = 2,629,800 seconds.
constexpr int64_t kMicrosPerMonth = 2'629'800 * kMicrosPerSecond;

// `wide` as an int64 JSON number, or false when it does not fit.
bool AppendInt64(__int128 wide, std::string& out) {
  if (wide > INT64_MAX || wide < INT64_MIN) return false;
  AppendDecimal(static_cast<int64_t>(wide), out);
  return true;
}

// Days since the epoch of a date that Debezium can express, or nullopt for the MySQL zero date
// and partial zero dates (month or day 0), infinities and out-of-range fields.
std::optional<int64_t> EpochDays(const v1::Date& date) {
  if (date.infinity() != 0) return std::nullopt;
  if (date.month() < 1 || date.month() > 12 || date.day() < 1 || date.day() > 31) {
    return std::nullopt;
  }
  // sluice keeps Postgres' convention (year -44 is 44 BC); the calendar counts astronomically
  // (44 BC is year -43). Year 0 only comes from MySQL and is taken as it is.
  const int64_t year = date.year() < 0 ? int64_t{date.year()} + 1 : date.year();
  return DaysFromCivil(year, date.month(), date.day());
}

__int128 TimeOfDayMicros(const v1::Time& time) {
  return (__int128{time.hours()} * 3600 + __int128{time.minutes()} * 60 + time.seconds()) *
             kMicrosPerSecond +
         time.micros();
}

bool IsZeroDate(const v1::Date& date) {
  return date.infinity() == 0 && (date.month() == 0 || date.day() == 0);
}

// io.debezium.time.ZonedTime: the time in UTC, "HH:MM:SS[.f]Z".
void AppendZonedTime(const v1::Time& time, std::string& out) {
  __int128 micros = TimeOfDayMicros(time);
  if (time.negative()) micros = -micros;
  micros -= __int128{time.utc_offset_seconds()} * kMicrosPerSecond;
  micros %= kMicrosPerDay;
  if (micros < 0) micros += kMicrosPerDay;
  const auto m = static_cast<uint64_t>(micros);
  const uint64_t seconds = m / kMicrosPerSecond;
  out.push_back('"');
  AppendPaddedDecimal(seconds / 3600, 2, out);
  out.push_back(':');
  AppendPaddedDecimal(seconds / 60 % 60, 2, out);
  out.push_back(':');
  AppendPaddedDecimal(seconds % 60, 2, out);
  AppendFraction(static_cast<uint32_t>(m % kMicrosPerSecond), out);
  out += "Z\"";
}

void AppendTime(const v1::Value& value, std::string& out) {
  const v1::Time& time = value.time();
  if (time.has_utc_offset_seconds()) {
    AppendZonedTime(time, out);
    return;
  }
  const __int128 micros = TimeOfDayMicros(time);
  if (!AppendInt64(time.negative() ? -micros : micros, out)) AppendValueJson(value, out);
}

void AppendDateTime(const v1::Value& value, std::string& out) {
  const v1::DateTime& datetime = value.datetime();
  if (datetime.date().infinity() != 0) {
    AppendDecimal(
        datetime.date().infinity() > 0 ? kDebeziumInfinityMicros : kDebeziumMinusInfinityMicros,
        out);
    return;
  }
  if (IsZeroDate(datetime.date())) {
    out += "null";
    return;
  }
  const std::optional<int64_t> days = EpochDays(datetime.date());
  if (days &&
      AppendInt64(__int128{*days} * kMicrosPerDay + TimeOfDayMicros(datetime.time()), out)) {
    return;
  }
  AppendValueJson(value, out);
}

void AppendDate(const v1::Value& value, std::string& out) {
  if (IsZeroDate(value.date())) {
    out += "null";
    return;
  }
  const std::optional<int64_t> days = EpochDays(value.date());
  if (days) {
    AppendDecimal(*days, out);
  } else {
    AppendValueJson(value, out);
  }
}

void AppendInterval(const v1::Value& value, std::string& out) {
  const v1::Interval& interval = value.interval();
  const __int128 micros = __int128{interval.months()} * kMicrosPerMonth +
                          __int128{interval.days()} * kMicrosPerDay + interval.micros();
  if (!AppendInt64(micros, out)) AppendValueJson(value, out);
}

// {"col":value,...} in column order; then each `unchanged` column that the row does not carry,
// with Debezium's placeholder.
void AppendRow(const v1::Row& row, const google::protobuf::RepeatedPtrField<std::string>* unchanged,
               std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const v1::Field& field : row.fields()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(field.name(), out);
    out.push_back(':');
    AppendDebeziumValue(field.value(), out);
  }
  if (unchanged != nullptr) {
    for (const std::string& column : *unchanged) {
      bool present = false;
      for (const v1::Field& field : row.fields()) present = present || field.name() == column;
      if (present) continue;
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(column, out);
      out.push_back(':');
      AppendJsonString(kDebeziumUnavailableValue, out);
    }
  }
  out.push_back('}');
}

// Milliseconds since the epoch, rounded down (as Java's Instant.toEpochMilli does).
int64_t FloorMillis(int64_t micros) {
  int64_t millis = micros / 1000;
  if (micros % 1000 < 0) --millis;
  return millis;
}

void AppendStringOrNull(std::string_view s, std::string& out) {
  if (s.empty()) {
    out += "null";
  } else {
    AppendJsonString(s, out);
  }
}

// A number when `text` is one, otherwise the text as a string (null when empty).
void AppendNumberOrString(std::string_view text, std::string& out) {
  uint64_t n = 0;
  if (absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &n)) {
    AppendDecimal(n, out);
  } else {
    AppendStringOrNull(text, out);
  }
}

void AppendSource(const v1::ChangeEvent& event, std::string& out) {
  const v1::SourceInfo& source = event.source();
  out += "{\"version\":";
  AppendJsonString(DebeziumSourceVersion(), out);
  out += ",\"connector\":";
  switch (source.kind()) {
    case v1::SOURCE_KIND_MYSQL:
      out += "\"mysql\"";
      break;
    case v1::SOURCE_KIND_POSTGRES:
      out += "\"postgresql\"";
      break;
    default:
      out += "\"unknown\"";
      break;
  }
  out += ",\"name\":";
  AppendJsonString(source.name(), out);
  out += ",\"ts_ms\":";
  AppendDecimal(FloorMillis(source.commit_ts_micros()), out);
  out += ",\"snapshot\":";
  out += source.snapshot() ? "\"true\"" : "\"false\"";
  out += ",\"db\":";
  AppendJsonString(source.database(), out);
  if (source.kind() == v1::SOURCE_KIND_POSTGRES) {
    out += ",\"schema\":";
    AppendJsonString(source.schema(), out);
    out += ",\"table\":";
    AppendJsonString(source.table(), out);
    out += ",\"txId\":";
    AppendNumberOrString(source.txid(), out);
    out += ",\"lsn\":";
    if (source.typed_position().has_pg()) {
      AppendDecimal(source.typed_position().pg().lsn(), out);
    } else {
      out += "null";
    }
    out.push_back('}');
    return;
  }
  out += ",\"table\":";
  AppendStringOrNull(source.table(), out);
  if (source.kind() == v1::SOURCE_KIND_MYSQL) {
    out += ",\"gtid\":";
    AppendStringOrNull(source.gtid(), out);
    out += ",\"file\":";
    if (source.typed_position().has_binlog()) {
      AppendJsonString(source.typed_position().binlog().file(), out);
      out += ",\"pos\":";
      AppendDecimal(source.typed_position().binlog().position(), out);
    } else {
      out += "null,\"pos\":null";
    }
  }
  out.push_back('}');
}

// Debezium's transaction id: the GTID, or "file=F,pos=P" of the BEGIN event (MySQL); "xid:lsn"
// (Postgres). Null when the source gave no transaction id.
void AppendTransactionId(const v1::SourceInfo& source, std::string& out) {
  if (source.kind() == v1::SOURCE_KIND_MYSQL) {
    if (!source.gtid().empty()) {
      AppendJsonString(source.gtid(), out);
      return;
    }
    const size_t colon = source.txid().rfind(':');
    if (colon != std::string::npos) {
      AppendJsonString(
          "file=" + source.txid().substr(0, colon) + ",pos=" + source.txid().substr(colon + 1),
          out);
      return;
    }
  } else if (source.kind() == v1::SOURCE_KIND_POSTGRES && !source.txid().empty() &&
             source.typed_position().has_pg()) {
    AppendJsonString(source.txid() + ":" + std::to_string(source.typed_position().pg().lsn()), out);
    return;
  }
  AppendStringOrNull(source.txid(), out);
}

// "schema.table" (Postgres) or "database.table" (MySQL): Debezium's data collection name.
std::string DataCollection(const v1::SourceInfo& source) {
  const std::string& qualifier = source.schema().empty() ? source.database() : source.schema();
  return qualifier + "." + source.table();
}

}  // namespace

std::string_view DebeziumSourceVersion() { return "sluice-" SLUICE_VERSION; }

void AppendDebeziumValue(const v1::Value& value, std::string& out) {
  switch (value.kind_case()) {
    case v1::Value::kDecimal:
      AppendJsonString(value.decimal() == "NaN" ? "NAN" : value.decimal(), out);
      return;
    case v1::Value::kDate:
      AppendDate(value, out);
      return;
    case v1::Value::kTime:
      AppendTime(value, out);
      return;
    case v1::Value::kDatetime:
      AppendDateTime(value, out);
      return;
    case v1::Value::kJson:
      AppendJsonString(value.json(), out);
      return;
    case v1::Value::kInterval:
      AppendInterval(value, out);
      return;
    case v1::Value::kArray: {
      out.push_back('[');
      bool first = true;
      for (const v1::Value& element : value.array().elements()) {
        if (!first) out.push_back(',');
        first = false;
        AppendDebeziumValue(element, out);
      }
      out.push_back(']');
      return;
    }
    default:
      // Integers, doubles, strings, bytes (base64), booleans, timestamps (ISO 8601 in UTC, which
      // is io.debezium.time.ZonedTimestamp), raw text and null are the same as canonical JSON.
      AppendValueJson(value, out);
      return;
  }
}

std::optional<uint64_t> DebeziumRenderer::NextDataCollectionOrder(const v1::ChangeEvent& event) {
  const uint32_t index = event.transaction_index();
  if (index == 0) {
    in_transaction_ = true;
    per_table_.clear();
    source_name_ = event.source().name();
    txid_ = event.source().txid();
  } else if (!in_transaction_ || index != next_index_ || event.source().name() != source_name_ ||
             event.source().txid() != txid_) {
    in_transaction_ = false;  // joined mid-transaction: earlier events of this one are unknown
    per_table_.clear();
  }
  next_index_ = index + 1;
  std::optional<uint64_t> order;
  // Debezium counts the events it emits; DDL events are not emitted (see Render).
  if (in_transaction_ && event.op() != v1::OP_DDL) {
    order = ++per_table_[DataCollection(event.source())];
  }
  if (event.last_in_transaction()) {
    in_transaction_ = false;
    per_table_.clear();
  }
  return order;
}

std::optional<std::string> DebeziumRenderer::Render(const v1::ChangeEvent& event) {
  const std::optional<uint64_t> data_collection_order = NextDataCollectionOrder(event);
  if (event.op() == v1::OP_DDL) return std::nullopt;

  std::string out;
  const int64_t ts_ms = FloorMillis(event.ingest_ts_micros());
  if (event.op() == v1::OP_MESSAGE) {
    out += "{\"source\":";
    AppendSource(event, out);
    out += ",\"op\":\"m\",\"ts_ms\":";
    AppendDecimal(ts_ms, out);
    out += ",\"message\":{\"prefix\":";
    AppendJsonString(event.message().prefix(), out);
    out += ",\"content\":\"";
    AppendBase64(event.message().content(), out);
    out += "\"}}";
    return out;
  }

  out += "{\"before\":";
  if (event.has_before()) {
    AppendRow(event.before(), nullptr, out);
  } else {
    out += "null";
  }
  out += ",\"after\":";
  if (event.has_after()) {
    AppendRow(event.after(), &event.unchanged(), out);
  } else {
    out += "null";
  }
  out += ",\"source\":";
  AppendSource(event, out);
  out += ",\"op\":\"";
  out += OpCode(event.op());
  out += "\",\"ts_ms\":";
  AppendDecimal(ts_ms, out);
  out += ",\"transaction\":";
  if (event.source().snapshot()) {
    out += "null";  // Debezium's snapshot rows belong to no transaction
  } else {
    out += "{\"id\":";
    AppendTransactionId(event.source(), out);
    out += ",\"total_order\":";
    AppendDecimal(uint64_t{event.transaction_index()} + 1, out);
    out += ",\"data_collection_order\":";
    if (data_collection_order) {
      AppendDecimal(*data_collection_order, out);
    } else {
      out += "null";
    }
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

}  // namespace sluice
