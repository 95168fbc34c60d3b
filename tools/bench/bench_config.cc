#include "tools/bench/bench_config.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "event/internal/status_macros.h"

namespace chorus::bench {

absl::StatusOr<std::string> BenchConfig::FreshDatabase(absl::string_view file) const {
  const std::string path = absl::StrCat(dir, "/", file);
  CHORUS_RETURN_IF_ERROR(RemoveDatabase(path));
  return path;
}

absl::Status RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    std::filesystem::remove(path + suffix, error);
    if (error) {
      return absl::InternalError(absl::StrCat("removing ", path, suffix, ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace chorus::bench
