#include "protocol/mysql/json_diff.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "proto/base/value_json.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using Leg = std::variant<std::string, uint64_t>;  // member key or array index

absl::Status BadPath(std::string_view path, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat("JSON diff path '", std::string(path), "': ", std::string(why)));
}

absl::StatusOr<std::vector<Leg>> ParsePath(std::string_view path) {
  std::vector<Leg> legs;
  if (path.empty() || path[0] != '$') return BadPath(path, "does not start with $");
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      std::string key;
      if (i < path.size() && path[i] == '"') {
        ++i;
        bool closed = false;
        while (i < path.size()) {
          char c = path[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < path.size()) c = path[i++];
          key.push_back(c);
        }
        if (!closed) return BadPath(path, "unterminated quoted key");
      } else {
        while (i < path.size() && path[i] != '.' && path[i] != '[') key.push_back(path[i++]);
        if (key.empty()) return BadPath(path, "empty key");
      }
      legs.emplace_back(std::move(key));
    } else if (path[i] == '[') {
      ++i;
      uint64_t index = 0;
      size_t digits = 0;
      while (i < path.size() && path[i] >= '0' && path[i] <= '9' && digits < 10) {
        index = index * 10 + static_cast<uint64_t>(path[i++] - '0');
        ++digits;
      }
      if (digits == 0 || i >= path.size() || path[i] != ']')
        return BadPath(path, "bad array index");
      ++i;
      legs.emplace_back(index);
    } else {
      return BadPath(path, absl::StrCat("unexpected character at ", i));
    }
  }
  return legs;
}

// MySQL keeps object keys ordered by length, then by bytes.
bool KeyLess(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

absl::StatusOr<std::vector<JsonDiff>> DecodeJsonDiffs(std::string_view data) {
  std::vector<JsonDiff> diffs;
  wire::ByteReader r(data);
  while (r.ok() && r.remaining() > 0) {
    size_t at = r.position();
    JsonDiff d;
    uint8_t op = r.ReadU8();
    if (r.ok() && op > 2) {
      return absl::DataLossError(
          absl::StrCat("JSON diff at offset ", at, ": operation ", op, ", expected 0..2"));
    }
    d.op = static_cast<JsonDiffOp>(op);
    d.path = std::string(r.ReadLenencString());
    if (d.op != JsonDiffOp::kRemove) d.value = std::string(r.ReadLenencString());
    if (!r.ok()) break;
    diffs.push_back(std::move(d));
  }
  if (!r.ok()) return r.status("JSON diff");
  return diffs;
}

absl::Status AppendJsonDiffsText(const std::vector<JsonDiff>& diffs, std::string& out) {
  out.push_back('[');
  for (size_t i = 0; i < diffs.size(); ++i) {
    const JsonDiff& d = diffs[i];
    if (i > 0) out.push_back(',');
    out += d.op == JsonDiffOp::kReplace  ? "{\"op\":\"replace\",\"path\":"
           : d.op == JsonDiffOp::kInsert ? "{\"op\":\"insert\",\"path\":"
                                         : "{\"op\":\"remove\",\"path\":";
    AppendJsonString(d.path, out);
    if (d.op != JsonDiffOp::kRemove) {
      out += ",\"value\":";
      absl::Status st = AppendJsonFromBinary(d.value, out);
      if (!st.ok()) return BadPath(d.path, std::string(st.message()));
    }
    out.push_back('}');
  }
  out.push_back(']');
  return absl::OkStatus();
}

absl::Status ApplyJsonDiffs(const std::vector<JsonDiff>& diffs, JsonDom& dom) {
  for (const JsonDiff& d : diffs) {
    auto legs = ParsePath(d.path);
    if (!legs.ok()) return legs.status();
    JsonDom value;
    if (d.op != JsonDiffOp::kRemove) {
      auto v = JsonDomFromBinary(d.value);
      if (!v.ok()) return BadPath(d.path, std::string(v.status().message()));
      value = *std::move(v);
    }
    if (legs->empty()) {
      if (d.op == JsonDiffOp::kRemove) return BadPath(d.path, "cannot remove the document root");
      dom = std::move(value);
      continue;
    }
    // Walk to the parent of the last leg.
    JsonDom* node = &dom;
    for (size_t i = 0; i + 1 < legs->size(); ++i) {
      const Leg& leg = (*legs)[i];
      JsonDom* next = nullptr;
      if (auto* key = std::get_if<std::string>(&leg)) {
        if (node->kind == JsonDom::Kind::kObject) {
          for (size_t k = 0; k < node->keys.size(); ++k)
            if (node->keys[k] == *key) next = &node->children[k];
        }
      } else {
        uint64_t index = std::get<uint64_t>(leg);
        if (node->kind == JsonDom::Kind::kArray && index < node->children.size())
          next = &node->children[index];
      }
      if (!next) return BadPath(d.path, "a leg before the last does not exist in the before image");
      node = next;
    }
    const Leg& last = legs->back();
    if (auto* key = std::get_if<std::string>(&last)) {
      if (node->kind != JsonDom::Kind::kObject)
        return BadPath(d.path, "the parent is not an object");
      size_t k = 0;
      while (k < node->keys.size() && node->keys[k] != *key) ++k;
      bool found = k < node->keys.size();
      if (d.op == JsonDiffOp::kRemove) {
        if (!found) return BadPath(d.path, "member to remove does not exist");
        node->keys.erase(node->keys.begin() + static_cast<ptrdiff_t>(k));
        node->children.erase(node->children.begin() + static_cast<ptrdiff_t>(k));
      } else if (found) {
        node->children[k] = std::move(value);
      } else if (d.op == JsonDiffOp::kReplace) {
        return BadPath(d.path, "member to replace does not exist");
      } else {
        size_t pos = 0;
        while (pos < node->keys.size() && KeyLess(node->keys[pos], *key)) ++pos;
        node->keys.insert(node->keys.begin() + static_cast<ptrdiff_t>(pos), *key);
        node->children.insert(node->children.begin() + static_cast<ptrdiff_t>(pos),
                              std::move(value));
      }
    } else {
      uint64_t index = std::get<uint64_t>(last);
      if (node->kind != JsonDom::Kind::kArray) return BadPath(d.path, "the parent is not an array");
      auto& elems = node->children;
      if (d.op == JsonDiffOp::kInsert) {
        size_t pos = index < elems.size() ? static_cast<size_t>(index) : elems.size();
        elems.insert(elems.begin() + static_cast<ptrdiff_t>(pos), std::move(value));
      } else if (index >= elems.size()) {
        return BadPath(d.path, "array index out of range");
      } else if (d.op == JsonDiffOp::kRemove) {
        elems.erase(elems.begin() + static_cast<ptrdiff_t>(index));
      } else {
        elems[index] = std::move(value);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::mysql
