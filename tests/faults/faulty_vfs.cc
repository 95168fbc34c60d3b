#include "tests/faults/faulty_vfs.h"

#include <signal.h>
#include <unistd.h>

#include <cstddef>

namespace chorus {
namespace {

// A file opened through the FaultyVfs: the base VFS's file lives right after this header, in
// the space SQLite allocates (szOsFile).
struct FaultyFile {
  sqlite3_file file;  // first: SQLite sees a FaultyFile as a sqlite3_file
  FaultyVfs* vfs;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<FaultyFile*>(file)->real; }
FaultyVfs* Vfs(sqlite3_file* file) { return reinterpret_cast<FaultyFile*>(file)->vfs; }
FaultyVfs* Owner(sqlite3_vfs* vfs) { return static_cast<FaultyVfs*>(vfs->pAppData); }
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return Owner(vfs)->base(); }

// The base file starts at this offset in a FaultyFile's allocation, suitably aligned.
constexpr size_t kRealOffset = (sizeof(FaultyFile) + alignof(std::max_align_t) - 1) /
                               alignof(std::max_align_t) * alignof(std::max_align_t);

// A crash at this very moment: nothing after it runs, not even the exit hooks of a sanitizer.
[[noreturn]] void Die() {
  while (true) kill(getpid(), SIGKILL);
}

// The file methods: writes, truncations and syncs may fail; the rest pass straight through.
int Close(sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); }
int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), data, amount, offset);
}
int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  const int fault = Vfs(file)->BeforeWrite();
  if (fault != SQLITE_OK) return fault;
  return Real(file)->pMethods->xWrite(Real(file), data, amount, offset);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  const int fault = Vfs(file)->BeforeWrite();
  if (fault != SQLITE_OK) return fault == SQLITE_IOERR_WRITE ? SQLITE_IOERR_TRUNCATE : fault;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int Sync(sqlite3_file* file, int flags) {
  const int fault = Vfs(file)->BeforeSync();
  if (fault != SQLITE_OK) return fault;
  return Real(file)->pMethods->xSync(Real(file), flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* result) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), result);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** memory) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, memory);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** pages) {
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, pages);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

// Version 3: the shared-memory methods that WAL mode needs, and memory-mapped reads.
constexpr sqlite3_io_methods kFileMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

// The VFS methods: only xOpen differs from the base VFS's.
int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  FaultyFile* faulty = reinterpret_cast<FaultyFile*>(file);
  faulty->vfs = Owner(vfs);
  faulty->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  const int result = Base(vfs)->xOpen(Base(vfs), name, faulty->real, flags, out_flags);
  // With no methods SQLite never calls xClose: only a file the base VFS opened gets ours.
  faulty->file.pMethods = faulty->real->pMethods == nullptr ? nullptr : &kFileMethods;
  return result;
}
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* result) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, result);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void DlError(sqlite3_vfs* vfs, int size, char* message) {
  Base(vfs)->xDlError(Base(vfs), size, message);
}
void (*DlSym(sqlite3_vfs* vfs, void* library, const char* symbol))(void) {
  return Base(vfs)->xDlSym(Base(vfs), library, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* library) { Base(vfs)->xDlClose(Base(vfs), library); }
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) { return Base(vfs)->xSleep(Base(vfs), microseconds); }
int CurrentTime(sqlite3_vfs* vfs, double* now) { return Base(vfs)->xCurrentTime(Base(vfs), now); }
int GetLastError(sqlite3_vfs* vfs, int size, char* message) {
  return Base(vfs)->xGetLastError(Base(vfs), size, message);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* now) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), now);
}

}  // namespace

FaultyVfs::FaultyVfs()
    : base_(sqlite3_vfs_find(nullptr)),
      vfs_{
          2,  // no xSetSystemCall and friends: they are for SQLite's own tests
          static_cast<int>(kRealOffset) + base_->szOsFile,
          base_->mxPathname,
          nullptr,
          "chorus-faulty",
          this,
          Open,
          Delete,
          Access,
          FullPathname,
          DlOpen,
          DlError,
          DlSym,
          DlClose,
          Randomness,
          Sleep,
          CurrentTime,
          GetLastError,
          CurrentTimeInt64,
          nullptr,
          nullptr,
          nullptr,
      } {
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
}

FaultyVfs::~FaultyVfs() {
  sqlite3_vfs_register(base_, /*makeDflt=*/1);
  sqlite3_vfs_unregister(&vfs_);
}

void FaultyVfs::Arm(Fault fault, int n) {
  fault_.store(Fault::kNone);
  writes_.store(0);
  syncs_.store(0);
  hit_.store(false);
  fault_at_.store(n);
  fault_.store(fault);
}

void FaultyVfs::Disarm() {
  fault_.store(Fault::kNone);
  writes_.store(0);
  syncs_.store(0);
}

int FaultyVfs::BeforeWrite() {
  const int count = ++writes_;
  const Fault fault = fault_.load();
  const bool counts_writes =
      fault == Fault::kFailWrite || fault == Fault::kDiskFull || fault == Fault::kKillAtWrite;
  if (!counts_writes || count < fault_at_.load()) return SQLITE_OK;
  hit_.store(true);
  if (fault == Fault::kKillAtWrite) Die();
  return fault == Fault::kDiskFull ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

int FaultyVfs::BeforeSync() {
  const int count = ++syncs_;
  const Fault fault = fault_.load();
  const bool counts_syncs = fault == Fault::kFailSync || fault == Fault::kKillAtSync;
  if (!counts_syncs || count < fault_at_.load()) return SQLITE_OK;
  hit_.store(true);
  if (fault == Fault::kKillAtSync) Die();
  return SQLITE_IOERR_FSYNC;
}

}  // namespace chorus
