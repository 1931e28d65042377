#include "protocol/mysql/table_map.h"

#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;
constexpr const char* kWhat = "TABLE_MAP_EVENT";

absl::Status Corrupt(std::string_view msg, size_t offset) {
  return absl::DataLossError(absl::StrCat(kWhat, ": ", std::string(msg), " at offset ", offset));
}

// Unpacks the per-type metadata of one column from the metadata block.
absl::Status ReadColumnMeta(ByteReader& r, ColumnDef& c) {
  size_t at = r.position();
  switch (c.binlog_type) {
    case ColumnType::kFloat:
    case ColumnType::kDouble:
      c.raw_meta = r.ReadU8();
      break;
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kGeometry:
    case ColumnType::kJson:
    case ColumnType::kVector:
      c.raw_meta = r.ReadU8();
      c.length_bytes = static_cast<uint8_t>(c.raw_meta);
      if (r.ok() && (c.length_bytes < 1 || c.length_bytes > 4)) {
        return Corrupt(absl::StrCat("length-prefix size ", c.length_bytes, " for ",
                                    std::string(ColumnTypeName(c.binlog_type)), ", expected 1..4"),
                       at);
      }
      break;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
      c.raw_meta = r.ReadU16Le();
      c.max_length = c.raw_meta;
      break;
    case ColumnType::kBit: {
      uint8_t rem_bits = r.ReadU8();
      uint8_t bytes = r.ReadU8();
      c.raw_meta = static_cast<uint16_t>(rem_bits | (bytes << 8));
      c.bits = bytes * 8u + rem_bits;
      if (r.ok() && (rem_bits > 7 || c.bits == 0 || c.bits > 64)) {
        return Corrupt(absl::StrCat("BIT metadata (", rem_bits, ",", bytes, ") is not 1..64 bits"),
                       at);
      }
      break;
    }
    case ColumnType::kNewDecimal:
      c.precision = r.ReadU8();
      c.scale = r.ReadU8();
      c.raw_meta = static_cast<uint16_t>(c.precision << 8 | c.scale);
      if (r.ok() &&
          (c.precision == 0 || c.precision > 65 || c.scale > 30 || c.scale > c.precision)) {
        return Corrupt(absl::StrCat("DECIMAL(", c.precision, ",", c.scale, ") is out of range"),
                       at);
      }
      break;
    case ColumnType::kString:
    case ColumnType::kEnum:
    case ColumnType::kSet: {
      uint8_t b0 = r.ReadU8();
      uint8_t b1 = r.ReadU8();
      c.raw_meta = static_cast<uint16_t>(b0 << 8 | b1);
      if (!r.ok()) break;
      if (b0 != 0 && (b0 & 0x30) != 0x30) {
        // CHAR longer than 255 bytes: two high length bits live (inverted) in the type byte.
        c.type = static_cast<ColumnType>(b0 | 0x30);
        c.max_length = b1 | (static_cast<uint32_t>((b0 & 0x30) ^ 0x30) << 4);
      } else {
        c.type = b0 == 0 ? c.binlog_type : static_cast<ColumnType>(b0);
        c.max_length = b1;
      }
      if (c.type == ColumnType::kEnum || c.type == ColumnType::kSet) {
        c.length_bytes = b1;
        uint8_t max = c.type == ColumnType::kEnum ? 2 : 8;
        if (c.length_bytes < 1 || c.length_bytes > max) {
          return Corrupt(absl::StrCat(std::string(ColumnTypeName(c.type)), " pack length ",
                                      c.length_bytes, ", expected 1..", max),
                         at);
        }
      } else if (c.type != ColumnType::kString) {
        return Corrupt(absl::StrCat("STRING column with real type ", static_cast<int>(c.type)), at);
      }
      break;
    }
    case ColumnType::kTime2:
    case ColumnType::kDateTime2:
    case ColumnType::kTimestamp2:
      c.raw_meta = c.fsp = r.ReadU8();
      if (r.ok() && c.fsp > 6)
        return Corrupt(absl::StrCat("fractional precision ", c.fsp, " > 6"), at);
      break;
    case ColumnType::kTypedArray:
      return absl::UnimplementedError(absl::StrCat(kWhat, ": TYPED_ARRAY column at offset ", at));
    default:
      break;
  }
  return absl::OkStatus();
}

// Reads a bitmap of `count` bits, most significant bit first (optional metadata order).
std::vector<bool> ReadMsbBitmap(ByteReader& r, size_t count) {
  std::vector<bool> bits(count);
  std::string_view bytes = r.ReadString((count + 7) / 8);
  if (!r.ok()) return bits;
  for (size_t i = 0; i < count; ++i)
    bits[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (7 - i % 8)) & 1;
  return bits;
}

