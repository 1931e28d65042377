#pragma once
// The server settings a MySQL/MariaDB source needs, and the check that refuses to stream when one
// is wrong. sluice decodes row images, so the binary log must hold whole rows with their column
// metadata; anything else would silently lose or misname data.
//
// Pure; thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sluice::pipeline {

// The SHOW GLOBAL VARIABLES query whose rows (name, value) CheckMysqlSettings reads. gtid_mode
// (MySQL only) decides whether a MySQL source may resume by GTID set (mysql_source.h).
inline constexpr std::string_view kMysqlSettingsQuery =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'server_id', 'log_bin', "
    "'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'binlog_checksum', "
    "'gtid_mode')";

// `vars` maps lower-case variable names to values. OK when the binary log is on, binlog_format
// is ROW, binlog_row_image FULL, binlog_row_metadata FULL and the server's server_id differs from
// `our_server_id`. Otherwise FailedPrecondition, one line, starting with "source '<name>': " and
// listing every wrong setting with the SET GLOBAL statement and the my.cnf line that fix it.
absl::Status CheckMysqlSettings(const std::map<std::string, std::string>& vars,
                                uint32_t our_server_id, std::string_view source_name);

}  // namespace sluice::pipeline
