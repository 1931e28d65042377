#pragma once
// SourceConfig: everything sluice needs to connect to one source database, and the parser for
// the URL form of it.
//
// URL grammar (keys and values are percent-decoded; user and password too):
//
//   mysql://USER[:PASSWORD]@HOST[:PORT][/DATABASE]?name=NAME&server_id=N[&KEY=VALUE...]
//     (mariadb:// is an alias; PORT defaults to 3306; /DATABASE is optional)
//     keys: name, server_id, tables, snapshot, snapshot_chunk_size, snapshot_keyless,
//           snapshot_pause_ms, heartbeat_ms, retention_max_age, retention_max_bytes, tls, tls_ca,
//           table_state, mysql_resume
//   postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?name=NAME[&KEY=VALUE...]
//     (postgresql:// is an alias; PORT defaults to 5432)
//     keys: name, slot, publication, tables, snapshot, snapshot_chunk_size, snapshot_keyless,
//           snapshot_pause_ms, heartbeat_ms, retention_max_age, retention_max_bytes, tls, tls_ca,
//           table_state
//
//   name         required; 1 to 64 characters from [a-z0-9_-]
//   server_id    mysql, required; 1..4294967295, unique among the primary's replicas
//   slot         postgres; default "sluice_<name>" ('-' becomes '_'); [a-z0-9_]{1,63}
//   publication  postgres; default "sluice_<name>" ('-' becomes '_'); [A-Za-z0-9_]{1,63}
//   tables       comma-separated DATABASE.TABLE (mysql) or SCHEMA.TABLE (postgres) patterns;
//                the table part may use the globs '*' and '?'; empty means every table
//   snapshot     initial (default) | never | when_needed
//   snapshot_chunk_size  rows per snapshot chunk (one durable append each); 1..1000000,
//                default 10000
//   snapshot_keyless     error (default) | whole_table: what the snapshot does with a table
//                that has no primary key (whole_table reads it in one pass; Postgres by ctid)
//   snapshot_pause_ms    pause after each snapshot chunk, to spare a busy source; 0..60000,
//                default 0
//   heartbeat_ms MySQL: the binlog heartbeat period (a silent server is presumed dead after 3
//                of them + 5 s); Postgres: the standby status interval. 100..600000;
//                default 5000 (MySQL) / 10000 (Postgres)
//   retention_max_age    this source's retention age (7d, 12h, ...), overriding sluiced's
//   retention_max_bytes  and its size limit (50GiB, ...); "none" for no limit
//   table_state  true (default) | false: keep the latest row per primary key of each table beside
//                the log (SNAPSHOT_THEN_STREAM, sluicectl table; docs/subscriptions.md)
//   mysql_resume mysql: how a restart resumes (docs/mysql-source.md). auto (default): MySQL by
//                the stored executed GTID set (COM_BINLOG_DUMP_GTID) when gtid_mode=ON and the
//                set is not empty, MariaDB by its stored GTID state, else by file:pos; gtid: as
//                auto, but a MySQL server without gtid_mode=ON is refused; position: file:pos
//   tls          disabled | preferred (default) | required | verify_ca | verify_identity
//   tls_ca       path of a PEM CA bundle; not allowed with tls=disabled
//
// The password may hold any character if it is percent-encoded ('@' as %40, '/' as %2F, ':'
// as %3A, '%' as %25). The userinfo ends at the last '@' of the URL, so an unencoded '@' in
// the password still parses, but an '@' in a query value must then be written %40.
//
// Errors: InvalidArgument, one line, starting with `source URL "<url, password redacted>": `
// and naming the problem and the fix. No error message ever contains the password.
//
// Thread-safety: all functions here are pure and may be called from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sluice/v1/event.pb.h"

namespace sluice::config {

// What to do when a source has no checkpoint yet (or its checkpoint is no longer available).
enum class SnapshotMode {
  kInitial,     // snapshot the tables once, then stream
  kNever,       // stream from the current position, never snapshot
  kWhenNeeded,  // snapshot on first start and again whenever the checkpoint is gone
};

// "initial", "never", "when_needed".
std::string_view SnapshotModeName(SnapshotMode mode);

// How a MySQL source resumes after a restart (mysql_resume).
enum class MysqlResume {
  kAuto,      // MySQL: by the executed GTID set when gtid_mode=ON and it is not empty;
              // MariaDB: by its GTID state; else by file:pos
  kGtid,      // as kAuto, but a MySQL server without gtid_mode=ON is refused
  kPosition,  // always by file:pos (MariaDB too: never by its GTID state)
};

// "auto", "gtid", "position".
std::string_view MysqlResumeName(MysqlResume mode);

// One source database. Produced by ParseSourceUrl or LoadConfigFile, which apply the defaults
// and the validation described above; a SourceConfig they return is complete and consistent.
struct SourceConfig {
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;
  std::string host;
  uint16_t port = 0;
  std::string user;
  std::string password;             // a secret: never log it; log url_redacted instead
  std::string database;             // postgres: required; mysql: optional default database
  uint32_t server_id = 0;           // mysql only
  std::string slot;                 // postgres only
  std::string publication;          // postgres only
  std::vector<std::string> tables;  // patterns; empty = every table
  SnapshotMode snapshot = SnapshotMode::kInitial;
  uint32_t snapshot_chunk_size = 10'000;
  bool snapshot_keyless_whole_table = false;
  uint32_t snapshot_pause_ms = 0;
  std::optional<uint32_t> heartbeat_ms;  // unset: the connector's default
  // Per-source retention; unset fields follow sluiced's --retention-* flags. 0 = no limit.
  std::optional<int64_t> retention_max_age_micros;
  std::optional<uint64_t> retention_max_bytes;
  bool table_state = true;  // keep the table state (storage/table_state.h)
  MysqlResume mysql_resume = MysqlResume::kAuto;  // mysql only
  std::string tls_mode = "preferred";
  std::string tls_ca_file;
  // The source as a URL with the password replaced by "***". For a parsed URL this is the
  // input itself; for a YAML source it is the equivalent canonical URL.
  std::string url_redacted;
};

// Parses and validates a source URL (grammar above).
absl::StatusOr<SourceConfig> ParseSourceUrl(std::string_view url);

// `url` with the password (if any) replaced by "***". Works on malformed input too, so it is
// safe to use on anything that might be a URL before logging it.
std::string RedactSourceUrl(std::string_view url);

// The canonical URL for a complete SourceConfig, password replaced by "***". ParseSourceUrl of
// this URL (with the real password put back) yields the same SourceConfig.
std::string FormatRedactedSourceUrl(const SourceConfig& source);

}  // namespace sluice::config
