// AdviseHugePages: asks the kernel to back a large, not yet touched allocation with
// transparent huge pages, where it has them enabled (`always` or `madvise`).
//
//   std::vector<StepState> steps;
//   steps.reserve(n);
//   AdviseHugePages(steps.data(), n * sizeof(StepState));
//   steps.resize(n);  // faults the memory in 2 MiB at a time rather than 4 KiB
//
// A long history's fold lays out tens of megabytes of steps at once; faulting them in 4 KiB
// pages had taken about a fifth of laying them out. Only advice: where it is refused nothing
// changes. Only the 2 MiB-aligned stretches inside the range can use huge pages.
#ifndef CHORUS_EVENT_INTERNAL_HUGE_PAGES_H_
#define CHORUS_EVENT_INTERNAL_HUGE_PAGES_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace chorus {

// The size of a transparent huge page on x86-64, and on arm64 with 4 KiB pages.
inline constexpr size_t kHugePageBytes = 2 << 20;

inline void AdviseHugePages(const void* data, size_t bytes) {
  if (bytes < kHugePageBytes) return;
  static const uintptr_t kPage = sysconf(_SC_PAGESIZE);
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kPage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace chorus

#endif  // CHORUS_EVENT_INTERNAL_HUGE_PAGES_H_
