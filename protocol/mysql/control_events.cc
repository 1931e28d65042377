#include "protocol/mysql/control_events.h"

#include <bit>
#include <charconv>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

std::string Str(std::string_view s) { return std::string(s); }

// The server version field of an FDE is 50 bytes, NUL padded.
constexpr size_t kServerVersionLength = 50;

// MySQL's serialization library (GTID_TAGGED_LOG_EVENT, tagged PREVIOUS_GTIDS) writes unsigned
// integers as: 1 + (number of trailing one bits of the first byte) bytes, little-endian, with the
// value shifted left by that byte count; a first byte of 0xFF is followed by a plain u64le.
uint64_t ReadVarlenUnsigned(ByteReader& r) {
  uint8_t first = r.PeekU8();
  if (!r.ok()) return 0;
  size_t n = static_cast<size_t>(std::countr_one(first)) + 1;
  if (n >= 9) {
    r.Skip(1);
    return r.ReadU64Le();
  }
  uint64_t raw = 0;
  for (size_t i = 0; i < n; ++i) raw |= static_cast<uint64_t>(r.ReadU8()) << (8 * i);
  return raw >> n;
}

int64_t ReadVarlenSigned(ByteReader& r) {
  uint64_t u = ReadVarlenUnsigned(r);
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

}  // namespace

absl::StatusOr<EventHeader> DecodeEventHeader(Bytes event) {
  ByteReader r(event);
  EventHeader h;
  h.timestamp = r.ReadU32Le();
  h.type = r.ReadU8();
  h.server_id = r.ReadU32Le();
  h.event_size = r.ReadU32Le();
  h.log_pos = r.ReadU32Le();
  h.flags = r.ReadU16Le();
  if (!r.ok()) return r.status("event header");
  if (h.event_size < kEventHeaderLength) {
    return absl::DataLossError(absl::StrCat("event header: ", Str(EventTypeName(h.type)),
                                            " declares event_size ", h.event_size,
                                            ", smaller than the 19-byte header"));
  }
  return h;
}

uint8_t FormatDescription::PostHeaderLength(EventType type, uint8_t fallback) const {
  size_t index = static_cast<size_t>(type);
  if (index == 0 || index > post_header_lengths.size()) return fallback;
  return post_header_lengths[index - 1];
}

FormatDescription DefaultFormatDescription() {
  FormatDescription fde;
  fde.binlog_version = 4;
  fde.server_version = "5.7.0";
  return fde;
}

bool VersionHasChecksumAlg(std::string_view v) {
  int parts[3] = {0, 0, 0};
  size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(v.data() + i, v.data() + v.size(), value);
    if (ec != std::errc()) break;
    parts[k] = value;
    i = static_cast<size_t>(ptr - v.data());
    if (i >= v.size() || v[i] != '.') break;
    ++i;
  }
  bool mariadb = v.find("MariaDB") != std::string_view::npos;
  // In 64 bits: a peer's version string may hold any int ("533333333...").
  const int64_t version = int64_t{parts[0]} * 10000 + int64_t{parts[1]} * 100 + parts[2];
  return mariadb ? version >= 50300 : version >= 50601;
}

