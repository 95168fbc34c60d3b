// Reading the whole of a file that a user names (a definition, an input, an export), up to a
// limit: a device such as /dev/zero, a FIFO or a huge file is an error, never an allocation
// that fails. A FIFO or a pipe (`chorus run <(make_definition)`) is read as it is written.
//
//   CHORUS_ASSIGN_OR_RETURN(std::string text,
//                           ReadFileUpTo(path, 64 << 20, "definition file"));
//
// Thread-safe.
#ifndef CHORUS_TOOLS_READ_FILE_H_
#define CHORUS_TOOLS_READ_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chorus {

// The contents of the file at `path`, which may hold at most `max_bytes`. `what` names the file
// in errors ("input file"). Returns:
//   NotFound, PermissionDenied, ...  it cannot be opened: the code of the system's error;
//   FailedPrecondition               it is a directory;
//   ResourceExhausted                it holds more than `max_bytes` (a regular file is refused
//                                    by its size, without reading it);
//   the code of the system's error   reading it failed.
// Each message names `what` and `path`, e.g. "cannot read input file x: it is a directory".
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes,
                                         absl::string_view what);

}  // namespace chorus

#endif  // CHORUS_TOOLS_READ_FILE_H_
