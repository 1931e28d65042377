#include "protocol/mysql/row_values.h"

#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/charset.h"
#include "protocol/mysql/decimal.h"
#include "protocol/mysql/json_binary.h"
#include "protocol/mysql/temporal.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

absl::Status Bad(const ByteReader& r, const ColumnDef& c, std::string_view what) {
  return absl::DataLossError(absl::StrCat(std::string(ColumnTypeName(c.type)),
                                          " value: ", std::string(what), " (ending at offset ",
                                          r.position(), ")"));
}

// A value prefixed by its length in `n` (1..4) little-endian bytes.
std::string_view ReadLengthPrefixed(ByteReader& r, size_t n) {
  uint64_t len = 0;
  switch (n) {
    case 1:
      len = r.ReadU8();
      break;
    case 2:
      len = r.ReadU16Le();
      break;
    case 3:
      len = r.ReadU24Le();
      break;
    default:
      len = r.ReadU32Le();
      break;
  }
  return r.ReadString(len);
}

uint64_t ReadUintLe(ByteReader& r, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(r.ReadU8()) << (8 * i);
  return v;
}

void SetText(std::string_view s, const ColumnDef& c, bool blob, v1::Value& out) {
  if (!c.collation) {
    if (blob) {
      out.mutable_bytes()->assign(s.data(), s.size());
    } else {
      out.mutable_string()->assign(s.data(), s.size());
    }
    return;
  }
  CharsetInfo cs = CharsetForCollation(*c.collation);
  switch (cs.kind) {
    case CharsetKind::kUtf8:
      out.mutable_string()->assign(s.data(), s.size());
      return;
    case CharsetKind::kLatin1:
      out.set_string(Latin1ToUtf8(s));
      return;
    case CharsetKind::kBinary:
      out.mutable_bytes()->assign(s.data(), s.size());
      return;
    case CharsetKind::kUcs2:
    case CharsetKind::kUtf16:
    case CharsetKind::kUtf16Le:
    case CharsetKind::kUtf32:
    case CharsetKind::kMultiByte:
      if (std::optional<std::string> utf8 = ConvertToUtf8(s, cs)) {
        out.set_string(*std::move(utf8));
        return;
      }
      [[fallthrough]];  // not valid in its charset: keep the bytes
    case CharsetKind::kOther:
    case CharsetKind::kUnknown: {
      v1::RawValue* raw = out.mutable_raw();
      raw->set_type_name(cs.kind == CharsetKind::kUnknown ? absl::StrCat("collation_", *c.collation)
                                                          : std::string(cs.name));
      std::string text = "base64:";
      AppendBase64(s, text);
      raw->set_text(std::move(text));
      return;
    }
  }
}

// The text kinds the flat decoder keeps without converting; nullopt for the converting charsets
// (and unknown ones), which go through SetText into a v1::Value slot.
std::optional<FlatKind> FlatTextKind(const ColumnDef& c, bool blob) {
  if (!c.collation) return blob ? FlatKind::kBytes : FlatKind::kString;
  switch (CharsetForCollation(*c.collation).kind) {
    case CharsetKind::kUtf8:
      return FlatKind::kString;
    case CharsetKind::kBinary:
      return FlatKind::kBytes;
    default:
      return std::nullopt;
  }
}

void SetFlatText(std::string_view s, const ColumnDef& c, bool blob, FlatValue& v, FlatRow& row) {
  if (std::optional<FlatKind> kind = FlatTextKind(c, blob)) {
    row.SetText(v, *kind, s);
    return;
  }
  if (c.collation && CharsetForCollation(*c.collation).kind == CharsetKind::kLatin1) {
    const size_t begin = row.arena().size();
    row.arena() += Latin1ToUtf8(s);
    row.SetArenaText(v, FlatKind::kString, begin);
    return;
  }
  SetText(s, c, blob, row.SetSlot(v));
}

}  // namespace

absl::Status ColumnValueError(const ByteReader& r, const ColumnDef& c, std::string_view what) {
  return Bad(r, c, what);
}

