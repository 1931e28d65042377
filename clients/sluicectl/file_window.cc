#include "clients/sluicectl/file_window.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::cli {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// The capacity Allocate gives a buffer of `n` bytes.
size_t CapacityFor(size_t n) {
  return n >= kHugePage ? (n + kHugePage - 1) / kHugePage * kHugePage : n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          message, "; check the path (SHOW BINARY LOGS names the files, in @@datadir)"));
    }
    if (err == EACCES) {
      return absl::PermissionDeniedError(
          absl::StrCat(message, "; run as a user that may read the server's binlogs"));
    }
    return absl::FailedPreconditionError(message);
  }
  auto file = std::unique_ptr<InputFile>(new InputFile());
  file->fd_ = fd;
  file->path_ = path;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " is not a regular file; binlog decode reads binlog files (save a "
                     "stream to a file first)"));
  }
  file->size_ = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return file;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

FileWindow::FileWindow(const InputFile& file, size_t window)
    : file_(file), window_(std::max<size_t>(window, 1)) {}

FileWindow::~FileWindow() { Release(); }

void FileWindow::Release() {
  if (data_ != nullptr) {
    if (mapped_) {
      ::munmap(data_, capacity_);
    } else {
      delete[] data_;
    }
  }
  data_ = nullptr;
  capacity_ = 0;
  mapped_ = false;
  begin_ = end_ = 0;
}

// A buffer of at least `capacity` bytes. From one huge page on it is an anonymous mapping in
// whole huge pages, advised to use them (fewer page-table entries to touch: see the header).
void FileWindow::Allocate(size_t capacity) {
  Release();
  if (capacity >= kHugePage) {
    const size_t rounded = CapacityFor(capacity);
    void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without it the buffer works the same
      data_ = static_cast<char*>(p);
      capacity_ = rounded;
      mapped_ = true;
      return;
    }
  }
  data_ = new char[capacity];
  capacity_ = capacity;
}

bool FileWindow::TakeIfHeldBy(FileWindow& other, uint64_t pos, size_t n) {
  const uint64_t size = file_.size();
  if (pos >= size || &other.file_ != &file_) return false;
  n = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
  if (Holds(pos, n) || !other.Holds(pos, n)) return false;
  std::swap(data_, other.data_);
  std::swap(capacity_, other.capacity_);
  std::swap(mapped_, other.mapped_);
  std::swap(begin_, other.begin_);
  std::swap(end_, other.end_);
  return true;
}

absl::StatusOr<std::span<const std::byte>> FileWindow::Read(uint64_t pos, size_t n) {
  const uint64_t size = file_.size();
  if (pos >= size) return std::span<const std::byte>();
  n = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
  if (!Holds(pos, n)) {
    // Refill from pos: a window's worth (what is left of the file at most), or the n bytes.
    const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(window_, n), size - pos));
    if (want > capacity_) Allocate(std::max(want, std::min<size_t>(window_, size)));
    size_t got = 0;
    while (got < want) {
      const ssize_t r = ::pread(file_.fd(), data_ + got, want - got, static_cast<off_t>(pos + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        begin_ = end_ = 0;
        return absl::DataLossError(absl::StrCat(
            "cannot read ", file_.path(), " at offset ", pos + got, ": ",
            r < 0 ? std::strerror(errno)
                  : absl::StrCat("the file ends there, it had ", size, " bytes when opened")));
      }
      got += static_cast<size_t>(r);
    }
    begin_ = pos;
    end_ = pos + got;
    ++refills_;
  }
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(data_ + (pos - begin_)), n);
}

ReadAhead::ReadAhead(const InputFile& file, size_t window, size_t bound)
    : file_(file),
      window_(std::max<size_t>(window, 1)),
      max_kept_(std::max<size_t>(bound / window_, 1)),
      scratch_(file, window_) {}

std::unique_ptr<FileWindow> ReadAhead::NewWindow() {
  if (spare_.empty()) return std::make_unique<FileWindow>(file_, window_);
  std::unique_ptr<FileWindow> w = std::move(spare_.back());
  spare_.pop_back();
  return w;
}

// A buffer grown past the window (for an event larger than it) is freed, not kept.
void ReadAhead::Recycle(std::unique_ptr<FileWindow> w) {
  if (w->capacity() <= CapacityFor(window_)) {
    spare_.push_back(std::move(w));
  } else {
    retired_refills_ += w->refills();
  }
}

uint64_t ReadAhead::refills() const {
  uint64_t n = retired_refills_ + scratch_.refills();
  for (const auto& w : kept_) n += w->refills();
  for (const auto& w : spare_) n += w->refills();
  return n;
}

bool ReadAhead::Holds(uint64_t pos, size_t n) const {
  const uint64_t size = file_.size();
  if (pos >= size) return false;
  n = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
  for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) {
    if ((*it)->Holds(pos, n)) return true;
  }
  return scratch_.Holds(pos, n);
}

absl::StatusOr<std::span<const std::byte>> ReadAhead::Read(uint64_t pos, size_t n) {
  const uint64_t size = file_.size();
  if (pos >= size) return std::span<const std::byte>();
  n = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
  // Reads go forward: the newest window is the likeliest to hold them.
  for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) {
    if ((*it)->Holds(pos, n)) return (*it)->Read(pos, n);
  }
  if (scratch_.Holds(pos, n) || kept_.size() >= max_kept_) return scratch_.Read(pos, n);
  std::unique_ptr<FileWindow> w = NewWindow();
  auto read = w->Read(pos, n);
  if (!read.ok()) {
    Recycle(std::move(w));
    return read.status();
  }
  kept_.push_back(std::move(w));
  most_kept_ = std::max(most_kept_, kept_.size());
  return read;
}

bool ReadAhead::Give(FileWindow& events, uint64_t pos, size_t n) {
  while (!kept_.empty() && kept_.front()->end() <= pos) {
    Recycle(std::move(kept_.front()));
    kept_.pop_front();
  }
  const uint64_t size = file_.size();
  if (pos >= size) return false;
  n = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
  if (events.Holds(pos, n)) return false;
  for (size_t i = 0; i < kept_.size(); ++i) {
    if (!kept_[i]->Holds(pos, n)) continue;
    events.TakeIfHeldBy(*kept_[i], pos, n);
    // The windows before it hold nothing past what it held; it now holds the event window's old
    // bytes. All are reused.
    for (size_t j = 0; j <= i; ++j) {
      Recycle(std::move(kept_.front()));
      kept_.pop_front();
    }
    return true;
  }
  return events.TakeIfHeldBy(scratch_, pos, n);
}

}  // namespace sluice::cli
