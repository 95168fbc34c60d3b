#include "tools/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace chorus {
namespace {

// "1 GiB", "64 MiB", or "1000 bytes" for a limit that is no whole number of either.
std::string SizeText(size_t bytes) {
  constexpr size_t kMiB = size_t{1} << 20, kGiB = size_t{1} << 30;
  if (bytes >= kGiB && bytes % kGiB == 0) return absl::StrCat(bytes / kGiB, " GiB");
  if (bytes >= kMiB && bytes % kMiB == 0) return absl::StrCat(bytes / kMiB, " MiB");
  return absl::StrCat(bytes, " bytes");
}

}  // namespace

absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes,
                                         absl::string_view what) {
  const std::string where = absl::StrCat(what, " ", path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", where));
  const absl::Cleanup closer = [fd] { close(fd); };
  const auto too_large = [&] {
    return absl::ResourceExhaustedError(absl::StrCat("cannot read ", where, ": it holds more than ",
                                                     SizeText(max_bytes), ", the limit"));
  };
  struct stat status;
  if (fstat(fd, &status) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", where));
  }
  if (S_ISDIR(status.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", where, ": it is a directory"));
  }
  std::string text;
  if (S_ISREG(status.st_mode)) {
    if (static_cast<size_t>(status.st_size) > max_bytes) return too_large();
    text.reserve(status.st_size);
  }
  // Devices, FIFOs and files that grow while they are read: refused at the first chunk that
  // would take the text past the limit.
  char chunk[1 << 16];
  while (true) {
    const ssize_t size = read(fd, chunk, sizeof(chunk));
    if (size == 0) return text;
    if (size < 0 && errno == EINTR) continue;
    if (size < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", where));
    if (text.size() + size > max_bytes) return too_large();
    text.append(chunk, size);
  }
}

}  // namespace chorus
