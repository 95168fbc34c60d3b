// libFuzzer program: `chorus import` files (JSON lines); see FuzzImport in
// tests/fuzz/fuzz_targets.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return chorus::RunFuzzTarget(chorus::FuzzImport, data, size);
}
