#include "protocol/postgres/pg_text_value.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proto/base/utf8_safe.h"
#include "protocol/postgres/pg_datetime.h"
#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {
namespace {

// Domains over domains, arrays of domains: a resolver that loops is cut off here.
constexpr int kMaxResolveDepth = 8;

v1::Value Raw(std::string type_name, std::string_view text) {
  v1::Value v;
  v.mutable_raw()->set_type_name(std::move(type_name));
  v.mutable_raw()->set_text(std::string(text));
  return v;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseFloat(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text.empty()) return std::nullopt;
  // from_chars would also take "inf"/"nan" spellings Postgres never prints; require a digit.
  const char first = text[0] == '-' ? (text.size() > 1 ? text[1] : '\0') : text[0];
  if (!(first >= '0' && first <= '9') && first != '.') return std::nullopt;
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// [-] digits [. digits], or NaN / Infinity / -Infinity.
bool IsNumericText(std::string_view text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return true;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    ++int_digits;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++frac_digits;
    }
    if (frac_digits == 0) return false;
  }
  return i == text.size() && int_digits > 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> ParseByteaHex(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = HexDigit(text[i]);
    const int lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Splits a one-dimensional array literal into its elements (nullopt = NULL). Returns nullopt for
// anything else: multi-dimensional arrays, explicit bounds ("[0:1]={...}"), bad quoting.
std::optional<std::vector<std::optional<std::string>>> SplitArray(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  std::vector<std::optional<std::string>> out;
  const std::string_view body = text.substr(1, text.size() - 2);
  if (body.empty()) return out;
  size_t i = 0;
  while (true) {
    std::string elem;
    bool quoted = false;
    if (i < body.size() && body[i] == '"') {
      quoted = true;
      ++i;
      bool closed = false;
      while (i < body.size()) {
        const char c = body[i++];
        if (c == '\\') {
          if (i >= body.size()) return std::nullopt;
          elem.push_back(body[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          elem.push_back(c);
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < body.size() && body[i] != ',') {
        const char c = body[i++];
        if (c == '{' || c == '}' || c == '"') return std::nullopt;
        if (c == '\\') {
          if (i >= body.size()) return std::nullopt;
          elem.push_back(body[i++]);
        } else {
          elem.push_back(c);
        }
      }
      if (elem.empty()) return std::nullopt;
    }
    if (!quoted && absl::AsciiStrToUpper(elem) == "NULL") {
      out.emplace_back(std::nullopt);
    } else {
      out.emplace_back(std::move(elem));
    }
    if (i == body.size()) break;
    if (body[i] != ',') return std::nullopt;
    ++i;
    if (i == body.size()) return std::nullopt;  // trailing comma
  }
  return out;
}

std::string OidName(uint32_t oid) { return absl::StrCat("oid:", oid); }

v1::Value Decode(uint32_t oid, std::string_view text, const TypeResolver& resolver, int depth);

v1::Value DecodeArray(uint32_t element_oid, std::string type_name, std::string_view text,
                      const TypeResolver& resolver, int depth) {
  auto elements = SplitArray(text);
  if (!elements) return Raw(std::move(type_name), text);
  v1::Value v;
  v1::Array* array = v.mutable_array();
  for (const std::optional<std::string>& e : *elements) {
    if (!e) {
      *array->add_elements() = NullValue();
    } else {
      *array->add_elements() = Decode(element_oid, *e, resolver, depth + 1);
    }
  }
  return v;
}

v1::Value DecodeBuiltin(uint32_t oid, std::string_view text) {
  v1::Value v;
  const std::string name = BuiltinTypeName(oid).value_or(OidName(oid));
  switch (oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      if (auto i = ParseInt(text)) {
        v.set_int64(*i);
        return v;
      }
      break;
    case kNumericOid:
      if (IsNumericText(text)) {
        v.set_decimal(std::string(text));
        return v;
      }
      break;
    case kFloat4Oid:
    case kFloat8Oid:
      if (auto d = ParseFloat(text)) {
        v.set_double_(*d);
        return v;
      }
      break;
    case kBoolOid:
      if (text == "t" || text == "f") {
        v.set_bool_(text == "t");
        return v;
      }
      break;
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kUuidOid:
    case kInetOid:
    case kCidrOid:
    case kMacaddrOid:
    case kMacaddr8Oid:
    case kMoneyOid:
    case kBitOid:
    case kVarbitOid:
    case kXmlOid:
      v.set_string(std::string(text));
      return v;
    case kByteaOid:
      if (auto b = ParseByteaHex(text)) {
        v.set_bytes(std::move(*b));
        return v;
      }
      break;
    case kJsonOid:
    case kJsonbOid:
      v.set_json(std::string(text));
      return v;
    case kDateOid:
      if (auto d = ParsePgDate(text)) {
        *v.mutable_date() = std::move(*d);
        return v;
      }
      break;
    case kTimeOid:
      if (auto t = ParsePgTime(text)) {
        *v.mutable_time() = std::move(*t);
        return v;
      }
      break;
    case kTimetzOid:
      if (auto t = ParsePgTimetz(text)) {
        *v.mutable_time() = std::move(*t);
        return v;
      }
      break;
    case kTimestampOid:
      if (auto t = ParsePgTimestamp(text)) {
        *v.mutable_datetime() = std::move(*t);
        return v;
      }
      break;
    case kTimestamptzOid:
      if (auto t = ParsePgTimestamptz(text)) {
        v.set_timestamp_micros(*t);
        return v;
      }
      break;
    case kIntervalOid:
      if (auto i = ParsePgInterval(text)) {
        *v.mutable_interval() = std::move(*i);
        return v;
      }
      break;
    default:
      break;
  }
  return Raw(name, text);
}

v1::Value Decode(uint32_t oid, std::string_view text, const TypeResolver& resolver, int depth) {
  if (IsBuiltinScalarOid(oid)) return DecodeBuiltin(oid, text);
  if (auto element = BuiltinArrayElementOid(oid)) {
    return DecodeArray(*element, *BuiltinTypeName(oid), text, resolver, depth);
  }
  if (!resolver || depth >= kMaxResolveDepth) return Raw(OidName(oid), text);
  TypeResolution r = resolver(oid);
  std::string name = r.type_name.empty() ? OidName(oid) : std::move(r.type_name);
  switch (r.kind) {
    case TypeResolution::Kind::kEnum: {
      v1::Value v;
      v.set_string(std::string(text));
      return v;
    }
    case TypeResolution::Kind::kBase:
      if (r.oid == oid) break;
      return Decode(r.oid, text, resolver, depth + 1);
    case TypeResolution::Kind::kArray:
      if (r.oid == oid) break;
      return DecodeArray(r.oid, std::move(name), text, resolver, depth);
    case TypeResolution::Kind::kUnknown:
      break;
  }
  return Raw(std::move(name), text);
}

}  // namespace

v1::Value NullValue() {
  v1::Value v;
  v.set_null(true);
  return v;
}

v1::Value DecodeTextValue(uint32_t type_oid, std::string_view text, const TypeResolver& resolver) {
  v1::Value v = Decode(type_oid, text, resolver, 0);
  // A database in SQL_ASCII sends any bytes as text: keep them, as bytes (utf8_safe.h).
  MakeUtf8Safe(v);
  return v;
}

}  // namespace sluice::postgres
