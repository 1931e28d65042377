#pragma once
// ServerConfig: the sluice server's settings file.
//
//   data_dir: /var/lib/sluice          # required
//   listen: 127.0.0.1:7070             # gRPC; default 127.0.0.1:7070
//   metrics_listen: 127.0.0.1:7071     # optional; empty or absent = no metrics endpoint
//   tls:                               # optional: gRPC over TLS
//     cert_file: /etc/sluice/server.pem    # PEM certificate (chain); needs key_file
//     key_file: /etc/sluice/server.key     # PEM private key; needs cert_file
//     client_ca_file: /etc/sluice/ca.pem   # optional: require client certificates (mTLS)
//   token_file: /etc/sluice/tokens     # optional: bearer tokens (see token_file.h)
//                                      # (relative paths in tls and token_file are relative to
//                                      # this file, and the files must exist)
//   snapshot_ingest_rows: 100000       # optional: initial snapshots' chunks are stored by bulk
//   snapshot_ingest_bytes: 64MiB       # ingestion, each ingestion at most this many rows
//   snapshot_ingest_max_delay_ms: 1000 # (1..10000000) and record bytes (1MiB..1GiB: the table
//                                      # state rows that come out of key order are held in
//                                      # memory up to it), its first chunk waiting at most this
//                                      # long (1..60000 ms); storage::ChangeLogOptions
//   sources:                           # optional; a list of mappings
//     - name: shop                     # required, [a-z0-9_-]{1,64}, unique
//       kind: mysql                    # required: mysql (alias mariadb) | postgres (postgresql)
//       host: 127.0.0.1                # required
//       port: 3306                     # default 3306 / 5432
//       user: sluice                   # required
//       password: secret               # or ${ENV_VAR} (expanded; $${ is a literal ${), or
//       # password_file: /run/secrets/shop   (relative paths are relative to this file; one
//       #                                      trailing newline is removed)
//       server_id: 4711                # mysql: required
//       database: shop                 # postgres: required; mysql: optional
//       slot: sluice_shop              # postgres: default sluice_<name>
//       publication: sluice_shop       # postgres: default sluice_<name>
//       tables: [shop.orders, "shop.*"]
//       snapshot: initial              # initial | never | when_needed
//       snapshot_chunk_size: 10000     # rows per snapshot chunk
//       snapshot_keyless: error        # error | whole_table (tables without a primary key)
//       snapshot_pause_ms: 0           # pause after each snapshot chunk
//       heartbeat_ms: 5000             # mysql heartbeat period / postgres status interval
//       mysql_resume: auto             # mysql: auto | gtid | position (source_config.h)
//       retention: {max_age: 7d, max_bytes: 50GiB}   # overrides --retention-*; none = no limit
//       tls: {mode: preferred, ca_file: /etc/ssl/ca.pem}   # or tls: required
//     - url: postgres://sluice@db:5432/app?name=app        # the URL form (see source_config.h)
//       password_file: /run/secrets/app                    # only password/password_file may
//                                                          # accompany url
//
// Values follow the same rules as the URL form (source_config.h), so both forms accept exactly
// the same sources.
//
// Validation is strict: unknown keys, duplicate keys, wrong types (a list where a string
// belongs), missing required fields and duplicate source names are errors. Each error is an
// InvalidArgument of the form "FILE:LINE:COLUMN: <context>: <problem>: <fix>". Passwords never
// appear in error messages.
//
// Thread-safety: the loaders only read the file system and the environment; they may run on any
// thread, but the caller must not change the environment concurrently (getenv).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config/source_config.h"

namespace sluice::config {

// gRPC TLS settings. All empty: plaintext.
struct ServerTls {
  std::string cert_file;       // PEM certificate chain; TLS is on when set (with key_file)
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // when set, clients must present a certificate signed by it
  bool enabled() const { return !cert_file.empty(); }
};

struct ServerConfig {
  std::string data_dir;
  std::string listen = "127.0.0.1:7070";  // validated by ParseListenAddress
  std::string metrics_listen;             // empty: no metrics endpoint
  std::string log_format = "text";        // "text" or "json" (sluiced --log-format)
  std::vector<SourceConfig> sources;      // complete and validated, unique names
  ServerTls tls;
  std::string token_file;  // empty: no authentication (then keep `listen` on loopback)
  // storage::ChangeLogOptions ingest_rows, ingest_bytes, ingest_max_delay_ms; unset: its
  // defaults. Validated ranges above.
  std::optional<uint64_t> snapshot_ingest_rows;
  std::optional<uint64_t> snapshot_ingest_bytes;
  std::optional<uint32_t> snapshot_ingest_max_delay_ms;
};

// The combination rules of ServerTls (cert_file and key_file together; client_ca_file only with
// them), for settings that came from flags. InvalidArgument naming the flags otherwise.
absl::Status ValidateServerTls(const ServerTls& tls);

// Reads and validates the YAML file at `path`. NotFound if the file does not exist,
// InvalidArgument for everything wrong inside it. Never throws.
absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path);

// The same for YAML text already in memory. `origin` names the text in error messages, and its
// directory is the base for relative password_file paths.
absl::StatusOr<ServerConfig> ParseConfigYaml(std::string_view yaml, std::string_view origin);

}  // namespace sluice::config
