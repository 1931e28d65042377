#include "tests/fuzz/json_check.h"

#include <cstdint>

#include "proto/base/utf8.h"

namespace sluice::fuzz {
namespace {

// Decodes one UTF-8 sequence at s[pos]; returns its length, or 0 if it is ill-formed.
size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t& code_point) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[pos + i]); };
  const uint8_t lead = byte(0);
  size_t len;
  uint32_t min;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() - pos < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  if (code_point < min || code_point > 0x10FFFF) return 0;
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  return len;
}

// Recursive descent; the depth is bounded by max_depth, so the recursion is too.
class Parser {
 public:
  Parser(std::string_view in, size_t max_depth, std::string* out)
      : in_(in), max_depth_(max_depth), out_(out) {}

  bool Text() {
    Whitespace();
    if (!Value(0)) return false;
    Whitespace();
    return pos_ == in_.size();
  }

  // A string literal at pos_, its value appended to `value` (may be null).
  bool String(std::string* value) {
    const size_t start = pos_;
    if (Peek() != '"') return false;
    ++pos_;
    for (;;) {
      const int c = Peek();
      if (c < 0) return false;
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c == '\\') {
        ++pos_;
        uint32_t cp = 0;
        switch (Peek()) {
          case '"':
            cp = '"';
            break;
          case '\\':
            cp = '\\';
            break;
          case '/':
            cp = '/';
            break;
          case 'b':
            cp = '\b';
            break;
          case 'f':
            cp = '\f';
            break;
          case 'n':
            cp = '\n';
            break;
          case 'r':
            cp = '\r';
            break;
          case 't':
            cp = '\t';
            break;
          case 'u': {
            if (!Hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low = 0;
              if (Peek() != '\\') return false;
              ++pos_;
              if (Peek() != 'u' || !Hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) return false;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            if (value != nullptr) AppendUtf8(cp, *value);
            continue;  // Hex4 consumed everything
          }
          default:
            return false;
        }
        ++pos_;
        if (value != nullptr) value->push_back(static_cast<char>(cp));
        continue;
      }
      uint32_t cp = 0;
      const size_t len = DecodeUtf8(in_, pos_, cp);
      if (len == 0) return false;
      if (value != nullptr) value->append(in_.substr(pos_, len));
      pos_ += len;
    }
    ++pos_;
    Emit(start);
    return true;
  }

  size_t pos() const { return pos_; }

 private:
  int Peek() const { return pos_ < in_.size() ? static_cast<uint8_t>(in_[pos_]) : -1; }

  void Emit(size_t start) {
    if (out_ != nullptr) out_->append(in_.substr(start, pos_ - start));
  }

  void Whitespace() {
    while (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r') ++pos_;
  }

  // "uXXXX" at pos_ -> cp.
  bool Hex4(uint32_t& cp) {
    if (Peek() != 'u') return false;
    ++pos_;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int c = Peek();
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return false;
      }
      cp = cp * 16 + static_cast<uint32_t>(digit);
      ++pos_;
    }
    return true;
  }

  bool Digits() {
    const size_t start = pos_;
    while (Peek() >= '0' && Peek() <= '9') ++pos_;
    return pos_ > start;
  }

  bool Number() {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (Peek() >= '1' && Peek() <= '9') {
      Digits();
    } else {
      return false;
    }
    if (Peek() == '.') {
      ++pos_;
      if (!Digits()) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!Digits()) return false;
    }
    Emit(start);
    return true;
  }

  bool Word(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    const size_t start = pos_;
    pos_ += word.size();
    Emit(start);
    return true;
  }

  // Array or object; `depth` counts the containers enclosing this one.
  bool Container(size_t depth) {
    if (depth + 1 > max_depth_) return false;
    const bool object = Peek() == '{';
    const char close = object ? '}' : ']';
    Emit1(object ? '{' : '[');
    ++pos_;
    Whitespace();
    if (Peek() == close) {
      Emit1(close);
      ++pos_;
      return true;
    }
    for (;;) {
      if (object) {
        if (!String(nullptr)) return false;
        Whitespace();
        if (Peek() != ':') return false;
        Emit1(':');
        ++pos_;
        Whitespace();
      }
      if (!Value(depth + 1)) return false;
      Whitespace();
      if (Peek() == ',') {
        Emit1(',');
        ++pos_;
        Whitespace();
        continue;
      }
      if (Peek() != close) return false;
      Emit1(close);
      ++pos_;
      return true;
    }
  }

  void Emit1(char c) {
    if (out_ != nullptr) out_->push_back(c);
  }

  bool Value(size_t depth) {
    switch (Peek()) {
      case '{':
      case '[':
        return Container(depth);
      case '"':
        return String(nullptr);
      case 't':
        return Word("true");
      case 'f':
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return Number();
    }
  }

  std::string_view in_;
  size_t max_depth_;
  std::string* out_;
  size_t pos_ = 0;
};

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(s, pos, cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

bool CheckJson(std::string_view text, size_t max_depth, std::string* minified) {
  std::string out;
  if (!Parser(text, max_depth, minified != nullptr ? &out : nullptr).Text()) return false;
  if (minified != nullptr) minified->append(out);
  return true;
}

std::optional<std::string> DecodeJsonString(std::string_view literal) {
  std::string value;
  Parser parser(literal, 0, nullptr);
  if (!parser.String(&value) || parser.pos() != literal.size()) return std::nullopt;
  return value;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t pad = !last ? 0 : text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int s = k < 4 - pad ? sextet(text[i + k]) : 0;
      if (s < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(s);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
    // Canonical: the bits under the padding are zero.
    if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0)) return std::nullopt;
  }
  return out;
}

}  // namespace sluice::fuzz
