// Fuzzes the operator-facing parsers of server/config: the input as a source URL
// (ParseSourceUrl, RedactSourceUrl) and as a YAML settings file (ParseConfigYaml).
//
// Checks, for URLs:
//   * A parsed URL's url_redacted is RedactSourceUrl(input), and that is the input with the
//     password text replaced by "***".
//   * The password (decoded or as written) never shows up in url_redacted or in an error
//     message. To avoid false alarms a password is only looked for when it is at least 4 bytes,
//     holds no '*', and does not occur in the correctly redacted URL (so it is not also part of
//     the host, the query, ...). For error messages the text must also be absent from the
//     message for the same URL with a different password.
//   * FormatRedactedSourceUrl with the password put back parses to the same SourceConfig.
// For YAML: a loaded source passes the same round trip, and its url_redacted does not show the
// password (unless the password text occurs in the YAML or in the password-free canonical URL).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/config/server_config.h"
#include "server/config/source_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace config = sluice::config;
constexpr size_t npos = std::string_view::npos;

std::string_view Message(const absl::Status& status) {
  return std::string_view(status.message().data(), status.message().size());
}

// Where the password is written: after the first ':' of the userinfo, which runs from "://"
// (or the start) to the last '@' of the URL (source_config.h).
struct PasswordSpan {
  size_t begin = 0;
  size_t end = 0;
};
std::optional<PasswordSpan> FindPassword(std::string_view url) {
  const size_t sep = url.find("://");
  const size_t start = sep == npos ? 0 : sep + 3;
  const size_t at = url.rfind('@');
  if (at == npos || at < start) return std::nullopt;
  const size_t colon = url.find(':', start);
  if (colon == npos || colon > at) return std::nullopt;
  return PasswordSpan{colon + 1, at};
}

std::string ReplaceSpan(std::string_view url, const PasswordSpan& span, std::string_view with) {
  return absl::StrCat(std::string(url.substr(0, span.begin)), std::string(with),
                      std::string(url.substr(span.end)));
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    const int hi = hex(text[i + 1]);
    const int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Every byte outside [A-Za-z0-9._~-] as %XX.
std::string PercentEncodeAll(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', kHex[u >> 4], kHex[u & 0xF]};
    }
  }
  return out;
}

// True if `secret` is worth looking for: nothing but the password could put it into a text
// that does not contain it in `innocent` (the correctly redacted form).
bool Searchable(std::string_view secret, std::string_view innocent) {
  return secret.size() >= 4 && secret.find('*') == npos && innocent.find(secret) == npos;
}

std::string Describe(const config::SourceConfig& s) {
  std::string tables;
  for (const std::string& t : s.tables) absl::StrAppend(&tables, t, ",");
  return absl::StrCat(
      "name=", s.name, " kind=", s.kind, " host=", s.host, " port=", s.port, " user=", s.user,
      " password_bytes=", s.password.size(), " database=", s.database, " server_id=", s.server_id,
      " slot=", s.slot, " publication=", s.publication, " tables=", tables,
      " snapshot=", static_cast<int>(s.snapshot), " tls=", s.tls_mode, " tls_ca=", s.tls_ca_file);
}

bool SameSource(const config::SourceConfig& a, const config::SourceConfig& b) {
  return a.name == b.name && a.kind == b.kind && a.host == b.host && a.port == b.port &&
         a.user == b.user && a.password == b.password && a.database == b.database &&
         a.server_id == b.server_id && a.slot == b.slot && a.publication == b.publication &&
         a.tables == b.tables && a.snapshot == b.snapshot && a.tls_mode == b.tls_mode &&
         a.tls_ca_file == b.tls_ca_file;
}

// The canonical URL with the password put back must parse to the same source. Returns the
// canonical (redacted) URL.
std::string CheckCanonicalRoundTrip(const config::SourceConfig& s) {
  const std::string canonical = config::FormatRedactedSourceUrl(s);
  std::string url = canonical;
  if (!s.password.empty()) {
    const size_t sep = canonical.find("://");
    const size_t at = canonical.find('@', sep == npos ? 0 : sep + 3);
    SLUICE_FUZZ_CHECK(
        sep != npos && at != npos && at >= 4 && canonical.compare(at - 4, 4, ":***") == 0,
        "canonical URL has no \":***@\": " + canonical);
    url = absl::StrCat(canonical.substr(0, at - 3), PercentEncodeAll(s.password),
                       canonical.substr(at));
  }
  const absl::StatusOr<config::SourceConfig> reparsed = config::ParseSourceUrl(url);
  SLUICE_FUZZ_CHECK(reparsed.ok(), absl::StrCat("canonical URL ", canonical,
                                                " does not parse: ", reparsed.status().ToString(),
                                                "\n  source: ", Describe(s)));
  SLUICE_FUZZ_CHECK(
      SameSource(s, *reparsed),
      absl::StrCat("canonical URL ", canonical, " parses to a different source",
                   "\n  source:   ", Describe(s), "\n  reparsed: ", Describe(*reparsed)));
  SLUICE_FUZZ_CHECK(
      reparsed->url_redacted == canonical,
      absl::StrCat("canonical URL ", canonical, " is redacted as ", reparsed->url_redacted));
  return canonical;
}

