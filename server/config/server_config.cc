// LoadConfigFile: YAML -> ServerConfig. yaml-cpp throws; every exception is caught here and
// becomes a Status, so nothing escapes this file.

#include "server/config/server_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/status_macros.h"
#include "proto/base/units.h"
#include "server/config/listen_address.h"
#include "server/config/password_file.h"
#include "server/config/source_rules.h"
#include "yaml-cpp/yaml.h"

namespace sluice::config {
namespace {

using internal::Absl;
using internal::Message;

constexpr uintmax_t kMaxConfigFileBytes = 16 * 1024 * 1024;

const std::vector<std::string_view> kTopLevelKeys = {
    "data_dir",   "listen",     "metrics_listen",       "log_format",           "sources",
    "tls",        "token_file", "snapshot_ingest_rows", "snapshot_ingest_bytes",
    "snapshot_ingest_max_delay_ms"};

// snapshot_ingest_*: the bounds of a bulk ingestion of snapshot chunks (ChangeLogOptions).
constexpr uint64_t kMaxIngestRows = 10'000'000;
constexpr uint64_t kMinIngestBytes = uint64_t{1} << 20;
constexpr uint64_t kMaxIngestBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxIngestDelayMs = 60'000;

// A whole number of at most 18 digits, nullopt for anything else.
std::optional<uint64_t> WholeNumber(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

const std::vector<std::string_view> kServerTlsKeys = {"cert_file", "key_file", "client_ca_file"};
const std::vector<std::string_view> kSourceKeys = {
    "name", "kind",        "url",           "host",      "port",
    "user", "password",    "password_file", "server_id", "database",
    "slot", "publication", "tables",        "snapshot",  "snapshot_chunk_size",
    "snapshot_keyless", "snapshot_pause_ms", "heartbeat_ms", "retention", "tls", "table_state",
    "mysql_resume"};
const std::vector<std::string_view> kTlsKeys = {"mode", "ca_file"};
const std::vector<std::string_view> kRetentionKeys = {"max_age", "max_bytes"};

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// One "key: value" of a mapping, in file order.
struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Keeps the file name and produces "FILE:LINE:COL: message" errors.
class Loader {
 public:
  explicit Loader(std::string_view origin) : origin_(origin) {
    base_dir_ = std::filesystem::path(origin_).parent_path();
  }

  absl::StatusOr<ServerConfig> Load(const YAML::Node& root);

  absl::Status Error(const YAML::Mark& mark, std::string_view message) const {
    if (mark.is_null()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: %s", origin_, message));
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d:%d: %s", origin_, mark.line + 1, mark.column + 1, message));
  }

 private:
  // The mark of a field's value, or of its key when the value has none (e.g. null).
  static YAML::Mark MarkOf(const Field& f) {
    YAML::Mark m = f.value.Mark();
    return m.is_null() ? f.key_node.Mark() : m;
  }
  absl::Status FieldError(const Field& f, std::string_view context, std::string_view msg) const {
    return Error(MarkOf(f), absl::StrCat(Absl(context), ": ", Absl(msg)));
  }

  // The entries of a mapping; unknown, duplicate and non-string keys are errors.
  absl::StatusOr<std::vector<Field>> Fields(const YAML::Node& map, std::string_view context,
                                            const std::vector<std::string_view>& known) const;
  absl::StatusOr<std::string> String(const Field& f, std::string_view context) const;
  absl::StatusOr<SourceConfig> LoadSource(const YAML::Node& node, size_t index);
  absl::Status LoadTls(const Field& f, std::string_view context, SourceConfig& s) const;
  absl::Status LoadRetention(const Field& f, std::string_view context, SourceConfig& s) const;
  absl::Status LoadServerTls(const Field& f, ServerTls& tls) const;
  // A path naming an existing readable file; relative paths are relative to the config file.
  absl::StatusOr<std::string> ExistingFile(const Field& f, std::string_view context) const;
  absl::Status ApplyField(const Field& f, std::string_view context, SourceConfig& s);
  absl::StatusOr<std::string> ExpandEnv(const Field& f, std::string_view context,
                                        std::string_view text) const;
  absl::StatusOr<std::string> ReadPasswordFile(const Field& f, std::string_view context,
                                               const std::string& path) const;

  std::string origin_;
  std::filesystem::path base_dir_;
};

absl::StatusOr<std::vector<Field>> Loader::Fields(
    const YAML::Node& map, std::string_view context,
    const std::vector<std::string_view>& known) const {
  std::vector<Field> out;
  std::map<std::string, int> first_line;
  for (const auto& entry : map) {  // entry is a by-value pair, kept alive by the loop
    const YAML::Node key = entry.first;
    if (!key.IsScalar()) {
      return Error(key.Mark(),
                   absl::StrFormat("%s: keys must be plain words, got %s", context, Describe(key)));
    }
    const std::string name = key.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Error(key.Mark(), absl::StrCat(Absl(context), ": unknown key \"", name, "\"",
                                            internal::KnownKeysHint(name, known)));
    }
    auto [pos, inserted] = first_line.emplace(name, key.Mark().line + 1);
    if (!inserted) {
      return Error(
          key.Mark(),
          absl::StrFormat("%s: duplicate key \"%s\" (first on line %d): give each key once",
                          context, name, pos->second));
    }
    out.push_back(Field{name, key, entry.second});
  }
  return out;
}

absl::StatusOr<std::string> Loader::String(const Field& f, std::string_view context) const {
  if (!f.value.IsScalar()) {
    return FieldError(f, context,
                      absl::StrFormat("\"%s\" must be a string, got %s (write %s: \"\" for an "
                                      "empty value)",
                                      f.key, Describe(f.value), f.key));
  }
  return f.value.Scalar();
}

absl::StatusOr<std::string> Loader::ExpandEnv(const Field& f, std::string_view context,
                                              std::string_view text) const {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    if (text.substr(i, 3) == "$${") {  // escaped literal "${"
      out.append("${");
      i += 2;
      continue;
    }
    if (text[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return FieldError(f, context,
                        absl::StrFormat("%s has a \"${\" without a closing '}': write ${NAME}, or "
                                        "$${ for a literal \"${\"",
                                        f.key));
    }
    const std::string var(text.substr(i + 2, close - i - 2));
    const bool valid_name = !var.empty() && !(var[0] >= '0' && var[0] <= '9') &&
                            std::all_of(var.begin(), var.end(), [](char c) {
                              return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                     (c >= '0' && c <= '9') || c == '_';
                            });
    if (!valid_name) {
      return FieldError(f, context,
                        absl::StrFormat("%s refers to an invalid environment variable name: use "
                                        "${NAME} with letters, digits and '_', or $${ for a "
                                        "literal \"${\"",
                                        f.key));
    }
    const char* env = std::getenv(var.c_str());
    if (env == nullptr) {
      return FieldError(f, context,
                        absl::StrFormat("environment variable \"%s\" (used in %s) is not set: "
                                        "export it before starting sluice",
                                        var, f.key));
    }
    out.append(env);
    i = close;
  }
  return out;
}

absl::StatusOr<std::string> Loader::ReadPasswordFile(const Field& f, std::string_view context,
                                                     const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative()) {
    p = base_dir_ / p;
  }
  absl::StatusOr<std::string> password = internal::ReadPasswordFile(p);
  if (!password.ok()) {
    return FieldError(f, context, internal::Message(password.status()));
  }
  return password;
}

absl::Status Loader::LoadRetention(const Field& f, std::string_view context,
                                   SourceConfig& s) const {
  if (!f.value.IsMap()) {
    return FieldError(f, context,
                      absl::StrFormat("\"retention\" must be a mapping such as {max_age: 7d, "
                                      "max_bytes: 50GiB}, got %s",
                                      Describe(f.value)));
  }
  const std::string r_context = absl::StrCat(Absl(context), ": retention");
  SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, Fields(f.value, r_context, kRetentionKeys));
  for (const Field& r : fields) {
    SLUICE_ASSIGN_OR_RETURN(std::string value, String(r, r_context));
    if (r.key == "max_age") {
      absl::StatusOr<int64_t> age = internal::ParseRetentionAge(value, "max_age");
      if (!age.ok()) return FieldError(r, r_context, Message(age.status()));
      s.retention_max_age_micros = *age;
    } else {
      absl::StatusOr<uint64_t> bytes = internal::ParseRetentionBytes(value, "max_bytes");
      if (!bytes.ok()) return FieldError(r, r_context, Message(bytes.status()));
      s.retention_max_bytes = *bytes;
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::LoadTls(const Field& f, std::string_view context, SourceConfig& s) const {
  if (f.value.IsScalar()) {  // tls: required
    if (absl::Status st = internal::ValidateTlsMode(f.value.Scalar()); !st.ok()) {
      return FieldError(f, context, Message(st));
    }
    s.tls_mode = f.value.Scalar();
    return absl::OkStatus();
  }
  if (!f.value.IsMap()) {
    return FieldError(f, context,
                      absl::StrFormat("\"tls\" must be a mapping such as {mode: verify_identity, "
                                      "ca_file: /etc/ssl/ca.pem} or a mode, got %s",
                                      Describe(f.value)));
  }
  const std::string tls_context = absl::StrCat(Absl(context), ": tls");
  SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, Fields(f.value, tls_context, kTlsKeys));
  for (const Field& t : fields) {
    SLUICE_ASSIGN_OR_RETURN(std::string value, String(t, tls_context));
    if (t.key == "mode") {
      if (absl::Status st = internal::ValidateTlsMode(value); !st.ok()) {
        return FieldError(t, tls_context, Message(st));
      }
      s.tls_mode = std::move(value);
    } else {  // ca_file
      if (value.empty()) {
        return FieldError(t, tls_context,
                          "ca_file is empty: give the path of a PEM CA file or remove the key");
      }
      s.tls_ca_file = std::move(value);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Loader::ExistingFile(const Field& f, std::string_view context) const {
  SLUICE_ASSIGN_OR_RETURN(std::string value, String(f, context));
  if (value.empty()) {
    return FieldError(f, context, absl::StrFormat("%s is empty: give the path of a file", f.key));
  }
  std::filesystem::path p(value);
  if (p.is_relative()) {
    p = base_dir_ / p;
  }
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(p, ec);
  if (ec || !regular) {
    return FieldError(f, context,
                      absl::StrFormat("%s \"%s\" cannot be read: %s", f.key, p.string(),
                                      ec ? ec.message() : "it is not a regular file"));
  }
  return p.string();
}

absl::Status Loader::LoadServerTls(const Field& f, ServerTls& tls) const {
  if (!f.value.IsMap()) {
    return FieldError(f, "tls",
                      absl::StrFormat("\"tls\" must be a mapping such as {cert_file: server.pem, "
                                      "key_file: server.key}, got %s",
                                      Describe(f.value)));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, Fields(f.value, "tls", kServerTlsKeys));
  for (const Field& t : fields) {
    SLUICE_ASSIGN_OR_RETURN(std::string path, ExistingFile(t, "tls"));
    if (t.key == "cert_file") {
      tls.cert_file = std::move(path);
    } else if (t.key == "key_file") {
      tls.key_file = std::move(path);
    } else {
      tls.client_ca_file = std::move(path);
    }
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return FieldError(f, "tls",
                      absl::StrFormat("%s is missing: TLS needs both cert_file and key_file",
                                      tls.cert_file.empty() ? "cert_file" : "key_file"));
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return FieldError(f, "tls",
                      "client_ca_file needs cert_file and key_file: client certificates are "
                      "checked only over TLS");
  }
  return absl::OkStatus();
}

absl::Status Loader::ApplyField(const Field& f, std::string_view context, SourceConfig& s) {
  // Wraps a rule's message with this field's location.
  auto check = [&](const absl::Status& st) {
    return st.ok() ? st : FieldError(f, context, Message(st));
  };
  if (f.key == "tables") {
    if (!f.value.IsSequence()) {
      return FieldError(f, context,
                        absl::StrFormat("\"tables\" must be a list such as [shop.orders, "
                                        "\"shop.*\"], got %s",
                                        Describe(f.value)));
    }
    for (const YAML::Node& item : f.value) {
      if (!item.IsScalar()) {
        return Error(item.Mark(), absl::StrFormat("%s: each entry of \"tables\" must be a string "
                                                  "such as shop.orders, got %s",
                                                  context, Describe(item)));
      }
      if (absl::Status st = internal::ValidateTablePattern(item.Scalar(), s.kind); !st.ok()) {
        return Error(item.Mark(), absl::StrCat(Absl(context), ": ", st.message()));
      }
      s.tables.push_back(item.Scalar());
    }
    return absl::OkStatus();
  }
  if (f.key == "tls") {
    return LoadTls(f, context, s);
  }
  if (f.key == "retention") {
    return LoadRetention(f, context, s);
  }
  SLUICE_ASSIGN_OR_RETURN(std::string value, String(f, context));
  if (f.key == "name") {
    SLUICE_RETURN_IF_ERROR(check(internal::ValidateName(value)));
    s.name = std::move(value);
  } else if (f.key == "host") {
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      value = value.substr(1, value.size() - 2);  // [::1] -> ::1
    }
    if (!value.empty()) {
      SLUICE_RETURN_IF_ERROR(check(internal::ValidateHost(value)));
    }
    s.host = std::move(value);
  } else if (f.key == "port") {
    absl::StatusOr<uint16_t> port = internal::ParsePort(value, 1);
    SLUICE_RETURN_IF_ERROR(check(port.status()));
    s.port = *port;
  } else if (f.key == "user") {
    s.user = std::move(value);
  } else if (f.key == "password") {
    SLUICE_ASSIGN_OR_RETURN(s.password, ExpandEnv(f, context, value));
  } else if (f.key == "password_file") {
    if (value.empty()) {
      return FieldError(f, context, "password_file is empty: give the path of a file");
    }
    SLUICE_ASSIGN_OR_RETURN(s.password, ReadPasswordFile(f, context, value));
  } else if (f.key == "server_id") {
    absl::StatusOr<uint32_t> id = internal::ParseServerId(value);
    SLUICE_RETURN_IF_ERROR(check(id.status()));
    s.server_id = *id;
  } else if (f.key == "database") {
    s.database = std::move(value);
  } else if (f.key == "slot") {
    SLUICE_RETURN_IF_ERROR(check(internal::ValidateSlot(value)));
    s.slot = std::move(value);
  } else if (f.key == "publication") {
    SLUICE_RETURN_IF_ERROR(check(internal::ValidatePublication(value)));
    s.publication = std::move(value);
  } else if (f.key == "snapshot") {
    absl::StatusOr<SnapshotMode> mode = internal::ParseSnapshotMode(value);
    SLUICE_RETURN_IF_ERROR(check(mode.status()));
    s.snapshot = *mode;
  } else if (f.key == "snapshot_chunk_size") {
    absl::StatusOr<uint32_t> n = internal::ParseSnapshotChunkSize(value);
    SLUICE_RETURN_IF_ERROR(check(n.status()));
    s.snapshot_chunk_size = *n;
  } else if (f.key == "heartbeat_ms") {
    absl::StatusOr<uint32_t> ms = internal::ParseHeartbeatMs(value);
    SLUICE_RETURN_IF_ERROR(check(ms.status()));
    s.heartbeat_ms = *ms;
  } else if (f.key == "snapshot_pause_ms") {
    absl::StatusOr<uint32_t> ms = internal::ParseSnapshotPauseMs(value);
    SLUICE_RETURN_IF_ERROR(check(ms.status()));
    s.snapshot_pause_ms = *ms;
  } else if (f.key == "snapshot_keyless") {
    absl::StatusOr<bool> whole = internal::ParseSnapshotKeyless(value);
    SLUICE_RETURN_IF_ERROR(check(whole.status()));
    s.snapshot_keyless_whole_table = *whole;
  } else if (f.key == "table_state") {
    absl::StatusOr<bool> on = internal::ParseTableState(value);
    SLUICE_RETURN_IF_ERROR(check(on.status()));
    s.table_state = *on;
  } else if (f.key == "mysql_resume") {
    absl::StatusOr<MysqlResume> mode = internal::ParseMysqlResume(value);
    SLUICE_RETURN_IF_ERROR(check(mode.status()));
    s.mysql_resume = *mode;
  }
  return absl::OkStatus();
}

absl::StatusOr<SourceConfig> Loader::LoadSource(const YAML::Node& node, size_t index) {
  std::string context = absl::StrFormat("sources[%d]", index);
  if (!node.IsMap()) {
    return Error(node.Mark(),
                 absl::StrFormat("%s must be a mapping with keys such as name, kind, host, or "
                                 "url, got %s (write \"- name: ...\" or \"- url: ...\")",
                                 context, Describe(node)));
  }
  // Name the source in messages as soon as possible, even for errors in keys before "name".
  for (const auto& entry : node) {
    if (entry.first.IsScalar() && entry.first.Scalar() == "name" && entry.second.IsScalar()) {
      context = absl::StrFormat("source '%s'", entry.second.Scalar());
    }
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, Fields(node, context, kSourceKeys));
  const Field* url = nullptr;
  const Field* kind = nullptr;
  const Field* password = nullptr;
  for (const Field& f : fields) {
    if (f.key == "url") {
      url = &f;
    } else if (f.key == "kind") {
      kind = &f;
    }
    if (f.key == "password" || f.key == "password_file") {
      if (password != nullptr) {
        return Error(
            f.key_node.Mark(),
            absl::StrFormat("%s: give either password or password_file, not both", context));
      }
      password = &f;
    }
  }

  SourceConfig s;
  if (url != nullptr) {
    for (const Field& f : fields) {
      if (f.key != "url" && f.key != "password" && f.key != "password_file") {
        return Error(f.key_node.Mark(),
                     absl::StrFormat("%s: key \"%s\" cannot be combined with url: put it in the "
                                     "URL or use separate keys instead of url",
                                     context, f.key));
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::string text, String(*url, context));
    if (text.find("${") != std::string::npos) {
      return FieldError(*url, context,
                        "url contains \"${\": environment variables are expanded only in "
                        "password; put password: ${NAME} next to url instead");
    }
    absl::StatusOr<SourceConfig> parsed = ParseSourceUrl(text);
    if (!parsed.ok()) {
      return FieldError(*url, context, Message(parsed.status()));
    }
    s = *std::move(parsed);
    if (password != nullptr) {
      if (!s.password.empty()) {
        return Error(password->key_node.Mark(),
                     absl::StrFormat("%s: the url already contains a password: remove it from "
                                     "the URL or remove %s",
                                     context, password->key));
      }
      SLUICE_RETURN_IF_ERROR(ApplyField(*password, context, s));
    }
    return s;
  }

  // Separate keys. The kind comes first: other fields' rules depend on it.
  if (kind != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(std::string text, String(*kind, context));
    std::optional<v1::SourceKind> k = internal::ParseKindName(text);
    if (!k) {
      return FieldError(*kind, context,
                        absl::StrFormat("kind \"%s\" is invalid: use mysql or postgres", text));
    }
    s.kind = *k;
  } else {
    return Error(node.Mark(),
                 absl::StrFormat("%s: kind is required: add kind: mysql or kind: postgres (or "
                                 "give the whole source as url: ...)",
                                 context));
  }
  for (const Field& f : fields) {
    const bool mysql_only = f.key == "server_id" || f.key == "mysql_resume";
    const bool postgres_only = f.key == "slot" || f.key == "publication";
    if ((mysql_only && s.kind != v1::SOURCE_KIND_MYSQL) ||
        (postgres_only && s.kind != v1::SOURCE_KIND_POSTGRES)) {
      return Error(f.key_node.Mark(),
                   absl::StrFormat("%s: key \"%s\" applies only to %s sources: remove it", context,
                                   f.key, mysql_only ? "mysql" : "postgres"));
    }
    if (f.key != "kind") {
      SLUICE_RETURN_IF_ERROR(ApplyField(f, context, s));
    }
  }
  if (absl::Status st = internal::FinishSourceConfig(s, internal::Syntax::kYaml); !st.ok()) {
    return Error(node.Mark(), Message(st));
  }
  s.url_redacted = FormatRedactedSourceUrl(s);
  return s;
}

absl::StatusOr<ServerConfig> Loader::Load(const YAML::Node& root) {
  if (root.IsNull() || !root.IsDefined()) {
    return Error(YAML::Mark::null_mark(),
                 "the config file is empty: it needs at least data_dir: DIR");
  }
  if (!root.IsMap()) {
    return Error(root.Mark(),
                 absl::StrFormat("the top level must be a mapping with the keys "
                                 "data_dir, listen, metrics_listen, log_format, sources, "
                                 "tls, token_file and snapshot_ingest_*, got %s",
                                 Describe(root)));
  }
  const std::string context = "top level";
  SLUICE_ASSIGN_OR_RETURN(std::vector<Field> fields, Fields(root, context, kTopLevelKeys));
  ServerConfig config;
  bool has_data_dir = false;
  std::pair<std::string, uint16_t> listen_addr;
  const Field* metrics = nullptr;
  for (const Field& f : fields) {
    if (f.key == "sources") {
      continue;  // after the scalars, so their errors come first
    }
    if (f.key == "tls") {
      SLUICE_RETURN_IF_ERROR(LoadServerTls(f, config.tls));
      continue;
    }
    if (f.key == "token_file") {
      SLUICE_ASSIGN_OR_RETURN(config.token_file, ExistingFile(f, context));
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(std::string value, String(f, context));
    if (f.key == "data_dir") {
      if (value.empty()) {
        return FieldError(f, context,
                          "data_dir is empty: give a directory such as /var/lib/sluice");
      }
      config.data_dir = std::move(value);
      has_data_dir = true;
    } else if (f.key == "listen") {
      config.listen = std::move(value);
    } else if (f.key == "metrics_listen") {
      config.metrics_listen = std::move(value);
      metrics = &f;
    } else if (f.key == "log_format") {
      if (value != "text" && value != "json") {
        return FieldError(
            f, context, absl::StrFormat("log_format \"%s\" is not known: use text or json", value));
      }
      config.log_format = std::move(value);
    } else if (f.key == "snapshot_ingest_rows") {
      std::optional<uint64_t> n = WholeNumber(value);
      if (!n || *n == 0 || *n > kMaxIngestRows) {
        return FieldError(f, context,
                          absl::StrFormat("snapshot_ingest_rows \"%s\" is not a number between 1 "
                                          "and %d (rows per bulk ingestion of snapshot chunks; "
                                          "the default is 100000)",
                                          value, kMaxIngestRows));
      }
      config.snapshot_ingest_rows = *n;
    } else if (f.key == "snapshot_ingest_bytes") {
      absl::StatusOr<uint64_t> n = ParseByteSize(value);
      if (!n.ok() || *n < kMinIngestBytes || *n > kMaxIngestBytes) {
        return FieldError(
            f, context,
            absl::StrFormat("snapshot_ingest_bytes \"%s\" is not a size between 1MiB and 1GiB "
                            "(record bytes per bulk ingestion of snapshot chunks, such as 64MiB, "
                            "the default; table-state rows out of key order are held in memory "
                            "up to it)",
                            value));
      }
      config.snapshot_ingest_bytes = *n;
    } else if (f.key == "snapshot_ingest_max_delay_ms") {
      std::optional<uint64_t> n = WholeNumber(value);
      if (!n || *n == 0 || *n > kMaxIngestDelayMs) {
        return FieldError(
            f, context,
            absl::StrFormat("snapshot_ingest_max_delay_ms \"%s\" is not a number of "
                            "milliseconds between 1 and %d (how long a snapshot chunk may wait "
                            "for its bulk ingestion; the default is 1000)",
                            value, kMaxIngestDelayMs));
      }
      config.snapshot_ingest_max_delay_ms = static_cast<uint32_t>(*n);
    }
  }
  if (!has_data_dir) {
    return Error(root.Mark(), "data_dir is required: add data_dir: /var/lib/sluice");
  }
  {
    absl::StatusOr<std::pair<std::string, uint16_t>> addr = ParseListenAddress(config.listen);
    if (!addr.ok()) {
      const auto it = std::find_if(fields.begin(), fields.end(),
                                   [](const Field& f) { return f.key == "listen"; });
      return it == fields.end() ? Error(root.Mark(), Message(addr.status()))
                                : FieldError(*it, "listen", Message(addr.status()));
    }
    listen_addr = *std::move(addr);
  }
  if (metrics != nullptr && !config.metrics_listen.empty()) {
    absl::StatusOr<std::pair<std::string, uint16_t>> addr =
        ParseListenAddress(config.metrics_listen);
    if (!addr.ok()) {
      return FieldError(*metrics, "metrics_listen", Message(addr.status()));
    }
    if (*addr == listen_addr && addr->second != 0) {
      return FieldError(*metrics, "metrics_listen",
                        absl::StrFormat("\"%s\" is also the gRPC listen address: give the metrics "
                                        "endpoint its own port",
                                        config.metrics_listen));
    }
  }

  for (const Field& f : fields) {
    if (f.key != "sources" || f.value.IsNull()) {
      continue;
    }
    if (!f.value.IsSequence()) {
      return FieldError(f, "sources",
                        absl::StrFormat("\"sources\" must be a list of sources (each starting "
                                        "with \"- \"), got %s",
                                        Describe(f.value)));
    }
    std::map<std::string, int> name_lines;
    size_t index = 0;
    for (const YAML::Node& item : f.value) {
      SLUICE_ASSIGN_OR_RETURN(SourceConfig source, LoadSource(item, index));
      auto [pos, inserted] = name_lines.emplace(source.name, item.Mark().line + 1);
      if (!inserted) {
        return Error(item.Mark(), absl::StrFormat("duplicate source name \"%s\" (first defined "
                                                  "on line %d): give each source its own name",
                                                  source.name, pos->second));
      }
      config.sources.push_back(std::move(source));
      ++index;
    }
  }
  return config;
}

}  // namespace

absl::Status ValidateServerTls(const ServerTls& tls) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is missing: TLS needs a certificate and its key (--tls-cert and "
                        "--tls-key, or tls: {cert_file, key_file} in the config file)",
                        tls.cert_file.empty() ? "--tls-cert" : "--tls-key"));
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked only "
        "over TLS");
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ParseConfigYaml(std::string_view yaml, std::string_view origin) {
  Loader loader(origin);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return loader.Load(root);
  } catch (const YAML::Exception& e) {
    return loader.Error(e.mark, absl::StrCat("invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    return loader.Error(YAML::Mark::null_mark(), absl::StrCat("cannot load: ", e.what()));
  }
}

absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    const std::string msg =
        absl::StrFormat("config file \"%s\" cannot be read: %s", path, ec.message());
    return ec == std::errc::no_such_file_or_directory ? absl::NotFoundError(msg)
                                                      : absl::InvalidArgumentError(msg);
  }
  if (size > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "config file \"%s\" is %d bytes: that is too large for a settings file", path, size));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  if (in.is_open()) {
    buf << in.rdbuf();
  }
  if (!in.is_open() || in.bad()) {
    return absl::InvalidArgumentError(absl::StrFormat("config file \"%s\" cannot be read", path));
  }
  return ParseConfigYaml(buf.str(), path);
}

}  // namespace sluice::config
