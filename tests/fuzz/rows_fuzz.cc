// libFuzzer target for the row decoder: DecodeTableMap, then DecodeRowsEvent against that table
// map, then ReadColumnValue on its own for every column in order. The input format is in
// mysql_fuzz_util.h (selector · skip · TABLE_MAP body · rows body).
//
// Checks besides "no crash, no sanitizer report": decoding is deterministic, a decoded row has at
// most as many fields as the table has columns, every row renders as valid JSON, the streaming
// decoder (ForEachRow) and the flat one (ForEachFlatRow) see the same rows as the eager one, with
// the same JSON and the same error, ReadColumnValue never reads past its input, and
// ReadFlatColumnValue consumes the same bytes, gives the same value and JSON, or the same error.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/base/text_buffer.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/flat_row_json.h"
#include "protocol/mysql/row_values.h"
#include "protocol/mysql/rows_event.h"
#include "protocol/mysql/table_map.h"
#include "protocol/wire/byte_reader.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/mysql_fuzz_util.h"

namespace sluice::fuzz {
namespace {

constexpr size_t kMaxJsonDepth = 1024;

const mysql::FormatDescription& Fde(bool mysql_fde) {
  static const mysql::FormatDescription* fdes = [] {
    auto* out = new mysql::FormatDescription[2];
    for (int i = 0; i < 2; ++i) {
      mysql::BinlogDecoder d;
      std::string e = MakeFdeEvent(i == 1, false);
      auto ev = d.Decode(AsBytes(e), 4);
      SLUICE_FUZZ_CHECK(ev.ok(), ev.status().ToString());
      out[i] = d.format();
    }
    return out;
  }();
  return fdes[mysql_fde ? 1 : 0];
}

std::string Run(std::string_view in) {
  const uint8_t selector = static_cast<uint8_t>(in[0]);
  const uint8_t skip = static_cast<uint8_t>(in[1]);
  size_t tm_len = static_cast<uint8_t>(in[2]) | static_cast<size_t>(static_cast<uint8_t>(in[3]))
                                                    << 8;
  std::string_view rest = in.substr(4);
  tm_len = std::min(tm_len, rest.size());
  std::string_view tm_body = rest.substr(0, tm_len);
  std::string_view rows_body = rest.substr(tm_len);
  const mysql::FormatDescription& fde = Fde(selector & kRowsSelectorMysqlFde);

  std::string digest;
  auto tm = mysql::DecodeTableMap(AsBytes(tm_body), fde);
  if (!tm.ok()) {
    SLUICE_FUZZ_CHECK(!tm.status().message().empty());
    return "table map error " + tm.status().ToString();
  }
  auto table = std::make_shared<const mysql::TableMap>(*std::move(tm));
  mysql::TableMapCache cache;
  cache[table->table_id] = table;

  const uint8_t type = kRowsTypes[(selector & 0x07) % 7];
  auto rows = mysql::DecodeRowsEvent(AsBytes(rows_body), type, fde, cache);
  std::string json;
  if (rows.ok()) {
    for (const mysql::RowChange& c : rows->rows) {
      for (const auto* row : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr}) {
        if (!row) continue;
        SLUICE_FUZZ_CHECK(static_cast<size_t>(row->fields_size()) <= table->columns.size());
        json.clear();
        AppendRowJson(*row, json);
        SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
        digest += json;
      }
    }
  } else {
    SLUICE_FUZZ_CHECK(!rows.status().message().empty());
    digest += "rows error " + rows.status().ToString();
  }

  // The streaming path (deferred rows, one reused row) sees the same rows, or the same error.
  auto deferred = mysql::DecodeRowsEvent(AsBytes(rows_body), type, fde, cache, /*defer_rows=*/true);
  if (deferred.ok()) {
    std::string streamed;
    size_t visited = 0;
    absl::Status st =
        mysql::ForEachRow(*deferred, fde, [&](const mysql::RowsEvent&, const mysql::RowChange& c) {
          ++visited;
          for (const auto* row : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr}) {
            if (row) AppendRowJson(*row, streamed);
          }
          return absl::OkStatus();
        });
    SLUICE_FUZZ_CHECK(st.ok() == rows.ok());
    if (rows.ok()) {
      std::string eager;
      for (const mysql::RowChange& c : rows->rows) {
        for (const auto* row : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr}) {
          if (row) AppendRowJson(*row, eager);
        }
      }
      SLUICE_FUZZ_CHECK(visited == rows->rows.size() && streamed == eager, streamed);
    }
  }

  // The flat path: the same rows rendered byte for byte alike, or the same error. Rendered both
  // into a std::string and, as `sluicectl binlog decode` does, into one TextBuffer after other
  // text (the raw-pointer renderer, flat_row_json.h), which must agree.
  if (deferred.ok()) {
    std::string flat;
    TextBuffer buffer;
    buffer.Append("{\"key\":");
    const size_t buffer_start = buffer.size();
    size_t visited = 0;
    const mysql::ColumnKeys keys(*table);
    absl::Status st = mysql::ForEachFlatRow(
        *deferred, fde, [&](const mysql::RowsEvent&, const mysql::FlatRowChange& c) {
          ++visited;
          for (const mysql::FlatRow* row : {c.before, c.after}) {
            if (row) {
              AppendFlatRowJson(*row, keys, flat);
              AppendFlatRowJson(*row, keys, buffer);
            }
          }
          return absl::OkStatus();
        });
    SLUICE_FUZZ_CHECK(buffer.view().substr(buffer_start) == flat, flat);
    SLUICE_FUZZ_CHECK(st == rows.status(), st.ToString() + " vs " + rows.status().ToString());
    if (rows.ok()) {
      std::string eager;
      for (const mysql::RowChange& c : rows->rows) {
        for (const auto* row : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr}) {
          if (row) AppendRowJson(*row, eager);
        }
      }
      SLUICE_FUZZ_CHECK(visited == rows->rows.size() && flat == eager, flat);
    }
  }

  // The value decoders on their own, one value per column; the flat one alongside.
  const std::string_view values = rows_body.substr(std::min<size_t>(skip, rows_body.size()));
  wire::ByteReader r(values);
  wire::ByteReader fr(values);
  mysql::FlatRow flat_row;
  uint32_t column = 0;
  for (const mysql::ColumnDef& c : table->columns) {
    v1::Value v;
    size_t before = r.position();
    absl::Status st = mysql::ReadColumnValue(r, c, v);
    absl::Status flat_st = mysql::ReadFlatColumnValue(fr, c, column, flat_row);
    SLUICE_FUZZ_CHECK(flat_st == st, flat_st.ToString() + " vs " + st.ToString());
    SLUICE_FUZZ_CHECK(fr.position() == r.position() && fr.ok() == r.ok());
    if (!st.ok()) {
      digest += " value error " + st.ToString();
      break;
    }
    SLUICE_FUZZ_CHECK(r.ok() && r.position() >= before && r.position() <= r.size());
    json.clear();
    AppendValueJson(v, json);
    SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
    std::string flat_json;
    AppendFlatValueJson(flat_row, flat_row.values().back(), flat_json);
    SLUICE_FUZZ_CHECK(flat_json == json, flat_json + " vs " + json);
    digest += json;
    ++column;
  }
  return digest;
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.size() < 4) return 0;
  std::string a = sluice::fuzz::Run(in);
  std::string b = sluice::fuzz::Run(in);
  SLUICE_FUZZ_CHECK(a == b, "decoding is not deterministic");
  return 0;
}