absl::Status ReadColumnValue(ByteReader& r, const ColumnDef& c, v1::Value& out) {
  const bool is_unsigned = c.is_unsigned.value_or(false);
  switch (c.type) {
    case ColumnType::kTiny: {
      uint8_t v = r.ReadU8();
      if (is_unsigned)
        out.set_uint64(v);
      else
        out.set_int64(static_cast<int8_t>(v));
      break;
    }
    case ColumnType::kShort: {
      uint16_t v = r.ReadU16Le();
      if (is_unsigned)
        out.set_uint64(v);
      else
        out.set_int64(static_cast<int16_t>(v));
      break;
    }
    case ColumnType::kInt24: {
      uint32_t v = r.ReadU24Le();
      if (is_unsigned)
        out.set_uint64(v);
      else
        out.set_int64(static_cast<int32_t>(v << 8) >> 8);
      break;
    }
    case ColumnType::kLong: {
      uint32_t v = r.ReadU32Le();
      if (is_unsigned)
        out.set_uint64(v);
      else
        out.set_int64(static_cast<int32_t>(v));
      break;
    }
    case ColumnType::kLongLong: {
      uint64_t v = r.ReadU64Le();
      if (is_unsigned)
        out.set_uint64(v);
      else
        out.set_int64(static_cast<int64_t>(v));
      break;
    }
    case ColumnType::kYear: {
      uint8_t v = r.ReadU8();
      out.set_int64(v == 0 ? 0 : 1900 + v);
      break;
    }
    case ColumnType::kFloat: {
      uint32_t bits = r.ReadU32Le();
      float f;
      std::memcpy(&f, &bits, sizeof f);
      out.set_double_(f);
      break;
    }
    case ColumnType::kDouble: {
      uint64_t bits = r.ReadU64Le();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      out.set_double_(d);
      break;
    }
    case ColumnType::kNewDecimal: {
      auto text = ReadBinaryDecimal(r, c.precision, c.scale);
      if (!text.ok()) return text.status();
      out.set_decimal(*std::move(text));
      break;
    }
    case ColumnType::kBit: {
      std::string_view b = r.ReadString((c.bits + 7) / 8);
      uint64_t v = 0;
      for (char ch : b) v = (v << 8) | static_cast<uint8_t>(ch);
      out.set_uint64(v);
      break;
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate:
      *out.mutable_date() = ReadDate(r);
      break;
    case ColumnType::kTime:
      *out.mutable_time() = ReadOldTime(r);
      break;
    case ColumnType::kTime2:
      *out.mutable_time() = ReadTime2(r, c.fsp);
      break;
    case ColumnType::kDateTime:
      *out.mutable_datetime() = ReadOldDateTime(r);
      break;
    case ColumnType::kDateTime2:
      *out.mutable_datetime() = ReadDateTime2(r, c.fsp);
      break;
    case ColumnType::kTimestamp:
      out.set_timestamp_micros(static_cast<int64_t>(r.ReadU32Le()) * 1000000);
      break;
    case ColumnType::kTimestamp2:
      out.set_timestamp_micros(ReadTimestamp2Micros(r, c.fsp));
      break;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString: {
      std::string_view s = ReadLengthPrefixed(r, c.max_length > 255 ? 2 : 1);
      if (!r.ok()) break;
      // BINARY(n) holds n bytes, but the server logs it without its trailing 0x00 padding.
      if (c.type == ColumnType::kString && c.collation == 63u /* binary */ &&
          s.size() < c.max_length) {
        std::string padded(s);
        padded.resize(c.max_length, '\0');
        out.set_bytes(std::move(padded));
        break;
      }
      SetText(s, c, false, out);
      break;
    }
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (r.ok()) SetText(s, c, true, out);
      break;
    }
    case ColumnType::kGeometry: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (r.ok()) out.mutable_bytes()->assign(s.data(), s.size());
      break;
    }
    case ColumnType::kJson: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (!r.ok()) break;
      std::string text;
      absl::Status st = AppendJsonFromBinary(s, text);
      if (!st.ok()) return st;
      out.set_json(std::move(text));
      break;
    }
    case ColumnType::kVector: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (!r.ok()) break;
      if (s.size() % 4 != 0)
        return Bad(r, c, absl::StrCat("length ", s.size(), " is not a multiple of 4"));
      v1::Array* array = out.mutable_array();
      for (size_t i = 0; i < s.size(); i += 4) {
        uint32_t bits = 0;
        for (size_t k = 0; k < 4; ++k)
          bits |= static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])) << (8 * k);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        array->add_elements()->set_double_(f);
      }
      break;
    }
    case ColumnType::kEnum: {
      uint64_t index = ReadUintLe(r, c.length_bytes);
      if (!r.ok()) break;
      if (c.enum_values.empty()) {
        out.set_uint64(index);
      } else if (index == 0) {
        out.set_string("");
      } else if (index > c.enum_values.size()) {
        return Bad(r, c,
                   absl::StrCat("index ", index, " beyond the ", c.enum_values.size(), " members"));
      } else {
        out.mutable_string()->assign(c.enum_values[index - 1]);
      }
      break;
    }
    case ColumnType::kSet: {
      uint64_t bits = ReadUintLe(r, c.length_bytes);
      if (!r.ok()) break;
      if (c.set_values.empty()) {
        out.set_uint64(bits);
        break;
      }
      std::string joined;
      for (size_t i = 0; i < 64 && bits != 0; ++i, bits >>= 1) {
        if (!(bits & 1)) continue;
        if (i >= c.set_values.size()) {
          return Bad(r, c,
                     absl::StrCat("bit ", i, " set beyond the ", c.set_values.size(), " members"));
        }
        if (!joined.empty()) joined.push_back(',');
        joined += c.set_values[i];
      }
      out.set_string(std::move(joined));
      break;
    }
    case ColumnType::kNull:
      out.set_null(true);
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("column type ",
                                                   std::string(ColumnTypeName(c.type)), " (",
                                                   static_cast<int>(c.type), ") is not supported"));
  }
  if (!r.ok()) return r.status(absl::StrCat(std::string(ColumnTypeName(c.type)), " value"));
  return absl::OkStatus();
}

