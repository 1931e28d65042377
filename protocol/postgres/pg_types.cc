#include "protocol/postgres/pg_types.h"

#include <string_view>

namespace sluice::postgres {
namespace {

struct BuiltinType {
  uint32_t oid;
  uint32_t array_oid;
  std::string_view name;
};

constexpr BuiltinType kBuiltinTypes[] = {
    {kBoolOid, kBoolArrayOid, "bool"},
    {kByteaOid, kByteaArrayOid, "bytea"},
    {kCharOid, kCharArrayOid, "char"},
    {kNameOid, kNameArrayOid, "name"},
    {kInt8Oid, kInt8ArrayOid, "int8"},
    {kInt2Oid, kInt2ArrayOid, "int2"},
    {kInt4Oid, kInt4ArrayOid, "int4"},
    {kTextOid, kTextArrayOid, "text"},
    {kOidOid, kOidArrayOid, "oid"},
    {kJsonOid, kJsonArrayOid, "json"},
    {kXmlOid, kXmlArrayOid, "xml"},
    {kCidrOid, kCidrArrayOid, "cidr"},
    {kFloat4Oid, kFloat4ArrayOid, "float4"},
    {kFloat8Oid, kFloat8ArrayOid, "float8"},
    {kMacaddr8Oid, kMacaddr8ArrayOid, "macaddr8"},
    {kMoneyOid, kMoneyArrayOid, "money"},
    {kMacaddrOid, kMacaddrArrayOid, "macaddr"},
    {kInetOid, kInetArrayOid, "inet"},
    {kBpcharOid, kBpcharArrayOid, "bpchar"},
    {kVarcharOid, kVarcharArrayOid, "varchar"},
    {kDateOid, kDateArrayOid, "date"},
    {kTimeOid, kTimeArrayOid, "time"},
    {kTimestampOid, kTimestampArrayOid, "timestamp"},
    {kTimestamptzOid, kTimestamptzArrayOid, "timestamptz"},
    {kIntervalOid, kIntervalArrayOid, "interval"},
    {kTimetzOid, kTimetzArrayOid, "timetz"},
    {kBitOid, kBitArrayOid, "bit"},
    {kVarbitOid, kVarbitArrayOid, "varbit"},
    {kNumericOid, kNumericArrayOid, "numeric"},
    {kUuidOid, kUuidArrayOid, "uuid"},
    {kJsonbOid, kJsonbArrayOid, "jsonb"},
};

}  // namespace

std::optional<uint32_t> BuiltinArrayElementOid(uint32_t array_oid) {
  for (const BuiltinType& t : kBuiltinTypes) {
    if (t.array_oid == array_oid) return t.oid;
  }
  return std::nullopt;
}

bool IsBuiltinScalarOid(uint32_t oid) {
  for (const BuiltinType& t : kBuiltinTypes) {
    if (t.oid == oid) return true;
  }
  return false;
}

std::optional<std::string> BuiltinTypeName(uint32_t oid) {
  for (const BuiltinType& t : kBuiltinTypes) {
    if (t.oid == oid) return std::string(t.name);
    if (t.array_oid == oid) return std::string(t.name) + "[]";
  }
  if (oid == kUnknownOid) return std::string("unknown");
  return std::nullopt;
}

}  // namespace sluice::postgres
