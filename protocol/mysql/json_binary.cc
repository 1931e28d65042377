#include "protocol/mysql/json_binary.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/decimal.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysql/temporal.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

enum JsonType : uint8_t {
  kSmallObject = 0x00,
  kLargeObject = 0x01,
  kSmallArray = 0x02,
  kLargeArray = 0x03,
  kLiteral = 0x04,
  kInt16 = 0x05,
  kUint16 = 0x06,
  kInt32 = 0x07,
  kUint32 = 0x08,
  kInt64 = 0x09,
  kUint64 = 0x0a,
  kDouble = 0x0b,
  kString = 0x0c,
  kOpaque = 0x0f,
};

constexpr int kMaxDepth = 100;

class JsonDecoder {
 public:
  explicit JsonDecoder(std::string_view doc) : doc_(doc) {}

  absl::Status Value(uint8_t type, size_t at, size_t end, int depth, std::string& out);
  absl::Status Dom(uint8_t type, size_t at, size_t end, int depth, JsonDom& node);

 private:
  absl::Status Error(size_t at, std::string_view what) const {
    return absl::DataLossError(
        absl::StrCat("JSON binary value: ", std::string(what), " at document offset ", at));
  }
  absl::Status Container(bool object, bool large, size_t at, size_t end, int depth,
                         std::string& out);
  absl::Status Scalar(uint8_t type, size_t at, size_t end, std::string& out);
  absl::Status Opaque(size_t at, size_t end, std::string& out);
  // Reads JSON's varlen length at `at`; sets `len` and the number of bytes it used.
  absl::Status Varlen(size_t at, size_t end, uint32_t& len, size_t& used) const;

  std::string_view doc_;
};

uint64_t Le(std::string_view d, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(d[at + i])) << (8 * i);
  return v;
}

void AppendDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, ptr);
}

void AppendTwo(uint32_t v, std::string& out) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void AppendMicros(uint32_t micros, std::string& out) {
  if (micros == 0) return;
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%06u", micros % 1000000);
  out += buf;
}

void AppendDate(const v1::Date& d, std::string& out) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", d.year(), d.month(), d.day());
  out += buf;
}

void AppendTime(const v1::Time& t, std::string& out) {
  if (t.negative()) out.push_back('-');
  if (t.hours() >= 100) {
    absl::StrAppend(&out, t.hours());
  } else {
    AppendTwo(t.hours(), out);
  }
  out.push_back(':');
  AppendTwo(t.minutes(), out);
  out.push_back(':');
  AppendTwo(t.seconds(), out);
  AppendMicros(t.micros(), out);
}

absl::Status JsonDecoder::Varlen(size_t at, size_t end, uint32_t& len, size_t& used) const {
  uint64_t v = 0;
  for (size_t i = 0; i < 5; ++i) {
    if (at + i >= end) return Error(at, "truncated variable-length size");
    uint8_t b = static_cast<uint8_t>(doc_[at + i]);
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (v > UINT32_MAX) return Error(at, "variable-length size exceeds 32 bits");
      len = static_cast<uint32_t>(v);
      used = i + 1;
      return absl::OkStatus();
    }
  }
  return Error(at, "variable-length size longer than 5 bytes");
}

absl::Status JsonDecoder::Value(uint8_t type, size_t at, size_t end, int depth, std::string& out) {
  switch (type) {
    case kSmallObject:
      return Container(true, false, at, end, depth, out);
    case kLargeObject:
      return Container(true, true, at, end, depth, out);
    case kSmallArray:
      return Container(false, false, at, end, depth, out);
    case kLargeArray:
      return Container(false, true, at, end, depth, out);
    default:
      return Scalar(type, at, end, out);
  }
}

