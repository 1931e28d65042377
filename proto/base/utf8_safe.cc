#include "proto/base/utf8_safe.h"

#include <string>

#include "proto/base/utf8.h"

namespace sluice {
namespace {

int MendText(std::string& s) {
  if (IsValidUtf8(s)) return 0;
  s = ToValidUtf8(s);
  return 1;
}

int MendTexts(google::protobuf::RepeatedPtrField<std::string>& list) {
  int changed = 0;
  for (std::string& s : list) changed += MendText(s);
  return changed;
}

// A value's text that is not well-formed becomes the same bytes as `bytes`.
int TextToBytes(v1::Value& value, std::string& text) {
  if (IsValidUtf8(text)) return 0;
  std::string bytes = std::move(text);
  value.set_bytes(std::move(bytes));
  return 1;
}

int MendRow(v1::Row& row) {
  int changed = 0;
  for (v1::Field& f : *row.mutable_fields()) {
    changed += MendText(*f.mutable_name());
    if (f.has_value()) changed += MakeUtf8Safe(*f.mutable_value());
  }
  return changed;
}

}  // namespace

int MakeUtf8Safe(v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kString:
      return TextToBytes(value, *value.mutable_string());
    case v1::Value::kDecimal:
      return TextToBytes(value, *value.mutable_decimal());
    case v1::Value::kJson:
      return TextToBytes(value, *value.mutable_json());
    case v1::Value::kRaw:
      if (IsValidUtf8(value.raw().text()) && IsValidUtf8(value.raw().type_name())) return 0;
      return TextToBytes(value, *value.mutable_raw()->mutable_text());
    case v1::Value::kArray: {
      int changed = 0;
      for (v1::Value& e : *value.mutable_array()->mutable_elements()) changed += MakeUtf8Safe(e);
      return changed;
    }
    default:
      return 0;
  }
}

int MakeUtf8Safe(v1::SourceInfo& info) {
  int changed = MendText(*info.mutable_name()) + MendText(*info.mutable_database()) +
                MendText(*info.mutable_schema()) + MendText(*info.mutable_table()) +
                MendText(*info.mutable_position()) + MendText(*info.mutable_gtid()) +
                MendText(*info.mutable_txid());
  if (info.has_typed_position() && info.typed_position().has_binlog()) {
    v1::BinlogCoordinate* b = info.mutable_typed_position()->mutable_binlog();
    changed += MendText(*b->mutable_file()) + MendText(*b->mutable_gtid()) +
               MendText(*b->mutable_gtid_set());
  }
  return changed;
}

bool IsUtf8Safe(const v1::SourceInfo& info) {
  const v1::BinlogCoordinate& b = info.typed_position().binlog();
  for (const std::string* s : {&info.name(), &info.database(), &info.schema(), &info.table(),
                               &info.position(), &info.gtid(), &info.txid(), &b.file(),
                               &b.gtid(), &b.gtid_set()}) {
    if (!IsValidUtf8(*s)) return false;
  }
  return true;
}

int MakeUtf8Safe(v1::ChangeEvent& event) {
  int changed = 0;
  if (event.has_source()) changed += MakeUtf8Safe(*event.mutable_source());
  changed += MendTexts(*event.mutable_key_columns());
  if (event.has_before()) changed += MendRow(*event.mutable_before());
  if (event.has_after()) changed += MendRow(*event.mutable_after());
  changed += MendTexts(*event.mutable_unchanged());
  if (event.has_ddl()) {
    v1::Ddl* ddl = event.mutable_ddl();
    changed += MendText(*ddl->mutable_statement());
    for (v1::ColumnSchema& c : *ddl->mutable_columns()) {
      changed += MendText(*c.mutable_name()) + MendText(*c.mutable_type_name());
    }
  }
  if (event.has_message()) changed += MendText(*event.mutable_message()->mutable_prefix());
  return changed;
}

}  // namespace sluice
