#pragma once
// Reading a binlog file through a reused buffer, for `sluicectl binlog decode`.
//
// InputFile is the open file (read-only, its size taken when opened). A FileWindow reads it with
// pread(2) into one buffer of `window` bytes (2 MiB in `sluicectl`, transparent huge pages when
// the kernel gives them) and hands out views into that buffer: Read(pos, n) returns the file's
// bytes [pos, pos + n) and refills the buffer from `pos` only when they are not all in it
// already, so reading events one after the other costs one pread per window. An event larger
// than the window grows the buffer to hold it whole (the buffer then stays that size).
// ReadAhead (below) is the commit look-ahead's reads past the event window, kept up to a bound
// for the event window to take instead of reading them again.
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
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

  // Bytes of buffer allocated (0 before the first read; larger than the window after an event
  // larger than it).
  size_t capacity() const { return capacity_; }
  // The file's range in the buffer, [begin, end) (empty before the first read and after a failed
  // one).
  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }

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

// What the commit look-ahead reads ahead of the event window, kept for it: a FIFO of windows of
// `window` bytes, at most max(1, `bound` / `window`) of them (`sluicectl` keeps 64 MiB:
// kReadAheadBytes in binlog_decode.h). Read(pos, n) returns the file's bytes from a kept window
// that holds them, else reads a new window from pos and keeps it at the back; once `bound` is
// kept, further reads go through one scratch window that is overwritten (those bytes are then
// read again by the event window, as all of them were before). Give(events, pos, n) is called
// by the event window before each read: kept windows wholly before pos are dropped (their
// buffers reused), and when the front one (or the scratch window) holds [pos, pos + n) and the
// event window does not, they trade buffers (FileWindow::TakeIfHeldBy), so those bytes are read
// from the file once. Memory: at most max(1, bound / window) + 1 buffers of `window` bytes (a
// buffer grown for an event larger than the window is not kept for reuse).
//
// Views returned by Read are valid until the next Read or Give. Not thread-safe.
class ReadAhead {
 public:
  ReadAhead(const InputFile& file, size_t window, size_t bound);

  absl::StatusOr<std::span<const std::byte>> Read(uint64_t pos, size_t n);
  // True when a kept window or the scratch window holds [pos, pos + n).
  bool Holds(uint64_t pos, size_t n) const;
  // See above; true when `events` took a buffer.
  bool Give(FileWindow& events, uint64_t pos, size_t n);

  // Windows kept now, and the most kept at once (for tests).
  size_t kept() const { return kept_.size(); }
  size_t most_kept() const { return most_kept_; }
  // Reads of the file by the look-ahead's windows (kept and scratch; for tests).
  uint64_t refills() const;

 private:
  std::unique_ptr<FileWindow> NewWindow();
  void Recycle(std::unique_ptr<FileWindow> w);

  const InputFile& file_;
  size_t window_;
  size_t max_kept_;
  std::deque<std::unique_ptr<FileWindow>> kept_;  // in file order, front first
  std::vector<std::unique_ptr<FileWindow>> spare_;
  FileWindow scratch_;
  size_t most_kept_ = 0;
  uint64_t retired_refills_ = 0;  // refills of windows no longer owned
};

}  // namespace sluice::cli
