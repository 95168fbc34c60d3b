// The bodies of the fuzz targets: what each libFuzzer program (tests/fuzz/*_fuzzer.cc) does
// with one input, and what the regression test (tests/fuzz/fuzz_regression_test.cc) replays
// every committed input through.
//
// Each takes arbitrary bytes, feeds them to a reader of untrusted input the way Chorus does,
// and checks properties of what comes out. A sanitizer report or a crash is a bug; so is a
// broken property, which the target returns as an Internal error saying what broke.
#ifndef CHORUS_TESTS_FUZZ_FUZZ_TARGETS_H_
#define CHORUS_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace chorus {

// `data` as a definition file (text format or DOT, as GuessDefinitionFormat decides), parsed
// by ParseDefinition and checked by ValidateDefinition as `chorus run` does. A refusal must be
// InvalidArgument naming the file; an accepted definition must fingerprint the same twice,
// show no change against itself, and render as DOT.
absl::Status FuzzDefinition(absl::string_view data);

// `data` as events: records of a 2-byte little-endian length and that many bytes, each parsed
// as an Event and, if it parses, applied to one History in turn (a record cut short by the
// end of `data` takes what is left). Each rejection must be DataLoss naming the seq and leave
// the state unchanged; each acceptance must advance the state to the event's seq. The
// accepted history must render as a DAG and restore the same from its snapshot, and every
// parsed event render as a timeline (as `chorus timeline` draws whatever a database holds). A
// record's workflow_started outline (event/started_outline.h), if it has one, must name the
// seq, steps and map steps its parse gives.
absl::Status FuzzEventFold(absl::string_view data);

// `data` as a `chorus import` file, read by ParseExport and CheckImportable
// (tools/export_file.h) as `chorus import` does. A refusal must be InvalidArgument,
// DataLoss or ResourceExhausted, and name the file; every event of an accepted history must
// come back unchanged through ExportLine and ParseExport, and parse again from the bytes a
// store would keep.
absl::Status FuzzImport(absl::string_view data);

// The body of LLVMFuzzerTestOneInput for `target`: a broken property is reported on stderr and
// aborts, so that libFuzzer keeps the input as a crash.
inline int RunFuzzTarget(absl::Status (*target)(absl::string_view), const uint8_t* data,
                         size_t size) {
  const absl::Status status = target(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::abort();
}

}  // namespace chorus

#endif  // CHORUS_TESTS_FUZZ_FUZZ_TARGETS_H_
