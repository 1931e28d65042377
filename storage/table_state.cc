#include "storage/table_state.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <bit>
#include <cctype>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/base/utf8.h"
#include "proto/base/value_wire.h"
#include "proto/base/varint.h"

namespace sluice::storage {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';

enum KeyTag : uint8_t {
  kTagNull = 0x01,
  kTagBool = 0x02,
  kTagInt64 = 0x03,
  kTagUint64 = 0x04,
  kTagString = 0x05,
  kTagBytes = 0x06,
  kTagOther = 0x07,
};

// Big-endian, in one store and one append (the snapshot readers compute a row key per row).
template <typename T>
T BigEndian(T v) {
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 8) return __builtin_bswap64(v);
    if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
  }
  return v;
}
void PutU32(uint32_t v, std::string& out) {
  char b[4];
  v = BigEndian(v);
  std::memcpy(b, &v, sizeof b);
  out.append(b, sizeof b);
}
// tag v:u64be
void PutTaggedU64(KeyTag tag, uint64_t v, std::string& out) {
  char b[9];
  b[0] = static_cast<char>(tag);
  v = BigEndian(v);
  std::memcpy(b + 1, &v, sizeof v);
  out.append(b, sizeof b);
}

// escaped(b) 0x00 0x01
void PutEscaped(std::string_view bytes, std::string& out) {
  // The runs between 0x00 bytes are appended whole; each 0x00 becomes 0x00 0xFF.
  for (;;) {
    const size_t zero = bytes.find(kEscape);
    if (zero == std::string_view::npos) break;
    out.append(bytes.data(), zero + 1);
    out.push_back(kEscapedZero);
    bytes.remove_prefix(zero + 1);
  }
  out.append(bytes);
  const char end[2] = {kEscape, kTerminator};
  out.append(end, 2);
}

// One row_key component per kind: the only writers of each component's bytes, shared by the
// row path (PutKeyValue) and the wire path (AppendRowKeyComponent).
void PutNullComponent(std::string& out) { out.push_back(static_cast<char>(kTagNull)); }
void PutBoolComponent(bool b, std::string& out) {
  const char c[2] = {static_cast<char>(kTagBool), static_cast<char>(b ? 1 : 0)};
  out.append(c, 2);
}
void PutInt64Component(int64_t v, std::string& out) {
  PutTaggedU64(kTagInt64, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63), out);
}
void PutUint64Component(uint64_t v, std::string& out) { PutTaggedU64(kTagUint64, v, out); }
// string or bytes: tag escaped 0x00 0x01
void PutEscapedComponent(KeyTag tag, std::string_view bytes, std::string& out) {
  out.push_back(static_cast<char>(tag));
  PutEscaped(bytes, out);
}
void PutOtherComponent(const v1::Value& v, std::string& out) {
  out.push_back(static_cast<char>(kTagOther));
  out.push_back(static_cast<char>(v.kind_case()));
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    v.SerializeToCodedStream(&coded);
  }
  PutEscaped(bytes, out);
}

void PutKeyValue(const v1::Value& v, std::string& out) {
  switch (v.kind_case()) {
    case v1::Value::kNull:
    case v1::Value::KIND_NOT_SET:
      PutNullComponent(out);
      return;
    case v1::Value::kBool:
      PutBoolComponent(v.bool_(), out);
      return;
    case v1::Value::kInt64:
      PutInt64Component(v.int64(), out);
      return;
    case v1::Value::kUint64:
      PutUint64Component(v.uint64(), out);
      return;
    case v1::Value::kString:
      PutEscapedComponent(kTagString, v.string(), out);
      return;
    case v1::Value::kBytes:
      PutEscapedComponent(kTagBytes, v.bytes(), out);
      return;
    default:
      PutOtherComponent(v, out);
      return;
  }
}

