#include "server/pipeline/mysql_settings.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice::pipeline {
namespace {

std::string Get(const std::map<std::string, std::string>& vars, const std::string& name) {
  auto it = vars.find(name);
  return it == vars.end() ? std::string() : absl::AsciiStrToUpper(it->second);
}

}  // namespace

absl::Status CheckMysqlSettings(const std::map<std::string, std::string>& vars,
                                uint32_t our_server_id, std::string_view source_name) {
  std::vector<std::string> problems;
  const std::string log_bin = Get(vars, "log_bin");
  if (log_bin != "ON" && log_bin != "1") {
    problems.push_back(
        "the binary log is off (log_bin=" + (log_bin.empty() ? std::string("?") : log_bin) +
        "): add log_bin=mysql-bin and a unique server_id under [mysqld] in my.cnf and restart "
        "the server");
  }
  const auto need = [&](const std::string& name, const std::string& want) {
    const std::string have = Get(vars, name);
    if (have == want) return;
    if (have.empty()) {
      problems.push_back(absl::StrCat(name, " is not available on this server (",
                                      std::string(Get(vars, "version")), "): sluice needs ", name,
                                      "=", want,
                                      ", which MySQL 8.0.1+ and MariaDB 10.5+ have; "
                                      "upgrade the server"));
      return;
    }
    problems.push_back(absl::StrCat(name, "=", have, " but sluice needs ", want,
                                    ": run SET GLOBAL ", name, "='", want, "' and add ", name, "=",
                                    want,
                                    " under [mysqld] in my.cnf (sessions already connected keep "
                                    "the old value until they reconnect)"));
  };
  need("binlog_format", "ROW");
  need("binlog_row_image", "FULL");
  need("binlog_row_metadata", "FULL");
  const std::string server_id = Get(vars, "server_id");
  if (server_id == std::to_string(our_server_id)) {
    problems.push_back(absl::StrCat(
        "server_id=", our_server_id,
        " is the server's own server_id: give sluice a server_id no other server or replica "
        "uses (server_id= in the source URL)"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("source '", std::string(source_name),
                                                    "': the server is not set up for row-based "
                                                    "change capture: ",
                                                    absl::StrJoin(problems, "; ")));
}

}  // namespace sluice::pipeline
