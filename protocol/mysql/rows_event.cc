#include "protocol/mysql/rows_event.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "protocol/mysql/flat_plan.h"
#include "protocol/mysql/json_binary.h"
#include "protocol/mysql/json_diff.h"
#include "protocol/mysql/row_values.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

constexpr uint64_t kPartialJsonOption = 1;

struct Layout {
  RowsKind kind;
  int version;  // 1 or 2
  bool partial = false;
};

std::optional<Layout> LayoutFor(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::kWriteRowsV1:
      return Layout{RowsKind::kWrite, 1};
    case EventType::kUpdateRowsV1:
      return Layout{RowsKind::kUpdate, 1};
    case EventType::kDeleteRowsV1:
      return Layout{RowsKind::kDelete, 1};
    case EventType::kWriteRowsV2:
      return Layout{RowsKind::kWrite, 2};
    case EventType::kUpdateRowsV2:
      return Layout{RowsKind::kUpdate, 2};
    case EventType::kDeleteRowsV2:
      return Layout{RowsKind::kDelete, 2};
    case EventType::kPartialUpdateRows:
      return Layout{RowsKind::kUpdate, 2, true};
    default:
      return std::nullopt;
  }
}

// The indexes of the set bits of an LSB-first bitmap of `count` bits, in order.
std::vector<uint32_t> ReadColumnList(ByteReader& r, size_t count) {
  std::vector<uint32_t> columns;
  std::string_view bytes = r.ReadString((count + 7) / 8);
  if (!r.ok()) return columns;
  for (size_t i = 0; i < count; ++i) {
    if ((static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1)
      columns.push_back(static_cast<uint32_t>(i));
  }
  return columns;
}

std::vector<bool> ReadLsbBitmap(ByteReader& r, size_t count) {
  std::vector<bool> bits(count);
  std::string_view bytes = r.ReadString((count + 7) / 8);
  if (!r.ok()) return bits;
  for (size_t i = 0; i < count; ++i) bits[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  return bits;
}

// A row image as a v1::Row. `row` may hold the previous row (ForEachRow): its fields are
// overwritten in place, so their names and string buffers are reused, and the surplus is removed
// at the end.
class ProtoImage {
 public:
  static constexpr bool kKeepsNames = true;
  static constexpr bool kPlanned = false;  // see FlatImage
  explicit ProtoImage(v1::Row& row) : row_(row) {}
  void Begin(size_t npresent) { row_.mutable_fields()->Reserve(static_cast<int>(npresent)); }
  void Null(size_t, const std::string& name) { Next(name)->set_null(true); }
  v1::Value& Slot(size_t, const std::string& name) { return *Next(name); }
  absl::Status Value(wire::ByteReader& r, const ColumnDef& c, size_t, const std::string& name) {
    return ReadColumnValue(r, c, *Next(name));
  }
  void End() {
    auto* fields = row_.mutable_fields();
    while (fields->size() > used_) fields->RemoveLast();
  }

 private:
  // The next field, named `name`, with a value ready to be overwritten.
  v1::Value* Next(const std::string& name) {
    auto* fields = row_.mutable_fields();
    v1::Field* field = used_ < fields->size() ? fields->Mutable(used_) : fields->Add();
    ++used_;
    if (field->name() != name) field->set_name(name);
    v1::Value* value = field->mutable_value();
    // A string-like value is overwritten whole by the next decode; anything else (dates,
    // times, raw values) starts from empty so that no field of the previous value survives.
    switch (value->kind_case()) {
      case v1::Value::kString:
      case v1::Value::kBytes:
      case v1::Value::KIND_NOT_SET:
        break;
      default:
        value->Clear();
    }
    return value;
  }

  v1::Row& row_;
  int used_ = 0;
};

// A row image as a FlatRow (flat_row.h), cleared first.
class FlatImage {
 public:
  static constexpr bool kKeepsNames = false;
  // The values of an image without partial JSON are read by ReadFlatImageValues (flat_plan.h).
  static constexpr bool kPlanned = true;
  explicit FlatImage(FlatRow& row) : row_(row) {}
  FlatRow& row() { return row_; }
  void Begin(size_t) { row_.Clear(); }
  void Null(size_t column, const std::string&) { row_.Add(static_cast<uint32_t>(column)); }
  v1::Value& Slot(size_t column, const std::string&) {
    return row_.SetSlot(row_.Add(static_cast<uint32_t>(column)));
  }
  absl::Status Value(wire::ByteReader& r, const ColumnDef& c, size_t column, const std::string&) {
    return ReadFlatColumnValue(r, c, static_cast<uint32_t>(column), row_);
  }
  void End() {}

 private:
  FlatRow& row_;
};

class ImageReader {
 public:
  ImageReader(ByteReader& r, Bytes body, const TableMap& t, std::string_view event_name,
              bool partial_event)
      : r_(r), body_(body), t_(t), event_name_(event_name), partial_event_(partial_event) {}

  // Reads one image into `out` (ProtoImage or FlatImage below). `after` selects the after image
  // of an UPDATE (which may carry value options in a PARTIAL_UPDATE_ROWS event). `present` lists
  // the indexes of the image's columns, in order.
  template <typename Image>
  absl::Status Read(const std::vector<uint32_t>& present, bool after, size_t row_index,
                    Image& out) {
    const size_t npresent = present.size();
    size_t image_at = r_.position();
    const bool partial_image = partial_event_ && after;
    if (partial_image) {
      partial_.assign(t_.columns.size(), false);
      uint64_t options = r_.ReadLenencInt();
      if (r_.ok() && (options & kPartialJsonOption)) {
        size_t json_cols = 0;
        for (const ColumnDef& c : t_.columns) json_cols += c.type == ColumnType::kJson;
        std::vector<bool> bits = ReadLsbBitmap(r_, json_cols);
        size_t j = 0;
        for (size_t i = 0; i < t_.columns.size(); ++i)
          if (t_.columns[i].type == ColumnType::kJson) partial_[i] = bits[j++];
      }
    }
    if (partial_event_ && !after) before_json_.assign(t_.columns.size(), std::nullopt);
    // The NULL bitmap, indexed by the ordinal among present columns; read in place.
    std::string_view nulls = r_.ReadString((npresent + 7) / 8);
    if (!r_.ok()) return Wrap(r_.status("row image"), row_index, image_at);
    out.Begin(npresent);
    if constexpr (Image::kPlanned) {
      if (!partial_event_) {
        if (plan_.size() != t_.columns.size()) plan_.Build(t_);
        FlatImageFailure failure;
        absl::Status st = ReadFlatImageValues(r_, plan_, present, nulls, out.row(), failure);
        if (!st.ok()) return ColumnError(st, row_index, failure.column, failure.at);
        return absl::OkStatus();
      }
    }
    for (size_t ordinal = 0; ordinal < npresent; ++ordinal) {
      const size_t i = present[ordinal];
      const bool is_null = (static_cast<uint8_t>(nulls[ordinal / 8]) >> (ordinal % 8)) & 1;
      // The column's name, for an image that keeps names (a FlatImage does not).
      static const std::string kNoName;
      const std::string& name = Image::kKeepsNames ? Name(i) : kNoName;
      if (is_null) {
        out.Null(i, name);
        continue;
      }
      size_t at = r_.position();
      const ColumnDef& c = t_.columns[i];
      absl::Status st = partial_image && partial_[i] ? ReadPartialJson(i, out.Slot(i, name))
                                                     : out.Value(r_, c, i, name);
      if (st.ok() && partial_event_ && !after && c.type == ColumnType::kJson) {
        // Keep the before image's binary document: partial diffs in the after image apply to it.
        before_json_[i] =
            ToView(body_.subspan(at + c.length_bytes, r_.position() - at - c.length_bytes));
      }
      if (!st.ok()) return ColumnError(st, row_index, i, at);
    }
    out.End();
    return absl::OkStatus();
  }

 private:
  // Column names once per event, not once per value, and only when asked for (a FlatImage needs
  // them for error messages only).
  const std::string& Name(size_t i) {
    if (names_.empty()) {
      names_.reserve(t_.columns.size());
      for (size_t k = 0; k < t_.columns.size(); ++k) names_.push_back(t_.ColumnName(k));
    }
    return names_[i];
  }

  absl::Status ColumnError(const absl::Status& st, size_t row_index, size_t column, size_t at) {
    return absl::Status(
        st.code(),
        absl::StrCat(event_name_, " (table ", t_.database, ".", t_.table, "): row ", row_index,
                     " column `", Name(column), "` at offset ", at, ": ", st.message()));
  }

  static std::string_view ToView(Bytes b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  absl::Status ReadPartialJson(size_t column, v1::Value& out) {
    const ColumnDef& c = t_.columns[column];
    uint64_t len = 0;
    for (size_t k = 0; k < c.length_bytes; ++k)
      len |= static_cast<uint64_t>(r_.ReadU8()) << (8 * k);
    std::string_view data = r_.ReadString(len);
    if (!r_.ok()) return r_.status("partial JSON value");
    auto diffs = DecodeJsonDiffs(data);
    if (!diffs.ok()) return diffs.status();
    if (column >= before_json_.size() || !before_json_[column]) {
      // MINIMAL before image: the document the diffs apply to is not in the event. Keep the diffs
      // as a raw value so that a later stage holding the previous row can apply them.
      std::string text;
      absl::Status st = AppendJsonDiffsText(*diffs, text);
      if (!st.ok()) return st;
      out.mutable_raw()->set_type_name(std::string(kJsonDiffTypeName));
      out.mutable_raw()->set_text(std::move(text));
      return absl::OkStatus();
    }
    auto dom = JsonDomFromBinary(*before_json_[column]);
    if (!dom.ok()) return dom.status();
    absl::Status st = ApplyJsonDiffs(*diffs, *dom);
    if (!st.ok()) return st;
    std::string text;
    AppendJsonDom(*dom, text);
    out.set_json(std::move(text));
    return absl::OkStatus();
  }

  absl::Status Wrap(const absl::Status& st, size_t row_index, size_t at) const {
    return absl::Status(st.code(), absl::StrCat(event_name_, ": row ", row_index, " at offset ", at,
                                                ": ", st.message()));
  }

  ByteReader& r_;
  Bytes body_;
  const TableMap& t_;
  std::string event_name_;
  bool partial_event_;
  std::vector<std::optional<std::string_view>> before_json_;  // per column, PARTIAL_UPDATE only
  std::vector<bool> partial_;  // per column: a partial JSON value (PARTIAL_UPDATE after images)
  std::vector<std::string> names_;
  FlatPlan plan_;  // FlatImages: built at the first image
};

}  // namespace

bool IsRowsEventType(uint8_t type) { return LayoutFor(type).has_value(); }

namespace {

// What DecodeRows does with the rows: keep them, visit them one at a time, or leave them for later.
enum class RowsMode { kKeep, kVisit, kVisitFlat, kDefer, kDeferBorrowed };

// The rows' destination: kKeep appends to ev.rows, kVisit decodes into `scratch` (reusing its
// allocations) and calls `visit`, kVisitFlat decodes into two FlatRows and calls `flat_visit`.
struct RowsTarget {
  const RowVisitor* visit = nullptr;
  RowChange* scratch = nullptr;
  const FlatRowVisitor* flat_visit = nullptr;
  FlatRow* flat_before = nullptr;
  FlatRow* flat_after = nullptr;
};

// A row image to (re)fill: the previous row when there is one (ImageReader::Read overwrites its
// fields in place), created otherwise.
v1::Row& Reuse(std::optional<v1::Row>& row) { return row ? *row : row.emplace(); }

absl::Status EmptyRow(const std::string& name, size_t index, size_t row_at) {
  return absl::DataLossError(absl::StrCat(name, ": row ", index, " at offset ", row_at,
                                          " is empty (no column present) but bytes remain"));
}

absl::Status DecodeRows(Bytes body, uint8_t type, const FormatDescription& fde,
                        const TableMapCache& tables, RowsMode mode, const RowsTarget& target,
                        RowsEvent& ev) {
  std::optional<Layout> layout = LayoutFor(type);
  std::string name(EventTypeName(type));
  if (!layout) return absl::InvalidArgumentError(absl::StrCat(name, " is not a row event"));
  ByteReader r(body);
  ev.kind = layout->kind;
  ev.type = type;
  uint8_t post = fde.PostHeaderLength(static_cast<EventType>(type), layout->version == 2 ? 10 : 8);
  if (post == 6) {
    ev.table_id = r.ReadU32Le();
  } else if (post >= 8) {
    ev.table_id = r.ReadU48Le();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": post-header length ", post, " is below 6"));
  }
  ev.flags = r.ReadU16Le();
  if (layout->version == 2) {
    size_t at = r.position();
    uint16_t extra_len = r.ReadU16Le();
    if (r.ok() && extra_len < 2) {
      return absl::DataLossError(absl::StrCat(name, ": extra-data length ", extra_len,
                                              " at offset ", at,
                                              " is below 2 (it counts its own 2 bytes)"));
    }
    r.Skip(extra_len - 2u);  // NDB info or partition ids; not needed
  }
  if (!r.ok()) return r.status(name);
  if (r.remaining() == 0) return absl::OkStatus();  // a dummy event that only ends a statement
  auto it = tables.find(ev.table_id);
  if (it == tables.end()) {
    return absl::DataLossError(
        absl::StrCat(name, ": no TABLE_MAP_EVENT seen for table id ", ev.table_id));
  }
  ev.table = it->second;
  if (mode == RowsMode::kDefer) {
    ev.deferred_body.assign(reinterpret_cast<const char*>(body.data()), body.size());
    return absl::OkStatus();
  }
  if (mode == RowsMode::kDeferBorrowed) {
    ev.deferred_view = body;  // the caller's bytes (DecodeRowsEvent's borrow_body)
    return absl::OkStatus();
  }
  const TableMap& t = *ev.table;
  size_t ncols_at = r.position();
  uint64_t ncols = r.ReadLenencInt();
  if (!r.ok()) return r.status(name);
  if (ncols > t.columns.size()) {
    return absl::DataLossError(absl::StrCat(name, ": ", ncols, " columns at offset ", ncols_at,
                                            " but table ", t.database, ".", t.table, " has ",
                                            t.columns.size()));
  }
  const std::vector<uint32_t> present = ReadColumnList(r, ncols);
  std::vector<uint32_t> present_after;
  if (layout->kind == RowsKind::kUpdate) present_after = ReadColumnList(r, ncols);
  if (!r.ok()) return r.status(name);
  ImageReader images(r, body, t, name, layout->partial);
  size_t index = 0;
  while (r.remaining() > 0) {
    size_t row_at = r.position();
    absl::Status st;
    if (mode == RowsMode::kVisitFlat) {
      FlatRow* before = layout->kind == RowsKind::kWrite ? nullptr : target.flat_before;
      FlatRow* after = layout->kind == RowsKind::kDelete ? nullptr : target.flat_after;
      FlatImage first(before != nullptr ? *before : *after);
      st = images.Read(present, false, index, first);
      if (!st.ok()) return st;
      if (layout->kind == RowsKind::kUpdate) {
        FlatImage second(*after);
        st = images.Read(present_after, true, index, second);
        if (!st.ok()) return st;
      }
      if (r.position() == row_at) return EmptyRow(name, index, row_at);
      ++index;
      st = (*target.flat_visit)(ev, FlatRowChange{before, after});
      if (!st.ok()) return st;
      continue;
    }
    // kVisit: every row is decoded into `scratch`, reusing its allocations.
    RowChange& change = mode == RowsMode::kVisit ? *target.scratch : ev.rows.emplace_back();
    ProtoImage first(layout->kind == RowsKind::kWrite ? Reuse(change.after) : Reuse(change.before));
    st = images.Read(present, false, index, first);
    if (!st.ok()) return st;
    if (layout->kind == RowsKind::kUpdate) {
      ProtoImage second(Reuse(change.after));
      st = images.Read(present_after, true, index, second);
      if (!st.ok()) return st;
    }
    if (r.position() == row_at) return EmptyRow(name, index, row_at);
    ++index;
    if (mode == RowsMode::kVisit) {
      st = (*target.visit)(ev, change);
      if (!st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RowsEvent> DecodeRowsEvent(Bytes body, uint8_t type, const FormatDescription& fde,
                                          const TableMapCache& tables, bool defer_rows,
                                          bool borrow_body) {
  RowsEvent ev;
  const RowsMode mode = !defer_rows   ? RowsMode::kKeep
                        : borrow_body ? RowsMode::kDeferBorrowed
                                      : RowsMode::kDefer;
  absl::Status st = DecodeRows(body, type, fde, tables, mode, RowsTarget{}, ev);
  if (!st.ok()) return st;
  return ev;
}

absl::Status ForEachRow(const RowsEvent& deferred, const FormatDescription& fde,
                        const RowVisitor& visit) {
  const Bytes body = deferred.deferred_rows();
  if (deferred.table == nullptr || body.empty()) return absl::OkStatus();
  const TableMapCache tables = {{deferred.table_id, deferred.table}};
  RowsEvent header;
  // One row per thread, reused across events: the same table's next event overwrites it in place.
  thread_local RowChange scratch;
  if (deferred.kind == RowsKind::kWrite) scratch.before.reset();
  if (deferred.kind == RowsKind::kDelete) scratch.after.reset();
  RowsTarget target;
  target.visit = &visit;
  target.scratch = &scratch;
  return DecodeRows(body, deferred.type, fde, tables, RowsMode::kVisit, target, header);
}

absl::Status ForEachFlatRow(const RowsEvent& deferred, const FormatDescription& fde,
                            const FlatRowVisitor& visit) {
  const Bytes body = deferred.deferred_rows();
  if (deferred.table == nullptr || body.empty()) return absl::OkStatus();
  const TableMapCache tables = {{deferred.table_id, deferred.table}};
  RowsEvent header;
  // Two rows per thread, reused across events (their buffers keep their capacity).
  thread_local FlatRow before;
  thread_local FlatRow after;
  RowsTarget target;
  target.flat_visit = &visit;
  target.flat_before = &before;
  target.flat_after = &after;
  return DecodeRows(body, deferred.type, fde, tables, RowsMode::kVisitFlat, target, header);
}

}  // namespace sluice::mysql
