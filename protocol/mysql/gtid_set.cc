#include "protocol/mysql/gtid_set.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::mysql {
namespace {

constexpr size_t kUuidTextLength = 36;
constexpr const char* kExpectedForm = "expected e.g. 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7";
// Tagged encoding marker: the format byte (1) in the lowest and the highest byte of n_sids.
constexpr uint64_t kTaggedFormat = 1;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsTagStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsTagChar(char c) { return IsTagStart(c) || IsDigit(c); }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The lowercase tag, or InvalidArgument. Empty means untagged and is valid.
absl::StatusOr<std::string> NormalizeTag(std::string_view tag) {
  std::string out;
  out.reserve(tag.size());
  for (char c : tag) out.push_back(Lower(c));
  if (tag.empty()) return out;
  bool valid = tag.size() <= GtidSet::kMaxTagLength && IsTagStart(tag[0]) &&
               std::all_of(tag.begin(), tag.end(), IsTagChar);
  if (!valid) {
    return absl::InvalidArgumentError(
        absl::StrCat("GTID tag '", std::string(tag), "' is not valid: a tag is 1 to ",
                     GtidSet::kMaxTagLength, " letters, digits or '_', not starting with a digit"));
  }
  return out;
}

void PutLe(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Recursive-descent parser over the grammar in gtid_set.h.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<GtidSet> Run() {
    GtidSet set;
    while (true) {
      SkipSpace();
      if (AtEnd()) return set;
      if (Eat(',')) continue;  // an empty element
      if (absl::Status st = UuidSet(set); !st.ok()) return st;
      SkipSpace();
      if (AtEnd()) return set;
      if (!Eat(',')) return Error("expected ',' or ':'");
    }
  }

 private:
  absl::Status UuidSet(GtidSet& set) {
    size_t at = pos_;
    absl::StatusOr<Uuid> uuid = ParseUuid(text_.substr(pos_, kUuidTextLength));
    if (!uuid.ok()) return Error("expected a uuid (8-4-4-4-12 hex digits)");
    pos_ += kUuidTextLength;
    SkipSpace();
    if (!Eat(':')) return Error("expected ':' and an interval after the uuid");
    std::string tag;
    bool need_interval = true;  // after the uuid or a tag
    while (true) {
      SkipSpace();
      if (!AtEnd() && IsDigit(Peek())) {
        size_t iv_at = pos_;
        absl::StatusOr<int64_t> first = Gno();
        if (!first.ok()) return first.status();
        int64_t last = *first;
        SkipSpace();
        if (Eat('-')) {
          SkipSpace();
          absl::StatusOr<int64_t> l = Gno();
          if (!l.ok()) return l.status();
          last = *l;
        }
        if (last < *first) {
          pos_ = iv_at;
          return Error(absl::StrCat("interval ", *first, "-", last, " ends before it starts"));
        }
        if (absl::Status st = set.AddRange(*uuid, tag, *first, last); !st.ok()) {
          pos_ = iv_at;
          return Error(std::string(st.message()));
        }
        need_interval = false;
      } else if (!AtEnd() && IsTagStart(Peek())) {
        if (need_interval && !tag.empty())
          return Error(absl::StrCat("tag '", tag, "' has no interval"));
        size_t tag_at = pos_;
        while (!AtEnd() && IsTagChar(Peek())) ++pos_;
        absl::StatusOr<std::string> t = NormalizeTag(text_.substr(tag_at, pos_ - tag_at));
        if (!t.ok()) {
          pos_ = tag_at;
          return Error(std::string(t.status().message()));
        }
        tag = *std::move(t);
        need_interval = true;
      } else {
        return Error("expected an interval or a tag");
      }
      SkipSpace();
      if (!Eat(':')) break;
    }
    if (need_interval) {
      if (!tag.empty()) return Error(absl::StrCat("tag '", tag, "' has no interval"));
      pos_ = at;
      return Error("the uuid has no interval");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Gno() {
    size_t at = pos_;
    uint64_t v = 0;
    while (!AtEnd() && IsDigit(Peek())) {
      v = v * 10 + static_cast<uint64_t>(Peek() - '0');
      ++pos_;
      if (v > static_cast<uint64_t>(GtidSet::kMaxGno)) {
        pos_ = at;
        return Error(absl::StrCat("a GNO exceeds the maximum ", GtidSet::kMaxGno));
      }
    }
    if (pos_ == at) return Error("expected a number");
    if (v == 0) {
      pos_ = at;
      return Error("GNO 0 is not valid (GTIDs start at 1)");
    }
    return static_cast<int64_t>(v);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }
  bool Eat(char c) {
    if (AtEnd() || Peek() != c) return false;
    ++pos_;
    return true;
  }
  absl::Status Error(std::string_view what) const {
    std::string shown(text_.substr(0, 200));
    if (text_.size() > 200) shown += "...";
    return absl::InvalidArgumentError(absl::StrCat("GTID set '", shown, "': ", std::string(what),
                                                   " at offset ", pos_, "; ", kExpectedForm));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Uuid> ParseUuid(std::string_view text) {
  Uuid u{};
  bool ok = text.size() == kUuidTextLength;
  size_t byte = 0;
  for (size_t i = 0; ok && i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok = text[i] == '-';
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    int lo = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    ok = hi >= 0 && lo >= 0 && byte < u.size();
    if (ok) u[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (!ok || byte != u.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not a uuid (expected 8-4-4-4-12 hex digits)"));
  }
  return u;
}

absl::StatusOr<GtidSet> GtidSet::Parse(std::string_view text) { return Parser(text).Run(); }

absl::StatusOr<GtidSet> GtidSet::FromPreviousGtids(const PreviousGtids& previous) {
  GtidSet set;
  for (const GtidSetEntry& e : previous.entries) {
    absl::StatusOr<std::string> tag = NormalizeTag(e.tag);
    if (!tag.ok()) return tag.status();
    for (const GtidInterval& iv : e.intervals) {
      if (iv.start < 1 || iv.end <= iv.start) {
        return absl::InvalidArgumentError(absl::StrCat("PREVIOUS_GTIDS: interval [", iv.start, ", ",
                                                       iv.end, ") of ", UuidToString(e.sid),
                                                       " is empty or starts below 1"));
      }
      set.AddInterval(Key{e.sid, *tag}, Interval{iv.start, iv.end});
    }
  }
  return set;
}

absl::Status GtidSet::Add(const Uuid& uuid, std::string_view tag, int64_t gno) {
  return AddRange(uuid, tag, gno, gno);
}

absl::Status GtidSet::AddRange(const Uuid& uuid, std::string_view tag, int64_t first,
                               int64_t last) {
  absl::StatusOr<std::string> t = NormalizeTag(tag);
  if (!t.ok()) return t.status();
  if (first < 1 || last > kMaxGno || first > last) {
    return absl::InvalidArgumentError(absl::StrCat("GTID range ", first, "-", last,
                                                   " is not within 1-", kMaxGno, " or is empty"));
  }
  AddInterval(Key{uuid, *std::move(t)}, Interval{first, last + 1});
  return absl::OkStatus();
}

void GtidSet::AddInterval(const Key& key, Interval iv) {
  std::vector<Interval>& v = entries_[key];
  // The first interval that ends at or after iv.start can touch it; merge every one that starts
  // at or before iv.end. Appending the next GNO, the common case, touches only the last one.
  auto it = std::lower_bound(v.begin(), v.end(), iv.start,
                             [](const Interval& a, int64_t start) { return a.end < start; });
  auto jt = it;
  while (jt != v.end() && jt->start <= iv.end) {
    iv.start = std::min(iv.start, jt->start);
    iv.end = std::max(iv.end, jt->end);
    ++jt;
  }
  it = v.erase(it, jt);
  v.insert(it, iv);
}

void GtidSet::AddAll(const GtidSet& other) {
  for (const auto& [key, intervals] : other.entries_) {
    for (const Interval& iv : intervals) AddInterval(key, iv);
  }
}

bool GtidSet::Contains(const Uuid& uuid, std::string_view tag, int64_t gno) const {
  std::string lower;
  for (char c : tag) lower.push_back(Lower(c));
  auto e = entries_.find(Key{uuid, lower});
  if (e == entries_.end()) return false;
  const std::vector<Interval>& v = e->second;
  auto it = std::upper_bound(v.begin(), v.end(), gno,
                             [](int64_t g, const Interval& a) { return g < a.start; });
  if (it == v.begin()) return false;
  --it;
  return gno < it->end;
}

bool GtidSet::ContainsAll(const GtidSet& other) const {
  for (const auto& [key, intervals] : other.entries_) {
    auto e = entries_.find(key);
    if (e == entries_.end()) return false;
    const std::vector<Interval>& v = e->second;
    for (const Interval& iv : intervals) {
      auto it = std::upper_bound(v.begin(), v.end(), iv.start,
                                 [](int64_t g, const Interval& a) { return g < a.start; });
      if (it == v.begin()) return false;
      --it;
      if (iv.end > it->end) return false;
    }
  }
  return true;
}

bool GtidSet::has_tags() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const auto& e) { return !e.first.tag.empty(); });
}

std::string GtidSet::ToString() const {
  std::string out;
  const Uuid* current = nullptr;
  for (const auto& [key, intervals] : entries_) {
    if (current == nullptr || *current != key.uuid) {
      if (current != nullptr) out.push_back(',');
      out += UuidToString(key.uuid);
      current = &key.uuid;
    }
    if (!key.tag.empty()) absl::StrAppend(&out, ":", key.tag);
    for (const Interval& iv : intervals) {
      if (iv.end - 1 == iv.start) {
        absl::StrAppend(&out, ":", iv.start);
      } else {
        absl::StrAppend(&out, ":", iv.start, "-", iv.end - 1);
      }
    }
  }
  return out;
}

std::string GtidSet::Encode() const {
  bool tagged = has_tags();
  uint64_t n = entries_.size();
  std::string out;
  PutLe(out, tagged ? (kTaggedFormat << 56) | (n << 8) | kTaggedFormat : n, 8);
  for (const auto& [key, intervals] : entries_) {
    out.append(reinterpret_cast<const char*>(key.uuid.data()), key.uuid.size());
    if (tagged) {
      // MySQL's serialization varlen integer: one byte, value << 1, for lengths below 128.
      out.push_back(static_cast<char>(key.tag.size() << 1));
      out += key.tag;
    }
    PutLe(out, intervals.size(), 8);
    for (const Interval& iv : intervals) {
      PutLe(out, static_cast<uint64_t>(iv.start), 8);
      PutLe(out, static_cast<uint64_t>(iv.end), 8);
    }
  }
  return out;
}

}  // namespace sluice::mysql
