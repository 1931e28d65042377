#pragma once
// Test helpers for the MySQL codec tests: reading the shared fixture binlogs and rendering decoded
// events as one-line text.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/binlog_decoder.h"

namespace sluice::mysql::testing {

// ../shared/fixtures/mysql-binlogs, from SLUICE_SHARED_DIR or SLUICE_SOURCE_DIR/../shared;
// nullopt when neither is set or the folder is absent.
inline std::optional<std::filesystem::path> FixtureDir() {
  std::filesystem::path dir;
  if (const char* shared = std::getenv("SLUICE_SHARED_DIR")) {
    dir = std::filesystem::path(shared) / "fixtures" / "mysql-binlogs";
  } else if (const char* src = std::getenv("SLUICE_SOURCE_DIR")) {
    dir = std::filesystem::path(src) / ".." / "shared" / "fixtures" / "mysql-binlogs";
  } else {
    return std::nullopt;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Bytes AsBytes(std::string_view s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

struct Decoded {
  std::vector<Event> events;
  absl::Status status;  // the first error, or OK at a clean end of file
};

inline Decoded DecodeAll(std::string_view file, std::string name) {
  Decoded out;
  BinlogFileReader reader(AsBytes(file), std::move(name));
  while (true) {
    auto ev = reader.Next();
    if (!ev.ok()) {
      out.status = ev.status();
      return out;
    }
    if (!ev->has_value()) return out;
    out.events.push_back(**std::move(ev));
  }
}

// Decodes `file`'s events one at a time with `decoder` (from offset 4) and calls `fn` with each
// event, its offset and its bytes (a view into `file`), as a binlog reader that hands each event's
// bytes to the decoder does. Stops quietly at the first header or event that does not decode (a
// truncated or corrupt fixture), and at the first error `fn` returns, which it returns.
inline absl::Status ForEachFileEvent(
    std::string_view file, BinlogDecoder& decoder,
    const std::function<absl::Status(const Event&, uint64_t pos, Bytes bytes)>& fn) {
  uint64_t pos = 4;
  while (pos + kEventHeaderLength <= file.size()) {
    auto h = DecodeEventHeader(AsBytes(file.substr(pos)));
    if (!h.ok() || h->event_size < kEventHeaderLength || pos + h->event_size > file.size()) {
      break;
    }
    const Bytes bytes = AsBytes(file.substr(pos, h->event_size));
    auto e = decoder.Decode(bytes, pos);
    if (!e.ok()) break;
    if (absl::Status st = fn(*e, pos, bytes); !st.ok()) return st;
    pos += h->event_size;
  }
  return absl::OkStatus();
}

inline std::string RowJson(const v1::Row& row) {
  std::string s;
  AppendRowJson(row, s);
  return s;
}

// All rows of all row events (including those inside transaction payloads), rendered as
// "I {...}", "U {...} -> {...}", "D {...}".
inline void CollectRows(const std::vector<Event>& events, std::vector<std::string>& out) {
  for (const Event& e : events) {
    if (auto* p = std::get_if<TransactionPayload>(&e.body)) CollectRows(p->events, out);
    const auto* rows = std::get_if<RowsEvent>(&e.body);
    if (!rows) continue;
    for (const RowChange& c : rows->rows) {
      switch (rows->kind) {
        case RowsKind::kWrite:
          out.push_back("I " + RowJson(*c.after));
          break;
        case RowsKind::kUpdate:
          out.push_back("U " + RowJson(*c.before) + " -> " + RowJson(*c.after));
          break;
        case RowsKind::kDelete:
          out.push_back("D " + RowJson(*c.before));
          break;
      }
    }
  }
}

inline std::vector<std::string> Rows(const std::vector<Event>& events) {
  std::vector<std::string> out;
  CollectRows(events, out);
  return out;
}

}  // namespace sluice::mysql::testing
