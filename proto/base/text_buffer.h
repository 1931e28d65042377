#pragma once
// TextBuffer: a growable byte buffer for renderers that write through a raw pointer, so that a
// hot loop checks for room once per piece instead of once per byte (as std::string::push_back
// and append do):
//
//   char* p = out.Reserve(2 + 6 * s.size());   // room for at least that many bytes
//   p = PutJsonString(p, s);                    // writes at most that many
//   out.Commit(p);                              // they are now part of the text
//
// Reserve returns a pointer to the end of the text; writing past the reserved bytes is a bug.
// Any call that may grow the buffer (Reserve, Append, Push) invalidates earlier pointers into
// it; offsets stay valid. The storage keeps its capacity (Clear, Truncate, Consume never shrink
// it), so a reused buffer stops allocating once it has grown to its working size.
// Not thread-safe; thread-compatible. Header-only.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace sluice {

class TextBuffer {
 public:
  TextBuffer() = default;
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  // Room for `n` more bytes after the text; returns where they start.
  char* Reserve(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
    return data_.get() + size_;
  }
  // Ends the text at `end`, a pointer into the room the last Reserve returned.
  void Commit(char* end) { size_ = static_cast<size_t>(end - data_.get()); }

  void Append(std::string_view s) {
    char* p = Reserve(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    size_ += s.size();
  }
  void Push(char c) {
    char* p = Reserve(1);
    *p = c;
    ++size_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }

  void Clear() { size_ = 0; }
  // Keeps the first `size` bytes (size <= size()).
  void Truncate(size_t size) { size_ = size; }
  // Removes the first `n` bytes (n <= size()), moving the rest to the front.
  void Consume(size_t n) {
    if (n == 0) return;
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }
  // Removes `n` bytes at `at` (at + n <= size()), moving what follows them.
  void Erase(size_t at, size_t n) {
    std::memmove(data_.get() + at, data_.get() + at + n, size_ - at - n);
    size_ -= n;
  }

 private:
  [[gnu::noinline]] void Grow(size_t n) {
    const size_t capacity = std::max({size_ + n, capacity_ * 2, size_t{4096}});
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace sluice
