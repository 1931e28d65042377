#include "proto/base/event_json.h"

#include <string>
#include <string_view>

#include "proto/base/format_internal.h"
#include "proto/base/time_format.h"
#include "proto/base/value_json.h"

namespace sluice {
namespace {

using internal::AppendDecimal;

// The value of column `name` in `row`, or nullptr when the row does not carry that column.
const v1::Value* FindColumn(const v1::Row& row, std::string_view name) {
  for (const v1::Field& field : row.fields()) {
    if (field.name() == name) return &field.value();
  }
  return nullptr;
}

// A JSON string, or null for the empty string.
void AppendStringOrNull(std::string_view s, std::string& out) {
  if (s.empty()) {
    out += "null";
  } else {
    AppendJsonString(s, out);
  }
}

void AppendBool(bool b, std::string& out) { out += b ? "true" : "false"; }

// {"col":value,...} for the key columns, in key_columns order. Each value comes from the after
// image, or from the before image when the after image is missing or lacks the column (MySQL
// minimal row images leave unchanged key columns out of the after image). Columns in neither
// image are left out.
void AppendKeyJson(const v1::ChangeEvent& event, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const std::string& column : event.key_columns()) {
    const v1::Value* value = nullptr;
    if (event.has_after()) value = FindColumn(event.after(), column);
    if (value == nullptr && event.has_before()) value = FindColumn(event.before(), column);
    if (value == nullptr) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(column, out);
    out.push_back(':');
    AppendValueJson(*value, out);
  }
  out.push_back('}');
}

void AppendSourceJson(const v1::SourceInfo& source, std::string& out) {
  out += "{\"name\":";
  AppendJsonString(source.name(), out);
  out += ",\"kind\":\"";
  out += SourceKindName(source.kind());
  out += "\",\"database\":";
  AppendStringOrNull(source.database(), out);
  out += ",\"schema\":";
  AppendStringOrNull(source.schema(), out);
  out += ",\"table\":";
  AppendStringOrNull(source.table(), out);
  out += ",\"position\":";
  AppendJsonString(source.position(), out);
  out += ",\"gtid\":";
  AppendStringOrNull(source.gtid(), out);
  out += ",\"txid\":";
  AppendStringOrNull(source.txid(), out);
  out += ",\"commit_ts\":";
  if (source.commit_ts_micros() == 0) {
    out += "null";
  } else {
    out.push_back('"');
    AppendTimestampMicros(source.commit_ts_micros(), out);
    out.push_back('"');
  }
  out += ",\"snapshot\":";
  AppendBool(source.snapshot(), out);
  out.push_back('}');
}

void AppendDdlJson(const v1::Ddl& ddl, std::string& out) {
  out += "{\"statement\":";
  AppendStringOrNull(ddl.statement(), out);
  out += ",\"columns\":[";
  bool first = true;
  for (const v1::ColumnSchema& column : ddl.columns()) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"name\":";
    AppendJsonString(column.name(), out);
    out += ",\"type\":";
    AppendJsonString(column.type_name(), out);
    out += ",\"nullable\":";
    AppendBool(column.nullable(), out);
    out += ",\"key\":";
    AppendBool(column.key(), out);
    out.push_back('}');
  }
  out += "]}";
}

void AppendMessageJson(const v1::LogicalMessage& message, std::string& out) {
  out += "{\"prefix\":";
  AppendJsonString(message.prefix(), out);
  out += ",\"content\":\"";
  AppendBase64(message.content(), out);
  out += "\",\"transactional\":";
  AppendBool(message.transactional(), out);
  out.push_back('}');
}

// `s` with JSON string escaping but without the quotes, so that the line stays one line.
void AppendEscapedName(std::string_view s, std::string& out) {
  const size_t start = out.size();
  AppendJsonString(s, out);
  out.erase(start, 1);  // opening quote
  out.pop_back();       // closing quote
}

// "schema.table" for Postgres, "database.table" for MySQL; "-" when there is no name at all.
void AppendQualifiedTable(const v1::SourceInfo& source, std::string& out) {
  const std::string& qualifier = source.schema().empty() ? source.database() : source.schema();
  if (qualifier.empty() && source.table().empty()) {
    out.push_back('-');
    return;
  }
  AppendEscapedName(qualifier, out);
  if (!qualifier.empty() && !source.table().empty()) out.push_back('.');
  AppendEscapedName(source.table(), out);
}

}  // namespace

std::string_view OpCode(v1::Op op) {
  switch (op) {
    case v1::OP_READ:
      return "r";
    case v1::OP_INSERT:
      return "c";
    case v1::OP_UPDATE:
      return "u";
    case v1::OP_DELETE:
      return "d";
    case v1::OP_TRUNCATE:
      return "t";
    case v1::OP_DDL:
      return "ddl";
    case v1::OP_MESSAGE:
      return "m";
    default:
      return "?";
  }
}

std::string_view SourceKindName(v1::SourceKind kind) {
  switch (kind) {
    case v1::SOURCE_KIND_MYSQL:
      return "mysql";
    case v1::SOURCE_KIND_POSTGRES:
      return "postgres";
    default:
      return "unknown";
  }
}

std::string EventToJson(const v1::ChangeEvent& event) {
  std::string out;
  out.reserve(512);
  out += "{\"offset\":";
  AppendDecimal(event.offset(), out);
  out += ",\"op\":\"";
  out += OpCode(event.op());
  out += "\",\"source\":";
  AppendSourceJson(event.source(), out);
  out += ",\"key\":";
  AppendKeyJson(event, out);
  out += ",\"before\":";
  if (event.has_before()) {
    AppendRowJson(event.before(), out);
  } else {
    out += "null";
  }
  out += ",\"after\":";
  if (event.has_after()) {
    AppendRowJson(event.after(), out);
  } else {
    out += "null";
  }
  out += ",\"unchanged\":[";
  bool first = true;
  for (const std::string& column : event.unchanged()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(column, out);
  }
  out += "],\"txn\":{\"index\":";
  AppendDecimal(event.transaction_index(), out);
  out += ",\"last\":";
  AppendBool(event.last_in_transaction(), out);
  out.push_back('}');
  if (event.op() == v1::OP_DDL) {
    out += ",\"ddl\":";
    AppendDdlJson(event.ddl(), out);
  } else if (event.op() == v1::OP_MESSAGE) {
    out += ",\"message\":";
    AppendMessageJson(event.message(), out);
  }
  out.push_back('}');
  return out;
}

std::string EventToText(const v1::ChangeEvent& event) {
  std::string out;
  AppendDecimal(event.offset(), out);
  out.push_back(' ');
  out += OpCode(event.op());
  out.push_back(' ');
  AppendQualifiedTable(event.source(), out);
  if (event.key_columns_size() > 0 && (event.has_before() || event.has_after())) {
    out += " key=";
    AppendKeyJson(event, out);
  }
  if (event.has_before()) {
    out += " before=";
    AppendRowJson(event.before(), out);
  }
  if (event.has_after()) {
    out += " after=";
    AppendRowJson(event.after(), out);
  }
  if (event.unchanged_size() > 0) {
    out += " unchanged=[";
    bool first = true;
    for (const std::string& column : event.unchanged()) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(column, out);
    }
    out.push_back(']');
  }
  if (event.op() == v1::OP_DDL) {
    out += " ddl=";
    AppendDdlJson(event.ddl(), out);
  } else if (event.op() == v1::OP_MESSAGE) {
    out += " message=";
    AppendMessageJson(event.message(), out);
  }
  return out;
}

}  // namespace sluice