const v1::Value* FindColumn(const v1::Row& row, std::string_view name) {
  for (const auto& f : row.fields()) {
    if (f.name() == name) return &f.value();
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> EncodeRowKey(
    const google::protobuf::RepeatedPtrField<std::string>& key_columns, const v1::Row& row) {
  if (key_columns.empty()) return std::nullopt;
  std::string key;
  for (const auto& column : key_columns) {
    const v1::Value* v = FindColumn(row, column);
    if (v == nullptr) return std::nullopt;
    PutKeyValue(*v, key);
  }
  return key;
}

bool AppendRowKeyComponent(std::string_view value, std::string& out) {
  // The kinds a key column usually has, read straight from the bytes when they are exactly one
  // field of the kind (what value_wire writes); anything else through the parser.
  if (value.empty()) {  // no kind set
    PutNullComponent(out);
    return true;
  }
  size_t i = 1;
  uint64_t v = 0;
  switch (value[0]) {
    case value_wire::kInt64:
      if (ReadVarint(value, &i, &v) && i == value.size()) {
        PutInt64Component(static_cast<int64_t>(v), out);
        return true;
      }
      break;
    case value_wire::kUint64:
      if (ReadVarint(value, &i, &v) && i == value.size()) {
        PutUint64Component(v, out);
        return true;
      }
      break;
    case value_wire::kString:
    case value_wire::kBytes:
      // (protobuf reads a length in at most 5 bytes: a longer one is the parser's to refuse)
      if (ReadVarint(value, &i, &v) && i <= 6 && v == value.size() - i) {
        const std::string_view bytes = value.substr(i);
        if (value[0] == value_wire::kBytes) {
          PutEscapedComponent(kTagBytes, bytes, out);
          return true;
        }
        // The parser refuses a `string` that is not UTF-8: leave that to it.
        if (IsValidUtf8(bytes)) {
          PutEscapedComponent(kTagString, bytes, out);
          return true;
        }
      }
      break;
    default:
      break;
  }
  v1::Value parsed;
  if (!parsed.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
  PutKeyValue(parsed, out);
  return true;
}

namespace {

// A small tokenizer over a MySQL statement: words, `quoted` (or "quoted") identifiers and
// punctuation, with whitespace and comments skipped.
class SqlTokens {
 public:
  explicit SqlTokens(std::string_view s) : s_(s) {}
  // The next token: an identifier or keyword (unquoted), or one punctuation character; empty
  // at the end or on something unexpected. `quoted` tells a `quoted` identifier.
  std::string Next(bool* quoted = nullptr) {
    SkipSpace();
    if (quoted != nullptr) *quoted = false;
    if (i_ >= s_.size()) return {};
    const char c = s_[i_];
    if (c == '`' || c == '"') {
      // `name`, or "name" (a statement written under sql_mode ANSI_QUOTES; without it a
      // double-quoted table name is a syntax error and never reaches the binlog).
      std::string out;
      for (++i_; i_ < s_.size(); ++i_) {
        if (s_[i_] == c) {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == c) {
            out.push_back(c);
            ++i_;
            continue;
          }
          ++i_;
          if (quoted != nullptr) *quoted = true;
          return out;
        }
        out.push_back(s_[i_]);
      }
      return {};  // unterminated
    }
    if (IdentifierByte(c)) {
      size_t start = i_;
      while (i_ < s_.size() && IdentifierByte(s_[i_])) ++i_;
      return std::string(s_.substr(start, i_ - start));
    }
    ++i_;
    return std::string(1, c);
  }

 private:
  // A byte of an unquoted identifier: [0-9A-Za-z$_] or any byte of a multi-byte UTF-8 character
  // (MySQL allows U+0080 .. U+FFFF unquoted), so `TRUNCATE tëst` names "tëst", not "t".
  static bool IdentifierByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) || c == '_' || c == '$';
  }
  void SkipSpace() {
    while (i_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
        ++i_;
      } else if (s_.substr(i_, 2) == "/*") {
        size_t end = s_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (s_.substr(i_, 2) == "--" || s_[i_] == '#') {
        size_t end = s_.find('\n', i_);
        i_ = end == std::string_view::npos ? s_.size() : end + 1;
      } else {
        return;
      }
    }
  }
  std::string_view s_;
  size_t i_ = 0;
};

bool Keyword(const std::string& token, std::string_view word) {
  if (token.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(token[i])) != word[i]) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> TablesClearedByDdl(std::string_view statement,
                                            std::string_view database) {
  SqlTokens tokens(statement);
  std::string t = tokens.Next();
  bool drop = false;
  if (Keyword(t, "TRUNCATE")) {
    t = tokens.Next();
    if (Keyword(t, "TABLE")) t = tokens.Next();
  } else if (Keyword(t, "DROP")) {
    drop = true;
    t = tokens.Next();
    if (Keyword(t, "TEMPORARY")) return {};  // temporary tables are not replicated as rows
    if (!Keyword(t, "TABLE")) return {};
    t = tokens.Next();
    if (Keyword(t, "IF")) {
      if (!Keyword(tokens.Next(), "EXISTS")) return {};
      t = tokens.Next();
    }
  } else {
    return {};
  }
  std::vector<std::string> tables;
  for (;;) {
    if (t.empty() || t == "," || t == ".") return {};
    std::string first = t;
    std::string name = absl::StrCat(std::string(database), ".", first);
    t = tokens.Next();
    if (t == ".") {
      std::string second = tokens.Next();
      if (second.empty()) return {};
      name = absl::StrCat(first, ".", second);
      t = tokens.Next();
    }
    tables.push_back(std::move(name));
    if (t != "," || !drop) break;
    t = tokens.Next();
  }
  return tables;
}

namespace {

// `table` and `database`: the event's, after the commit info's override.
TableStateUpdate Compute(const v1::ChangeEvent& e, std::string_view table,
                         std::string_view database) {
  TableStateUpdate u;
  if (e.op() == v1::OP_DDL) {
    u.clear_tables = TablesClearedByDdl(e.ddl().statement(), database);
    if (!u.clear_tables.empty()) u.kind = TableStateUpdate::Kind::kClear;
    return u;
  }
  if (table.empty()) return u;
  switch (e.op()) {
    case v1::OP_READ:
    case v1::OP_INSERT:
    case v1::OP_UPDATE: {
      if (!e.has_after()) return u;
      auto key = EncodeRowKey(e.key_columns(), e.after());
      if (!key) return u;
      if (e.op() == v1::OP_UPDATE && e.has_before()) {
        auto old_key = EncodeRowKey(e.key_columns(), e.before());
        if (old_key && *old_key != *key) u.old_key = *std::move(old_key);
      }
      v1::ChangeEvent row;
      row.set_op(v1::OP_READ);
      *row.mutable_source() = e.source();
      *row.mutable_key_columns() = e.key_columns();
      *row.mutable_after() = e.after();
      row.SerializeToString(&u.row);
      u.key = *std::move(key);
      u.kind = TableStateUpdate::Kind::kPut;
      return u;
    }
    case v1::OP_DELETE: {
      if (!e.has_before()) return u;
      auto key = EncodeRowKey(e.key_columns(), e.before());
      if (!key) return u;
      u.key = *std::move(key);
      u.kind = TableStateUpdate::Kind::kDelete;
      return u;
    }
    case v1::OP_TRUNCATE:
      u.kind = TableStateUpdate::Kind::kClear;
      return u;
    default:
      return u;
  }
}

}  // namespace

TableStateUpdate ComputeTableStateUpdate(const v1::ChangeEvent& e) {
  return Compute(e, e.source().table(), e.source().database());
}

TableStateUpdate ComputeTableStateUpdate(const v1::ChangeEvent& e,
                                         const v1::SourceInfo& commit_info) {
  return Compute(e, commit_info.table().empty() ? e.source().table() : commit_info.table(),
                 commit_info.database().empty() ? e.source().database() : commit_info.database());
}

TableStateUpdate ComputeTableStateUpdate(std::string_view encoded_event) {
  v1::ChangeEvent e;
  if (!e.ParseFromArray(encoded_event.data(), static_cast<int>(encoded_event.size()))) return {};
  TableStateUpdate u = ComputeTableStateUpdate(e);
  if (u.kind == TableStateUpdate::Kind::kPut && !e.has_before() && e.unchanged().empty() &&
      !e.has_ddl() && !e.has_message() && e.op() == v1::OP_READ) {
    // A snapshot row is already the state row: keep its bytes rather than re-encoding them.
    u.row.assign(encoded_event);
  }
  return u;
}

std::string TableStatePrefix(SourceId source, std::string_view table) {
  std::string key;
  key.reserve(4 + table.size() + 2);
  PutU32(source.value(), key);
  PutEscaped(table, key);
  return key;
}

std::string TableStatePrefixEnd(SourceId source, std::string_view table) {
  std::string key = TableStatePrefix(source, table);
  key.back() = static_cast<char>(kTerminator + 1);  // 0x00 0x02: above every 0x00 0x01 ...
  return key;
}

std::string TableStateKey(SourceId source, std::string_view table, std::string_view row_key) {
  std::string key = TableStatePrefix(source, table);
  key.append(row_key);
  return key;
}

std::string SourceStateBegin(SourceId source) {
  std::string key;
  PutU32(source.value(), key);
  return key;
}

std::string SourceStateEnd(SourceId source) {
  std::string key;
  PutU32(source.value() + 1, key);
  return key;
}

absl::StatusOr<DecodedTableStateKey> DecodeTableStateKey(std::string_view key) {
  auto bad = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat("table state key ", absl::BytesToHexString(absl::string_view(key.data(), key.size())),
                                            " is malformed: ", std::string(what)));
  };
  if (key.size() < 4 + 2) return bad("shorter than a source id and a table name");
  DecodedTableStateKey d;
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = (id << 8) | static_cast<uint8_t>(key[i]);
  d.source = SourceId(id);
  size_t i = 4;
  for (;;) {
    if (i >= key.size()) return bad("the table name is not terminated");
    char c = key[i++];
    if (c != kEscape) {
      d.table.push_back(c);
      continue;
    }
    if (i >= key.size()) return bad("the table name ends inside an escape");
    char next = key[i++];
    if (next == kEscapedZero) {
      d.table.push_back(kEscape);
    } else if (next == kTerminator) {
      break;
    } else {
      return bad("an invalid escape in the table name");
    }
  }
  d.row_key = key.substr(i);
  return d;
}