absl::StatusOr<FormatDescription> DecodeFormatDescription(Bytes body) {
  ByteReader r(body);
  FormatDescription fde;
  fde.binlog_version = r.ReadU16Le();
  std::string_view version = r.ReadString(kServerVersionLength);
  fde.create_timestamp = r.ReadU32Le();
  fde.header_length = r.ReadU8();
  if (!r.ok()) return r.status("FORMAT_DESCRIPTION_EVENT");
  fde.server_version = Str(version.substr(0, version.find('\0')));
  if (fde.binlog_version != 4) {
    return absl::InvalidArgumentError(absl::StrCat("FORMAT_DESCRIPTION_EVENT: binlog version ",
                                                   fde.binlog_version,
                                                   " is not supported (need 4)"));
  }
  if (fde.header_length < kEventHeaderLength) {
    return absl::DataLossError(absl::StrCat("FORMAT_DESCRIPTION_EVENT: header length ",
                                            fde.header_length, " at offset 56 is below 19"));
  }
  fde.has_checksum_alg = VersionHasChecksumAlg(fde.server_version);
  size_t rest = r.remaining();
  size_t trailer = fde.has_checksum_alg ? 1 + kChecksumLength : 0;
  if (rest < trailer) {
    return absl::DataLossError(absl::StrCat("FORMAT_DESCRIPTION_EVENT: ", rest,
                                            " bytes after offset 57, need at least ", trailer,
                                            " for the checksum algorithm and checksum"));
  }
  Bytes lengths = r.ReadBytes(rest - trailer);
  fde.post_header_lengths.reserve(lengths.size());
  for (std::byte b : lengths) fde.post_header_lengths.push_back(static_cast<uint8_t>(b));
  // The FDE's own post-header length (entry 15) is 57 + the number of entries: a cross-check that
  // catches a truncated FDE, whose length array has no explicit size.
  constexpr size_t kFdeFixedPart = 2 + kServerVersionLength + 4 + 1;
  size_t fde_index = static_cast<size_t>(EventType::kFormatDescription) - 1;
  if (fde.post_header_lengths.size() <= fde_index ||
      fde.post_header_lengths[fde_index] != kFdeFixedPart + fde.post_header_lengths.size()) {
    if (fde.post_header_lengths.size() <= fde_index) {
      return absl::DataLossError(absl::StrCat(
          "FORMAT_DESCRIPTION_EVENT: the post-header length table has ",
          fde.post_header_lengths.size(), " entries, fewer than the 15 of binlog v4; truncated"));
    }
    return absl::DataLossError(absl::StrCat(
        "FORMAT_DESCRIPTION_EVENT: its own post-header length ", fde.post_header_lengths[fde_index],
        " does not match the ", fde.post_header_lengths.size(), "-entry length table (expected ",
        kFdeFixedPart + fde.post_header_lengths.size(), "); the event is truncated or corrupt"));
  }
  if (fde.has_checksum_alg) {
    uint8_t alg = r.ReadU8();
    if (alg != 0 && alg != 1 && alg != 255) {
      return absl::DataLossError(
          absl::StrCat("FORMAT_DESCRIPTION_EVENT: unknown checksum algorithm ", alg, " at offset ",
                       r.position() - 1));
    }
    fde.checksum =
        alg == 1 ? ChecksumAlg::kCrc32 : (alg == 0 ? ChecksumAlg::kOff : ChecksumAlg::kUndefined);
  }
  if (!r.ok()) return r.status("FORMAT_DESCRIPTION_EVENT");
  return fde;
}

absl::StatusOr<Rotate> DecodeRotate(Bytes body, const FormatDescription& fde) {
  ByteReader r(body);
  Rotate out;
  uint8_t post = fde.PostHeaderLength(EventType::kRotate, 8);
  if (post >= 8) {
    out.position = r.ReadU64Le();
    r.Skip(post - 8);
  }
  out.next_file = Str(r.ReadRestString());
  if (!r.ok()) return r.status("ROTATE_EVENT");
  return out;
}

absl::StatusOr<Query> DecodeQuery(Bytes body, const FormatDescription& fde) {
  ByteReader r(body);
  Query q;
  uint8_t post = fde.PostHeaderLength(EventType::kQuery, 13);
  if (post < 11) {
    return absl::InvalidArgumentError(
        absl::StrCat("QUERY_EVENT: post-header length ", post, " is below the minimum 11"));
  }
  q.thread_id = r.ReadU32Le();
  q.exec_time = r.ReadU32Le();
  uint8_t db_len = r.ReadU8();
  q.error_code = r.ReadU16Le();
  uint16_t status_len = 0;
  if (post >= 13) {
    status_len = r.ReadU16Le();
    r.Skip(post - 13);
  }
  if (r.remaining() >= status_len) {
    q.client_collation = FindClientCollation(r.ReadBytes(status_len));
  } else {
    r.Skip(status_len);  // fails, naming the shortfall
  }
  q.database = Str(r.ReadString(db_len));
  uint8_t nul = r.ReadU8();
  if (r.ok() && nul != 0) {
    return absl::DataLossError(
        absl::StrCat("QUERY_EVENT: expected NUL after the database name at offset ",
                     r.position() - 1, ", found ", nul));
  }
  q.query = Str(r.ReadRestString());
  if (!r.ok()) return r.status("QUERY_EVENT");
  return q;
}