absl::Status ReadFlatColumnValue(ByteReader& r, const ColumnDef& c, uint32_t column, FlatRow& row) {
  const bool is_unsigned = c.is_unsigned.value_or(false);
  FlatValue& v = row.Add(column);
  auto set_int = [&](int64_t signed_value, uint64_t unsigned_value) {
    if (is_unsigned) {
      v.kind = FlatKind::kUint64;
      v.u64 = unsigned_value;
    } else {
      v.kind = FlatKind::kInt64;
      v.i64 = signed_value;
    }
  };
  switch (c.type) {
    case ColumnType::kTiny: {
      uint8_t x = r.ReadU8();
      set_int(static_cast<int8_t>(x), x);
      break;
    }
    case ColumnType::kShort: {
      uint16_t x = r.ReadU16Le();
      set_int(static_cast<int16_t>(x), x);
      break;
    }
    case ColumnType::kInt24: {
      uint32_t x = r.ReadU24Le();
      set_int(static_cast<int32_t>(x << 8) >> 8, x);
      break;
    }
    case ColumnType::kLong: {
      uint32_t x = r.ReadU32Le();
      set_int(static_cast<int32_t>(x), x);
      break;
    }
    case ColumnType::kLongLong: {
      uint64_t x = r.ReadU64Le();
      set_int(static_cast<int64_t>(x), x);
      break;
    }
    case ColumnType::kYear: {
      uint8_t x = r.ReadU8();
      v.kind = FlatKind::kInt64;
      v.i64 = x == 0 ? 0 : 1900 + x;
      break;
    }
    case ColumnType::kFloat: {
      uint32_t bits = r.ReadU32Le();
      float f;
      std::memcpy(&f, &bits, sizeof f);
      v.kind = FlatKind::kDouble;
      v.f64 = f;
      break;
    }
    case ColumnType::kDouble: {
      uint64_t bits = r.ReadU64Le();
      v.kind = FlatKind::kDouble;
      std::memcpy(&v.f64, &bits, sizeof v.f64);
      break;
    }
    case ColumnType::kNewDecimal: {
      const size_t begin = row.arena().size();
      absl::Status st = AppendBinaryDecimal(r, c.precision, c.scale, row.arena());
      if (!st.ok()) return st;
      row.SetArenaText(v, FlatKind::kDecimal, begin);
      break;
    }
    case ColumnType::kBit: {
      std::string_view b = r.ReadString((c.bits + 7) / 8);
      uint64_t x = 0;
      for (char ch : b) x = (x << 8) | static_cast<uint8_t>(ch);
      v.kind = FlatKind::kUint64;
      v.u64 = x;
      break;
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate:
      v.kind = FlatKind::kDate;
      v.date = ReadDateParts(r);
      break;
    case ColumnType::kTime:
      v.kind = FlatKind::kTime;
      v.time = ReadOldTimeParts(r);
      break;
    case ColumnType::kTime2:
      v.kind = FlatKind::kTime;
      v.time = ReadTime2Parts(r, c.fsp);
      break;
    case ColumnType::kDateTime:
      v.kind = FlatKind::kDateTime;
      v.datetime = ReadOldDateTimeParts(r);
      break;
    case ColumnType::kDateTime2:
      v.kind = FlatKind::kDateTime;
      v.datetime = ReadDateTime2Parts(r, c.fsp);
      break;
    case ColumnType::kTimestamp:
      v.kind = FlatKind::kTimestampMicros;
      v.i64 = static_cast<int64_t>(r.ReadU32Le()) * 1000000;
      break;
    case ColumnType::kTimestamp2:
      v.kind = FlatKind::kTimestampMicros;
      v.i64 = ReadTimestamp2Micros(r, c.fsp);
      break;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString: {
      std::string_view s = ReadLengthPrefixed(r, c.max_length > 255 ? 2 : 1);
      if (!r.ok()) break;
      // BINARY(n) holds n bytes, but the server logs it without its trailing 0x00 padding.
      if (c.type == ColumnType::kString && c.collation == 63u /* binary */ &&
          s.size() < c.max_length) {
        const size_t begin = row.arena().size();
        row.arena().append(s);
        row.arena().append(c.max_length - s.size(), '\0');
        row.SetArenaText(v, FlatKind::kBytes, begin);
        break;
      }
      SetFlatText(s, c, false, v, row);
      break;
    }
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (r.ok()) SetFlatText(s, c, true, v, row);
      break;
    }
    case ColumnType::kGeometry: {
      std::string_view s = ReadLengthPrefixed(r, c.length_bytes);
      if (r.ok()) row.SetText(v, FlatKind::kBytes, s);
      break;
    }
    case ColumnType::kEnum: {
      uint64_t index = ReadUintLe(r, c.length_bytes);
      if (!r.ok()) break;
      if (c.enum_values.empty()) {
        v.kind = FlatKind::kUint64;
        v.u64 = index;
      } else if (index == 0) {
        row.SetText(v, FlatKind::kString, std::string_view());
      } else if (index > c.enum_values.size()) {
        return Bad(r, c,
                   absl::StrCat("index ", index, " beyond the ", c.enum_values.size(), " members"));
      } else {
        row.SetText(v, FlatKind::kString, c.enum_values[index - 1]);
      }
      break;
    }
    case ColumnType::kSet: {
      uint64_t bits = ReadUintLe(r, c.length_bytes);
      if (!r.ok()) break;
      if (c.set_values.empty()) {
        v.kind = FlatKind::kUint64;
        v.u64 = bits;
        break;
      }
      const size_t begin = row.arena().size();
      for (size_t i = 0; i < 64 && bits != 0; ++i, bits >>= 1) {
        if (!(bits & 1)) continue;
        if (i >= c.set_values.size()) {
          return Bad(r, c,
                     absl::StrCat("bit ", i, " set beyond the ", c.set_values.size(), " members"));
        }
        if (row.arena().size() != begin) row.arena().push_back(',');
        row.arena() += c.set_values[i];
      }
      row.SetArenaText(v, FlatKind::kString, begin);
      break;
    }
    case ColumnType::kNull:
      v.kind = FlatKind::kNull;
      break;
    default:
      // JSON, VECTOR and the types ReadColumnValue rejects: decoded by it, into a slot.
      return ReadColumnValue(r, c, row.SetSlot(v));
  }
  if (!r.ok()) return r.status(absl::StrCat(std::string(ColumnTypeName(c.type)), " value"));
  return absl::OkStatus();
}

}  // namespace sluice::mysql
