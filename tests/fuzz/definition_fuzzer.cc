// libFuzzer program: definition files (text format and DOT); see FuzzDefinition in
// tests/fuzz/fuzz_targets.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return chorus::RunFuzzTarget(chorus::FuzzDefinition, data, size);
}