absl::StatusOr<std::optional<std::string>> RowKeyOfEncodedEvent(std::string_view event,
                                                                v1::Row& row) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(event.data()),
                                            static_cast<int>(event.size()));
  google::protobuf::RepeatedPtrField<std::string> key_columns;
  std::string after;
  std::string part;
  bool has_after = false;
  constexpr uint32_t kKeyColumnsTag = (4 << 3) | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  constexpr uint32_t kAfterTag = (6 << 3) | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  bool ok = true;
  for (uint32_t tag = in.ReadTag(); tag != 0 && ok; tag = in.ReadTag()) {
    if (tag == kKeyColumnsTag) {
      ok = WireFormatLite::ReadString(&in, key_columns.Add());
    } else if (tag == kAfterTag) {
      // Occurrences of a message field merge: their bytes parse as one message.
      ok = WireFormatLite::ReadBytes(&in, has_after ? &part : &after);
      if (ok && has_after) after.append(part);
      has_after = true;
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
  }
  row.Clear();
  if (!ok || in.CurrentPosition() != static_cast<int>(event.size()) ||
      (has_after && !row.ParseFromString(after))) {
    return absl::DataLossError(
        absl::StrCat("event of ", event.size(), " bytes is not a well-formed ChangeEvent"));
  }
  return EncodeRowKey(key_columns, row);
}

absl::StatusOr<v1::ChangeEvent> StateRowEvent(std::string_view value, LogOffset* changed_at) {
  v1::ChangeEvent e;
  if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("a stored table state row is not a valid ChangeEvent");
  }
  if (changed_at != nullptr) *changed_at = LogOffset(e.offset());
  e.clear_offset();
  e.set_op(v1::OP_READ);
  e.mutable_source()->set_snapshot(true);
  return e;
}

}  // namespace sluice::storage