// Columns matching `pred`, in column order.
template <typename Pred>
std::vector<ColumnDef*> Select(std::vector<ColumnDef>& cols, Pred pred) {
  std::vector<ColumnDef*> out;
  for (ColumnDef& c : cols)
    if (pred(c)) out.push_back(&c);
  return out;
}

absl::Status ReadDefaultCharset(ByteReader& r, std::vector<ColumnDef*> cols, size_t at) {
  uint64_t def = r.ReadLenencInt();
  for (ColumnDef* c : cols) c->collation = static_cast<uint32_t>(def);
  while (r.ok() && r.remaining() > 0) {
    uint64_t index = r.ReadLenencInt();
    uint64_t coll = r.ReadLenencInt();
    if (!r.ok()) break;
    if (index >= cols.size())
      return Corrupt(absl::StrCat("charset for column ", index, " of ", cols.size()), at);
    cols[index]->collation = static_cast<uint32_t>(coll);
  }
  return r.status(kWhat);
}

absl::Status ReadColumnCharsets(ByteReader& r, std::vector<ColumnDef*> cols) {
  for (ColumnDef* c : cols) c->collation = static_cast<uint32_t>(r.ReadLenencInt());
  return r.status(kWhat);
}

absl::Status ReadStrValues(ByteReader& r, std::vector<ColumnDef*> cols, bool is_set, size_t at) {
  for (ColumnDef* c : cols) {
    uint64_t n = r.ReadLenencInt();
    if (!r.ok()) break;
    if (n > r.remaining()) return Corrupt(absl::StrCat(n, " enum/set values declared"), at);
    auto& values = is_set ? c->set_values : c->enum_values;
    values.clear();
    for (uint64_t i = 0; i < n; ++i) values.emplace_back(r.ReadLenencString());
  }
  return r.status(kWhat);
}

// The columns DEFAULT_CHARSET / COLUMN_CHARSET list: MariaDB counts GEOMETRY among them (its
// binary charset), MySQL does not.
bool ListsCharset(const ColumnDef& c, bool mariadb) {
  return c.IsCharacter() || (mariadb && c.type == ColumnType::kGeometry);
}