std::optional<uint16_t> FindClientCollation(Bytes status_vars) {
  // Codes and value lengths from MySQL's and MariaDB's log_event.h (Q_*_CODE).
  ByteReader r(status_vars);
  while (r.ok() && r.remaining() > 0) {
    const uint8_t code = r.ReadU8();
    switch (code) {
      case 0:  // Q_FLAGS2_CODE
      case 10:  // Q_MASTER_DATA_WRITTEN_CODE
        r.Skip(4);
        break;
      case 1:   // Q_SQL_MODE_CODE
      case 9:   // Q_TABLE_MAP_FOR_UPDATE_CODE
      case 17:  // Q_DDL_LOGGED_WITH_XID
      case 129:  // MariaDB Q_XID
        r.Skip(8);
        break;
      case 2:  // Q_CATALOG_CODE: length, text, NUL
        r.Skip(r.ReadU8() + 1u);
        break;
      case 3:  // Q_AUTO_INCREMENT: increment u16, offset u16
        r.Skip(4);
        break;
      case 4: {  // Q_CHARSET_CODE: character_set_client, collation_connection, collation_server
        const uint16_t client = r.ReadU16Le();
        r.Skip(4);
        if (!r.ok()) return std::nullopt;
        return client;
      }
      case 5:  // Q_TIME_ZONE_CODE: length, text
      case 6:  // Q_CATALOG_NZ_CODE: length, text
        r.Skip(r.ReadU8());
        break;
      case 7:   // Q_LC_TIME_NAMES_CODE
      case 8:   // Q_CHARSET_DATABASE_CODE
      case 18:  // Q_DEFAULT_COLLATION_FOR_UTF8MB4
        r.Skip(2);
        break;
      case 11:  // Q_INVOKER: user (length, text), host (length, text)
        r.Skip(r.ReadU8());
        r.Skip(r.ReadU8());
        break;
      case 12: {  // Q_UPDATED_DB_NAMES: count, then that many NUL-terminated names (254: none)
        const uint8_t count = r.ReadU8();
        if (count != 254) {
          for (uint8_t i = 0; i < count && r.ok(); ++i) r.ReadNulString();
        }
        break;
      }
      case 13:   // Q_MICROSECONDS
      case 128:  // MariaDB Q_HRNOW
        r.Skip(3);
        break;
      case 16:   // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP
      case 19:   // Q_SQL_REQUIRE_PRIMARY_KEY
      case 20:   // Q_DEFAULT_TABLE_ENCRYPTION
      case 130:  // MariaDB Q_GTID_FLAGS3
        r.Skip(1);
        break;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Xid> DecodeXid(Bytes body) {
  ByteReader r(body);
  Xid x{r.ReadU64Le()};
  if (!r.ok()) return r.status("XID_EVENT");
  return x;
}

std::string UuidToString(const Uuid& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[u[i] >> 4]);
    s.push_back(kHex[u[i] & 15]);
  }
  return s;
}

std::string Gtid::ToString() const {
  if (anonymous) return "ANONYMOUS";
  if (tag.empty()) return absl::StrCat(UuidToString(sid), ":", gno);
  return absl::StrCat(UuidToString(sid), ":", tag, ":", gno);
}

absl::StatusOr<Gtid> DecodeGtid(Bytes body, bool anonymous) {
  const char* what = anonymous ? "ANONYMOUS_GTID_LOG_EVENT" : "GTID_LOG_EVENT";
  ByteReader r(body);
  Gtid g;
  g.anonymous = anonymous;
  g.flags = r.ReadU8();
  Bytes sid = r.ReadBytes(16);
  g.gno = static_cast<int64_t>(r.ReadU64Le());
  if (!r.ok()) return r.status(what);
  for (size_t i = 0; i < 16; ++i) g.sid[i] = static_cast<uint8_t>(sid[i]);
  if (r.remaining() == 0) return g;  // MySQL 5.6: no logical clock
  uint8_t lt_type = r.ReadU8();
  if (r.ok() && lt_type != 2) {
    return absl::DataLossError(
        absl::StrCat(what, ": logical timestamp type ", lt_type, " at offset 25, expected 2"));
  }
  g.last_committed = static_cast<int64_t>(r.ReadU64Le());
  g.sequence_number = static_cast<int64_t>(r.ReadU64Le());
  if (!r.ok()) return r.status(what);
  if (r.remaining() >= 7) {
    uint64_t ts = r.ReadU32Le() | (static_cast<uint64_t>(r.ReadU24Le()) << 32);
    constexpr uint64_t kHighBit = uint64_t{1} << 55;
    g.immediate_commit_micros = ts & ~kHighBit;
    if (ts & kHighBit) {
      g.original_commit_micros = r.ReadU32Le() | (static_cast<uint64_t>(r.ReadU24Le()) << 32);
    } else {
      g.original_commit_micros = g.immediate_commit_micros;
    }
    if (r.remaining() > 0) g.transaction_length = r.ReadLenencInt();
    // Server versions and the commit group ticket follow; not needed.
    if (!r.ok()) return r.status(what);
  }
  return g;
}

absl::StatusOr<Gtid> DecodeGtidTagged(Bytes body) {
  constexpr const char* what = "GTID_TAGGED_LOG_EVENT";
  ByteReader r(body);
  Gtid g;
  ReadVarlenUnsigned(r);                  // serialization format version
  uint64_t size = ReadVarlenUnsigned(r);  // whole message size, header included
  ReadVarlenUnsigned(r);                  // last non-ignorable field id
  if (!r.ok()) return r.status(what);
  if (size > body.size()) {
    return absl::DataLossError(
        absl::StrCat(what, ": message size ", size, " exceeds the ", body.size(), "-byte body"));
  }
  bool have_sid = false, have_gno = false;
  while (r.ok() && r.position() < size) {
    size_t at = r.position();
    uint64_t field = ReadVarlenUnsigned(r);
    switch (field) {
      case 0:
        g.flags = static_cast<uint8_t>(ReadVarlenUnsigned(r));
        break;
      case 1:
        for (auto& b : g.sid) b = static_cast<uint8_t>(ReadVarlenUnsigned(r));
        have_sid = true;
        break;
      case 2:
        g.gno = ReadVarlenSigned(r);
        have_gno = true;
        break;
      case 3: {
        uint64_t len = ReadVarlenUnsigned(r);
        if (r.ok() && len > 32) {
          return absl::DataLossError(
              absl::StrCat(what, ": tag length ", len, " at offset ", at, " exceeds 32"));
        }
        g.tag = Str(r.ReadString(len));
        break;
      }
      case 4:
        g.last_committed = ReadVarlenSigned(r);
        break;
      case 5:
        g.sequence_number = ReadVarlenSigned(r);
        break;
      case 6:
        g.immediate_commit_micros = ReadVarlenUnsigned(r);
        break;
      case 7:
        g.original_commit_micros = ReadVarlenUnsigned(r);
        break;
      case 8:
        g.transaction_length = ReadVarlenUnsigned(r);
        break;
      case 9:
      case 10:
      case 11:
        ReadVarlenUnsigned(r);
        break;
      default:
        // A newer, unknown field: its encoding is unknown, so stop here. Fields the reader must
        // understand come first (ids up to "last non-ignorable"), which all are known above.
        r.Skip(size - at);
        break;
    }
  }
  if (!r.ok()) return r.status(what);
  if (!have_sid || !have_gno) {
    return absl::DataLossError(
        absl::StrCat(what, ": the message has no ", have_sid ? "gno" : "uuid", " field"));
  }
  if (!g.original_commit_micros) g.original_commit_micros = g.immediate_commit_micros;
  return g;
}

std::string PreviousGtids::ToString() const {
  std::string out;
  for (const GtidSetEntry& e : entries) {
    if (!out.empty()) out.push_back(',');
    absl::StrAppend(&out, UuidToString(e.sid));
    if (!e.tag.empty()) absl::StrAppend(&out, ":", e.tag);
    for (const GtidInterval& i : e.intervals) {
      if (i.end - 1 == i.start) {
        absl::StrAppend(&out, ":", i.start);
      } else {
        absl::StrAppend(&out, ":", i.start, "-", i.end - 1);
      }
    }
  }
  return out;
}

absl::StatusOr<PreviousGtids> DecodePreviousGtids(Bytes body) {
  constexpr const char* what = "PREVIOUS_GTIDS_LOG_EVENT";
  ByteReader r(body);
  PreviousGtids out;
  uint64_t first = r.ReadU64Le();
  if (!r.ok()) return r.status(what);
  // Tagged format (MySQL 8.3+): byte 0 and byte 7 are the format marker 1, bytes 1..6 the count.
  bool tagged = (first & 0xFF) == 1 && (first >> 56) == 1;
  uint64_t n_sids = tagged ? (first >> 8) & 0xFFFFFFFFFFFFull : first;
  // Each entry needs at least 16 + 8 bytes: reject counts the input cannot hold before allocating.
  if (n_sids > r.remaining() / 24) {
    return absl::DataLossError(absl::StrCat(what, ": ", n_sids,
                                            " uuids declared at offset 0 but only ", r.remaining(),
                                            " bytes follow"));
  }
  out.entries.reserve(n_sids);
  for (uint64_t i = 0; i < n_sids; ++i) {
    GtidSetEntry e;
    Bytes sid = r.ReadBytes(16);
    if (!r.ok()) return r.status(what);
    for (size_t k = 0; k < 16; ++k) e.sid[k] = static_cast<uint8_t>(sid[k]);
    if (tagged) {
      uint64_t len = ReadVarlenUnsigned(r);
      if (r.ok() && len > 32) {
        return absl::DataLossError(
            absl::StrCat(what, ": tag length ", len, " exceeds 32 at offset ", r.position()));
      }
      e.tag = Str(r.ReadString(len));
    }
    uint64_t n_intervals = r.ReadU64Le();
    if (!r.ok()) return r.status(what);
    if (n_intervals > r.remaining() / 16) {
      return absl::DataLossError(absl::StrCat(what, ": ", n_intervals,
                                              " intervals declared at offset ", r.position() - 8,
                                              " but only ", r.remaining(), " bytes follow"));
    }
    for (uint64_t k = 0; k < n_intervals; ++k) {
      GtidInterval iv;
      iv.start = static_cast<int64_t>(r.ReadU64Le());
      iv.end = static_cast<int64_t>(r.ReadU64Le());
      e.intervals.push_back(iv);
    }
    out.entries.push_back(std::move(e));
  }
  if (!r.ok()) return r.status(what);
  return out;
}

absl::StatusOr<Heartbeat> DecodeHeartbeat(Bytes body) {
  ByteReader r(body);
  return Heartbeat{Str(r.ReadRestString())};
}

absl::StatusOr<RowsQuery> DecodeRowsQuery(Bytes body, bool mariadb_annotate) {
  ByteReader r(body);
  if (!mariadb_annotate) r.Skip(1);  // ROWS_QUERY: 1-byte length (truncated at 255), then the text
  RowsQuery q{Str(r.ReadRestString())};
  if (!r.ok()) return r.status("ROWS_QUERY_LOG_EVENT");
  return q;
}

std::string MariaGtid::ToString() const {
  return absl::StrCat(domain_id, "-", server_id, "-", seq_no);
}

absl::StatusOr<MariaGtid> DecodeMariaGtid(Bytes body, uint32_t header_server_id) {
  ByteReader r(body);
  MariaGtid g;
  g.server_id = header_server_id;
  g.seq_no = r.ReadU64Le();
  g.domain_id = r.ReadU32Le();
  g.flags = r.ReadU8();
  if (r.ok() && (g.flags & kMariaGtidGroupCommitId)) g.commit_id = r.ReadU64Le();
  // XA xid and extra flags may follow; not needed.
  if (!r.ok()) return r.status("MariaDB GTID_EVENT");
  return g;
}

std::string MariaGtidList::ToString() const {
  std::string out;
  for (const MariaGtid& g : gtids) {
    if (!out.empty()) out.push_back(',');
    absl::StrAppend(&out, g.ToString());
  }
  return out;
}

absl::StatusOr<MariaGtidList> DecodeMariaGtidList(Bytes body) {
  ByteReader r(body);
  MariaGtidList out;
  uint32_t word = r.ReadU32Le();
  if (!r.ok()) return r.status("MariaDB GTID_LIST_EVENT");
  uint32_t count = word & 0x0FFFFFFF;
  out.flags = static_cast<uint8_t>(word >> 28);
  if (count > r.remaining() / 16) {
    return absl::DataLossError(absl::StrCat("MariaDB GTID_LIST_EVENT: ", count,
                                            " GTIDs declared at offset 0 but only ", r.remaining(),
                                            " bytes follow (16 per GTID)"));
  }
  for (uint32_t i = 0; i < count; ++i) {
    MariaGtid g;
    g.domain_id = r.ReadU32Le();
    g.server_id = r.ReadU32Le();
    g.seq_no = r.ReadU64Le();
    out.gtids.push_back(g);
  }
  if (!r.ok()) return r.status("MariaDB GTID_LIST_EVENT");
  return out;
}

absl::StatusOr<BinlogCheckpoint> DecodeBinlogCheckpoint(Bytes body) {
  ByteReader r(body);
  uint32_t len = r.ReadU32Le();
  BinlogCheckpoint c{Str(r.ReadString(len))};
  if (!r.ok()) return r.status("MariaDB BINLOG_CHECKPOINT_EVENT");
  return c;
}

}  // namespace sluice::mysql
