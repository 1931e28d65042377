#pragma once
// Built-in Postgres type OIDs (pg_type.oid, stable across versions) and their names.
//
// Pure, constexpr-friendly lookups; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::postgres {

// Scalar types.
inline constexpr uint32_t kBoolOid = 16;
inline constexpr uint32_t kByteaOid = 17;
inline constexpr uint32_t kCharOid = 18;  // "char", one byte
inline constexpr uint32_t kNameOid = 19;
inline constexpr uint32_t kInt8Oid = 20;
inline constexpr uint32_t kInt2Oid = 21;
inline constexpr uint32_t kInt4Oid = 23;
inline constexpr uint32_t kTextOid = 25;
inline constexpr uint32_t kOidOid = 26;
inline constexpr uint32_t kJsonOid = 114;
inline constexpr uint32_t kXmlOid = 142;
inline constexpr uint32_t kCidrOid = 650;
inline constexpr uint32_t kFloat4Oid = 700;
inline constexpr uint32_t kFloat8Oid = 701;
inline constexpr uint32_t kUnknownOid = 705;
inline constexpr uint32_t kMacaddr8Oid = 774;
inline constexpr uint32_t kMoneyOid = 790;
inline constexpr uint32_t kMacaddrOid = 829;
inline constexpr uint32_t kInetOid = 869;
inline constexpr uint32_t kBpcharOid = 1042;
inline constexpr uint32_t kVarcharOid = 1043;
inline constexpr uint32_t kDateOid = 1082;
inline constexpr uint32_t kTimeOid = 1083;
inline constexpr uint32_t kTimestampOid = 1114;
inline constexpr uint32_t kTimestamptzOid = 1184;
inline constexpr uint32_t kIntervalOid = 1186;
inline constexpr uint32_t kTimetzOid = 1266;
inline constexpr uint32_t kBitOid = 1560;
inline constexpr uint32_t kVarbitOid = 1562;
inline constexpr uint32_t kNumericOid = 1700;
inline constexpr uint32_t kUuidOid = 2950;
inline constexpr uint32_t kJsonbOid = 3802;

// One-dimensional array types of the scalars above.
inline constexpr uint32_t kJsonArrayOid = 199;
inline constexpr uint32_t kXmlArrayOid = 143;
inline constexpr uint32_t kCidrArrayOid = 651;
inline constexpr uint32_t kMacaddr8ArrayOid = 775;
inline constexpr uint32_t kMoneyArrayOid = 791;
inline constexpr uint32_t kBoolArrayOid = 1000;
inline constexpr uint32_t kByteaArrayOid = 1001;
inline constexpr uint32_t kCharArrayOid = 1002;
inline constexpr uint32_t kNameArrayOid = 1003;
inline constexpr uint32_t kInt2ArrayOid = 1005;
inline constexpr uint32_t kInt4ArrayOid = 1007;
inline constexpr uint32_t kTextArrayOid = 1009;
inline constexpr uint32_t kBpcharArrayOid = 1014;
inline constexpr uint32_t kVarcharArrayOid = 1015;
inline constexpr uint32_t kInt8ArrayOid = 1016;
inline constexpr uint32_t kFloat4ArrayOid = 1021;
inline constexpr uint32_t kFloat8ArrayOid = 1022;
inline constexpr uint32_t kOidArrayOid = 1028;
inline constexpr uint32_t kMacaddrArrayOid = 1040;
inline constexpr uint32_t kInetArrayOid = 1041;
inline constexpr uint32_t kTimestampArrayOid = 1115;
inline constexpr uint32_t kDateArrayOid = 1182;
inline constexpr uint32_t kTimeArrayOid = 1183;
inline constexpr uint32_t kTimestamptzArrayOid = 1185;
inline constexpr uint32_t kIntervalArrayOid = 1187;
inline constexpr uint32_t kNumericArrayOid = 1231;
inline constexpr uint32_t kTimetzArrayOid = 1270;
inline constexpr uint32_t kBitArrayOid = 1561;
inline constexpr uint32_t kVarbitArrayOid = 1563;
inline constexpr uint32_t kUuidArrayOid = 2951;
inline constexpr uint32_t kJsonbArrayOid = 3807;

// The element type of a built-in array type (1007 -> 23); nullopt for anything else.
std::optional<uint32_t> BuiltinArrayElementOid(uint32_t array_oid);

// True for the scalar OIDs above that DecodeTextValue understands without a resolver.
bool IsBuiltinScalarOid(uint32_t oid);

// The pg_type name of a built-in scalar ("int4", "timestamptz") or array ("int4[]");
// nullopt for other OIDs.
std::optional<std::string> BuiltinTypeName(uint32_t oid);

}  // namespace sluice::postgres