absl::Status ReadOptionalMetadata(ByteReader& outer, TableMap& t, bool mariadb) {
  auto& cols = t.columns;
  const auto character = [mariadb](const ColumnDef& c) { return ListsCharset(c, mariadb); };
  while (outer.ok() && outer.remaining() > 0) {
    size_t at = outer.position();
    uint8_t tag = outer.ReadU8();
    uint64_t len = outer.ReadLenencInt();
    std::string_view value = outer.ReadString(len);
    if (!outer.ok()) return outer.status(absl::StrCat(kWhat, " optional metadata"));
    t.has_optional_metadata = true;
    ByteReader r(value);
    absl::Status st;
    switch (static_cast<TableMapMeta>(tag)) {
      case TableMapMeta::kSignedness: {
        auto numeric = Select(cols, [](const ColumnDef& c) { return c.IsNumeric(); });
        std::vector<bool> bits = ReadMsbBitmap(r, numeric.size());
        for (size_t i = 0; i < numeric.size(); ++i) numeric[i]->is_unsigned = bits[i];
        st = r.status(kWhat);
        break;
      }
      case TableMapMeta::kDefaultCharset:
        st = ReadDefaultCharset(r, Select(cols, character), at);
        break;
      case TableMapMeta::kColumnCharset:
        st = ReadColumnCharsets(r, Select(cols, character));
        break;
      case TableMapMeta::kEnumAndSetDefaultCharset:
        st = ReadDefaultCharset(r, Select(cols, [](const ColumnDef& c) { return c.IsEnumOrSet(); }),
                                at);
        break;
      case TableMapMeta::kEnumAndSetColumnCharset:
        st =
            ReadColumnCharsets(r, Select(cols, [](const ColumnDef& c) { return c.IsEnumOrSet(); }));
        break;
      case TableMapMeta::kColumnName:
        for (ColumnDef& c : cols) c.name = std::string(r.ReadLenencString());
        st = r.status(kWhat);
        break;
      case TableMapMeta::kSetStrValue:
        st = ReadStrValues(
            r, Select(cols, [](const ColumnDef& c) { return c.type == ColumnType::kSet; }), true,
            at);
        break;
      case TableMapMeta::kEnumStrValue:
        st = ReadStrValues(
            r, Select(cols, [](const ColumnDef& c) { return c.type == ColumnType::kEnum; }), false,
            at);
        break;
      case TableMapMeta::kGeometryType:
        for (ColumnDef* c :
             Select(cols, [](const ColumnDef& c) { return c.type == ColumnType::kGeometry; }))
          c->geometry_type = static_cast<uint32_t>(r.ReadLenencInt());
        st = r.status(kWhat);
        break;
      case TableMapMeta::kSimplePrimaryKey:
        while (r.ok() && r.remaining() > 0) {
          uint64_t index = r.ReadLenencInt();
          if (r.ok() && index >= cols.size())
            return Corrupt(absl::StrCat("primary-key column ", index), at);
          if (!r.ok()) break;
          t.primary_key.push_back(static_cast<uint32_t>(index));
          t.primary_key_prefix.push_back(0);
        }
        st = r.status(kWhat);
        break;
      case TableMapMeta::kPrimaryKeyWithPrefix:
        while (r.ok() && r.remaining() > 0) {
          uint64_t index = r.ReadLenencInt();
          uint64_t prefix = r.ReadLenencInt();
          if (r.ok() && index >= cols.size())
            return Corrupt(absl::StrCat("primary-key column ", index), at);
          if (!r.ok()) break;
          t.primary_key.push_back(static_cast<uint32_t>(index));
          t.primary_key_prefix.push_back(static_cast<uint32_t>(prefix));
        }
        st = r.status(kWhat);
        break;
      case TableMapMeta::kColumnVisibility: {
        std::vector<bool> bits = ReadMsbBitmap(r, cols.size());
        for (size_t i = 0; i < cols.size(); ++i) cols[i].visible = bits[i];
        st = r.status(kWhat);
        break;
      }
      case TableMapMeta::kVectorDimensionality:
        for (ColumnDef* c :
             Select(cols, [](const ColumnDef& c) { return c.type == ColumnType::kVector; }))
          c->vector_dimensions = static_cast<uint32_t>(r.ReadLenencInt());
        st = r.status(kWhat);
        break;
      default:
        break;  // unknown tags are skipped: the TLV length makes that safe
    }
    if (!st.ok()) {
      return absl::DataLossError(
          absl::StrCat(st.message(), " (optional metadata tag ", tag, " at offset ", at, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool ColumnDef::IsNumeric() const {
  switch (type) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
    case ColumnType::kFloat:
    case ColumnType::kDouble:
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal:
      return true;
    default:
      return false;
  }
}

bool ColumnDef::IsCharacter() const {
  switch (type) {
    case ColumnType::kString:
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kVector:  // MySQL 9 lists VECTOR (binary charset) among character columns
      return true;
    default:
      return false;
  }
}

std::string TableMap::ColumnName(size_t index) const {
  if (index < columns.size() && !columns[index].name.empty()) return columns[index].name;
  return absl::StrCat("col_", index + 1);
}

absl::StatusOr<TableMap> DecodeTableMap(Bytes body, const FormatDescription& fde) {
  ByteReader r(body);
  TableMap t;
  uint8_t post = fde.PostHeaderLength(EventType::kTableMap, 8);
  if (post == 6) {
    t.table_id = r.ReadU32Le();
  } else if (post >= 8) {
    t.table_id = r.ReadU48Le();
    r.Skip(post - 8);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": post-header length ", post, " is not 6 or 8"));
  }
  t.flags = r.ReadU16Le();
  uint8_t db_len = r.ReadU8();
  t.database = std::string(r.ReadString(db_len));
  r.Skip(1);
  uint8_t table_len = r.ReadU8();
  t.table = std::string(r.ReadString(table_len));
  r.Skip(1);
  uint64_t ncols = r.ReadLenencInt();
  if (!r.ok()) return r.status(kWhat);
  if (ncols > r.remaining()) {
    return Corrupt(absl::StrCat(ncols, " columns declared but ", r.remaining(), " bytes follow"),
                   r.position());
  }
  std::string_view types = r.ReadString(ncols);
  t.columns.resize(ncols);
  for (size_t i = 0; i < ncols; ++i) {
    t.columns[i].binlog_type = t.columns[i].type = static_cast<ColumnType>(types[i]);
  }
  size_t meta_at = r.position();
  std::string_view meta = r.ReadLenencString();
  if (!r.ok()) return r.status(kWhat);
  ByteReader m(meta);
  for (ColumnDef& c : t.columns) {
    absl::Status st = ReadColumnMeta(m, c);
    if (!st.ok()) return st;
  }
  if (!m.ok()) return m.status(absl::StrCat(kWhat, " column metadata at offset ", meta_at));
  std::string_view nulls = r.ReadString((ncols + 7) / 8);
  if (!r.ok()) return r.status(kWhat);
  for (size_t i = 0; i < ncols; ++i)
    t.columns[i].nullable = (static_cast<uint8_t>(nulls[i / 8]) >> (i % 8)) & 1;
  absl::Status st =
      ReadOptionalMetadata(r, t, fde.server_version.find("MariaDB") != std::string::npos);
  if (!st.ok()) return st;
  return t;
}

}  // namespace sluice::mysql