absl::Status JsonDecoder::Container(bool object, bool large, size_t at, size_t end, int depth,
                                    std::string& out) {
  if (depth > kMaxDepth) return Error(at, "nesting deeper than 100 levels");
  const size_t w = large ? 4 : 2;
  if (end - at < 2 * w) return Error(at, "truncated container header");
  uint64_t count = Le(doc_, at, w);
  uint64_t size = Le(doc_, at + w, w);
  if (size > end - at)
    return Error(at,
                 absl::StrCat("container size ", size, " exceeds the ", end - at, " bytes left"));
  const size_t cend = at + size;
  const size_t key_entry = w + 2;
  const size_t value_entry = 1 + w;
  uint64_t header = 2 * w + count * ((object ? key_entry : 0) + value_entry);
  if (count > size || header > size)
    return Error(at,
                 absl::StrCat("container of ", count, " elements does not fit its size ", size));
  out.push_back(object ? '{' : '[');
  for (uint64_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back(',');
    if (object) {
      size_t ke = at + 2 * w + i * key_entry;
      uint64_t key_off = Le(doc_, ke, w);
      uint64_t key_len = Le(doc_, ke + w, 2);
      if (key_off > size || key_len > size - key_off) return Error(ke, "key outside its object");
      AppendJsonString(doc_.substr(at + key_off, key_len), out);
      out.push_back(':');
    }
    size_t ve = at + 2 * w + count * (object ? key_entry : 0) + i * value_entry;
    uint8_t t = static_cast<uint8_t>(doc_[ve]);
    bool inlined =
        t == kLiteral || t == kInt16 || t == kUint16 || (large && (t == kInt32 || t == kUint32));
    if (inlined) {
      // The value sits in the entry's offset field itself.
      absl::Status st = Scalar(t, ve + 1, ve + 1 + w, out);
      if (!st.ok()) return st;
      continue;
    }
    uint64_t off = Le(doc_, ve + 1, w);
    if (off >= size)
      return Error(
          ve, absl::StrCat("value offset ", off, " outside its container of ", size, " bytes"));
    absl::Status st = Value(t, at + off, cend, depth + 1, out);
    if (!st.ok()) return st;
  }
  out.push_back(object ? '}' : ']');
  return absl::OkStatus();
}

