#pragma once
// Helpers for storage tests: a temporary directory and event builders.

#include <cstdlib>
#include <filesystem>
#include <string>

#include "sluice/v1/event.pb.h"

namespace sluice::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline v1::ChangeEvent MakeEvent(const std::string& table, int64_t id, int64_t commit_ts = 0,
                                 v1::Op op = v1::OP_INSERT) {
  v1::ChangeEvent e;
  e.set_op(op);
  e.mutable_source()->set_name("src");
  e.mutable_source()->set_kind(v1::SOURCE_KIND_MYSQL);
  e.mutable_source()->set_database("db");
  e.mutable_source()->set_table(table);
  e.mutable_source()->set_commit_ts_micros(commit_ts);
  e.add_key_columns("id");
  auto* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(id);
  return e;
}

inline v1::SourceCheckpoint MakeCheckpoint(const std::string& text) {
  v1::SourceCheckpoint c;
  c.set_position_text(text);
  return c;
}

}  // namespace sluice::storage::testing
