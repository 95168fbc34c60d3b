#include "tools/bench/bench_config.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace chorus::bench {

absl::StatusOr<std::string> BenchConfig::FreshDatabase(absl::string_view file) const {
  const std::string path = absl::StrCat(dir, "/", file);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    std::filesystem::remove(path + suffix, error);
    if (error) {
      return absl::InternalError(absl::StrCat("removing ", path, suffix, ": ", error.message()));
    }
  }
  return path;
}

}  // namespace chorus::bench
