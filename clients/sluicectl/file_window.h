#pragma once
// Reading a binlog file through a reused buffer, for `sluicectl binlog decode`.
//
// InputFile is the open file (read-only, its size taken when opened). A FileWindow reads it with
// pread(2) into one buffer of `window` bytes (2 MiB in `sluicectl`, transparent huge pages when
// the kernel gives them) and hands out views into that buffer: Read(pos, n) returns the file's
// bytes [pos, pos + n) and refills the buffer from `pos` only when they are not all in it
// already, so reading events one after the other costs one pread per window. An event larger
// than the window grows the buffer to hold it whole (the buffer then stays that size).
//
// Why not mmap: in this project's VMs the first access to each page of a mapped file costs
// ~2.4 µs (60 ms per 107 MB) even with the pages mapped ahead, while pread copies the same bytes
// into a buffer that stays mapped (and in cache) in ~22 ms (docs/benchmarks.md, "MySQL binlog
// decode").
//
// Errors (absl::Status naming the path): NotFound / PermissionDenied / FailedPrecondition from
// Open; DataLoss from Read when the file cannot be read or is shorter than when it was opened.
// Not thread-safe; thread-compatible.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::cli {

class InputFile {
 public:
  // Opens a regular file for reading.
  static absl::StatusOr<std::unique_ptr<InputFile>> Open(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  InputFile() = default;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

class FileWindow {
 public:
  // Reads `file` (which must outlive the window) through a buffer of `window` bytes, allocated
  // at the first read (no more than the file needs).
  FileWindow(const InputFile& file, size_t window);
  ~FileWindow();
  FileWindow(const FileWindow&) = delete;
  FileWindow& operator=(const FileWindow&) = delete;

  // The file's bytes [pos, pos + n), clipped to the end of the file: min(n, size - pos) bytes
  // (none for pos >= size). Valid until the next Read. DataLoss if they cannot be read.
  absl::StatusOr<std::span<const std::byte>> Read(uint64_t pos, size_t n);

  // True when [pos, pos + n) is in the buffer (Read would not read the file).
  bool Holds(uint64_t pos, size_t n) const {
    return pos >= begin_ && pos <= end_ && n <= end_ - pos;
  }
  // How many times the file was read (refills; for tests).
  uint64_t refills() const { return refills_; }

  // When this window does not hold [pos, pos + n) and `other` (a window on the same file) does,
  // the two trade buffers (each keeps the other's bytes and range, and its own window size and
  // refill count) and true is returned: a Read(pos, n) then needs no refill. Views handed out by
  // either window before are invalid after a trade. The commit look-ahead reads ahead through a
  // second window; the event window takes its buffer instead of reading those bytes again.
  bool TakeIfHeldBy(FileWindow& other, uint64_t pos, size_t n);

 private:
  void Allocate(size_t capacity);
  void Release();

  const InputFile& file_;
  size_t window_;
  char* data_ = nullptr;
  size_t capacity_ = 0;
  bool mapped_ = false;  // data_ is an anonymous mapping (else new[])
  uint64_t begin_ = 0;   // the buffer holds the file's [begin_, end_)
  uint64_t end_ = 0;
  uint64_t refills_ = 0;
};

}  // namespace sluice::cli