void CheckUrl(std::string_view url) {
  const std::string redacted = config::RedactSourceUrl(url);
  const std::optional<PasswordSpan> span = FindPassword(url);
  // What a correct redaction shows around the password (the query is not redacted here).
  const std::string innocent = span ? ReplaceSpan(url, *span, "***") : std::string(url);
  const std::string_view written = span ? url.substr(span->begin, span->end - span->begin) : "";
  const std::optional<std::string> decoded = PercentDecode(written);

  if (Searchable(written, innocent)) {
    SLUICE_FUZZ_CHECK(redacted.find(written) == npos,
                      "RedactSourceUrl shows the password: " + redacted);
  }
  if (decoded && Searchable(*decoded, innocent)) {
    SLUICE_FUZZ_CHECK(redacted.find(*decoded) == npos,
                      "RedactSourceUrl shows the decoded password: " + redacted);
  }

  const absl::StatusOr<config::SourceConfig> parsed = config::ParseSourceUrl(url);
  if (!parsed.ok()) {
    SLUICE_FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
                      parsed.status().ToString());
    const std::string_view message = Message(parsed.status());
    SLUICE_FUZZ_CHECK(message.find(redacted) != npos,
                      "the error does not quote the redacted URL: " + std::string(message));
    if (!span) return;
    // The same URL with a harmless password that decodes (or fails to) the same way.
    const std::string other_url = ReplaceSpan(url, *span, decoded ? "pw" : "%zz");
    const absl::StatusOr<config::SourceConfig> other = config::ParseSourceUrl(other_url);
    const std::string other_message = other.ok() ? "" : std::string(Message(other.status()));
    const std::string decoded_text = decoded.value_or("");
    for (const std::string_view secret : {written, std::string_view(decoded_text)}) {
      if (Searchable(secret, innocent) && other_message.find(secret) == npos) {
        SLUICE_FUZZ_CHECK(message.find(secret) == npos,
                          "an error message shows the password: " + std::string(message));
      }
    }
    return;
  }

  const config::SourceConfig& s = *parsed;
  SLUICE_FUZZ_CHECK(s.url_redacted == redacted,
                    "url_redacted " + s.url_redacted + " is not RedactSourceUrl " + redacted);
  SLUICE_FUZZ_CHECK(span.has_value() || s.password.empty(), "a password without a ':'");
  if (span && span->end > span->begin) {
    SLUICE_FUZZ_CHECK(s.url_redacted == innocent,
                      "url_redacted " + s.url_redacted + ", want " + innocent);
  }
  if (Searchable(s.password, innocent)) {
    SLUICE_FUZZ_CHECK(s.url_redacted.find(s.password) == npos,
                      "url_redacted shows the password: " + s.url_redacted);
  }
  CheckCanonicalRoundTrip(s);
}

void CheckYaml(std::string_view yaml) {
  const absl::StatusOr<config::ServerConfig> loaded = config::ParseConfigYaml(yaml, "fuzz");
  if (!loaded.ok()) {
    SLUICE_FUZZ_CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument,
                      loaded.status().ToString());
    return;
  }
  SLUICE_FUZZ_CHECK(!loaded->data_dir.empty(), "a config without data_dir loaded");
  for (const config::SourceConfig& s : loaded->sources) {
    const std::string canonical = CheckCanonicalRoundTrip(s);
    // The password may come from the url, password: or ${ENV}/password_file, so it is only
    // looked for when it is not written elsewhere in the YAML and has no blank (YAML folds
    // line breaks in scalars into blanks) and the YAML has no escapes.
    if (Searchable(s.password, canonical) && yaml.find(s.password) == npos &&
        s.password.find_first_of(" \t\r\n") == npos && yaml.find('\\') == npos) {
      SLUICE_FUZZ_CHECK(s.url_redacted.find(s.password) == npos,
                        "url_redacted of a YAML source shows the password: " + s.url_redacted);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckUrl(input);
  CheckYaml(input);
  return 0;
}
