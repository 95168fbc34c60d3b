// FileNameFor: the one way a name (a workflow id, a step, a map step's instance) becomes the
// name of a file or folder.
//
// Step logs go to `<log directory>/<FileNameFor(workflow id)>/<FileNameFor(step)>.<attempt>.log`
// (`<FileNameFor(step)>~<visit>.<attempt>.log` for a visit past a step's first), and a shell step's files sit beside its log, one per dependency named
// `FileNameFor(dependency)`. Whatever the name, the result is one safe path component, so that
// a workflow's files stay inside its own folder:
//   - it is never empty, "." or "..", and holds no '/' and no NUL: every byte outside
//     [A-Za-z0-9_-], and a '.' that would come first, is percent-encoded ("%2F");
//   - it is at most kMaxFileNameBytes long: a longer encoding keeps its beginning and ends
//     with '~' and 16 hex digits of a hash of the whole name, so that it leaves room for the
//     suffixes the engine and shell steps add (".12.log", ".pid.tmp") within the 255 bytes a
//     file name may have;
//   - distinct names give distinct file names ('%' and '~' are always encoded in the names
//     themselves; two shortened names differ unless their 64-bit hashes collide).
//
//   FileNameFor("fetch-data")  // "fetch-data"
//   FileNameFor("odd name/x")  // "odd%20name%2Fx"
//   FileNameFor("..")          // "%2E."
//   FileNameFor("")            // "%"
//
// The mapping never changes between versions: a resumed workflow's files go where its first
// run put them. Thread-safe.
#ifndef CHORUS_WORKFLOW_FILE_NAME_H_
#define CHORUS_WORKFLOW_FILE_NAME_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace chorus {

inline constexpr size_t kMaxFileNameBytes = 128;

std::string FileNameFor(absl::string_view name);

}  // namespace chorus

#endif  // CHORUS_WORKFLOW_FILE_NAME_H_