absl::Status JsonDecoder::Scalar(uint8_t type, size_t at, size_t end, std::string& out) {
  auto need = [&](size_t n) { return end - at >= n; };
  switch (type) {
    case kLiteral: {
      if (!need(1)) break;
      uint8_t v = static_cast<uint8_t>(doc_[at]);
      if (v > 2) return Error(at, absl::StrCat("literal ", v, ", expected 0..2"));
      out += v == 0 ? "null" : v == 1 ? "true" : "false";
      return absl::OkStatus();
    }
    case kInt16:
      if (!need(2)) break;
      absl::StrAppend(&out, static_cast<int16_t>(Le(doc_, at, 2)));
      return absl::OkStatus();
    case kUint16:
      if (!need(2)) break;
      absl::StrAppend(&out, Le(doc_, at, 2));
      return absl::OkStatus();
    case kInt32:
      if (!need(4)) break;
      absl::StrAppend(&out, static_cast<int32_t>(Le(doc_, at, 4)));
      return absl::OkStatus();
    case kUint32:
      if (!need(4)) break;
      absl::StrAppend(&out, Le(doc_, at, 4));
      return absl::OkStatus();
    case kInt64:
      if (!need(8)) break;
      absl::StrAppend(&out, static_cast<int64_t>(Le(doc_, at, 8)));
      return absl::OkStatus();
    case kUint64:
      if (!need(8)) break;
      absl::StrAppend(&out, Le(doc_, at, 8));
      return absl::OkStatus();
    case kDouble: {
      if (!need(8)) break;
      uint64_t bits = Le(doc_, at, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      AppendDouble(d, out);
      return absl::OkStatus();
    }
    case kString: {
      uint32_t len = 0;
      size_t used = 0;
      absl::Status st = Varlen(at, end, len, used);
      if (!st.ok()) return st;
      if (len > end - at - used)
        return Error(at, absl::StrCat("string of ", len, " bytes overruns its container"));
      AppendJsonString(doc_.substr(at + used, len), out);
      return absl::OkStatus();
    }
    case kOpaque:
      return Opaque(at, end, out);
    default:
      return Error(at, absl::StrCat("unknown value type ", type));
  }
  return Error(at, absl::StrCat("truncated value of type ", type));
}

absl::Status JsonDecoder::Opaque(size_t at, size_t end, std::string& out) {
  if (end - at < 1) return Error(at, "truncated opaque value");
  auto field_type = static_cast<ColumnType>(static_cast<uint8_t>(doc_[at]));
  uint32_t len = 0;
  size_t used = 0;
  absl::Status st = Varlen(at + 1, end, len, used);
  if (!st.ok()) return st;
  if (len > end - at - 1 - used)
    return Error(at, absl::StrCat("opaque value of ", len, " bytes overruns its container"));
  std::string_view data = doc_.substr(at + 1 + used, len);
  switch (field_type) {
    case ColumnType::kNewDecimal: {
      if (data.size() < 2) return Error(at, "opaque DECIMAL without precision and scale");
      wire::ByteReader r(data.substr(2));
      auto text =
          ReadBinaryDecimal(r, static_cast<uint8_t>(data[0]), static_cast<uint8_t>(data[1]));
      if (!text.ok()) return Error(at, std::string(text.status().message()));
      out += *text;
      return absl::OkStatus();
    }
    case ColumnType::kDate:
    case ColumnType::kTime:
    case ColumnType::kDateTime:
    case ColumnType::kTimestamp: {
      if (data.size() < 8) return Error(at, "opaque temporal value shorter than 8 bytes");
      int64_t packed = static_cast<int64_t>(Le(data, 0, 8));
      std::string text;
      if (field_type == ColumnType::kTime) {
        AppendTime(TimeFromPacked(packed), text);
      } else {
        v1::DateTime dt = DateTimeFromPacked(packed);
        AppendDate(dt.date(), text);
        if (field_type != ColumnType::kDate) {
          text.push_back(' ');
          AppendTime(dt.time(), text);
        }
      }
      AppendJsonString(text, out);
      return absl::OkStatus();
    }
    default: {
      std::string text = absl::StrCat("base64:type", static_cast<int>(field_type), ":");
      AppendBase64(data, text);
      AppendJsonString(text, out);
      return absl::OkStatus();
    }
  }
}

absl::Status JsonDecoder::Dom(uint8_t type, size_t at, size_t end, int depth, JsonDom& node) {
  bool object = type == kSmallObject || type == kLargeObject;
  bool array = type == kSmallArray || type == kLargeArray;
  if (!object && !array) {
    node.kind = JsonDom::Kind::kScalar;
    return Scalar(type, at, end, node.text);
  }
  if (depth > kMaxDepth) return Error(at, "nesting deeper than 100 levels");
  bool large = type == kLargeObject || type == kLargeArray;
  const size_t w = large ? 4 : 2;
  if (end - at < 2 * w) return Error(at, "truncated container header");
  uint64_t count = Le(doc_, at, w);
  uint64_t size = Le(doc_, at + w, w);
  if (size > end - at) return Error(at, "container size exceeds the bytes left");
  const size_t cend = at + size;
  const size_t key_entry = w + 2;
  const size_t value_entry = 1 + w;
  uint64_t header = 2 * w + count * ((object ? key_entry : 0) + value_entry);
  if (count > size || header > size) return Error(at, "container elements do not fit its size");
  node.kind = object ? JsonDom::Kind::kObject : JsonDom::Kind::kArray;
  node.children.resize(count);
  if (object) node.keys.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (object) {
      size_t ke = at + 2 * w + i * key_entry;
      uint64_t key_off = Le(doc_, ke, w);
      uint64_t key_len = Le(doc_, ke + w, 2);
      if (key_off > size || key_len > size - key_off) return Error(ke, "key outside its object");
      node.keys[i] = std::string(doc_.substr(at + key_off, key_len));
    }
    size_t ve = at + 2 * w + count * (object ? key_entry : 0) + i * value_entry;
    uint8_t t = static_cast<uint8_t>(doc_[ve]);
    bool inlined =
        t == kLiteral || t == kInt16 || t == kUint16 || (large && (t == kInt32 || t == kUint32));
    absl::Status st;
    if (inlined) {
      node.children[i].kind = JsonDom::Kind::kScalar;
      st = Scalar(t, ve + 1, ve + 1 + w, node.children[i].text);
    } else {
      uint64_t off = Le(doc_, ve + 1, w);
      if (off >= size) return Error(ve, "value offset outside its container");
      st = Dom(t, at + off, cend, depth + 1, node.children[i]);
    }
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JsonDom> JsonDomFromBinary(std::string_view doc) {
  JsonDom dom;
  if (doc.empty()) {
    dom.text = "null";
    return dom;
  }
  JsonDecoder d(doc);
  absl::Status st = d.Dom(static_cast<uint8_t>(doc[0]), 1, doc.size(), 0, dom);
  if (!st.ok()) return st;
  return dom;
}

void AppendJsonDom(const JsonDom& dom, std::string& out) {
  switch (dom.kind) {
    case JsonDom::Kind::kScalar:
      out += dom.text;
      return;
    case JsonDom::Kind::kObject:
      out.push_back('{');
      for (size_t i = 0; i < dom.children.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonString(dom.keys[i], out);
        out.push_back(':');
        AppendJsonDom(dom.children[i], out);
      }
      out.push_back('}');
      return;
    case JsonDom::Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < dom.children.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonDom(dom.children[i], out);
      }
      out.push_back(']');
      return;
  }
}

absl::Status AppendJsonFromBinary(std::string_view doc, std::string& out) {
  if (doc.empty()) {
    out += "null";
    return absl::OkStatus();
  }
  JsonDecoder d(doc);
  return d.Value(static_cast<uint8_t>(doc[0]), 1, doc.size(), 0, out);
}

}  // namespace sluice::mysql
