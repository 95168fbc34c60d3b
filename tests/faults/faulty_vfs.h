// FaultyVfs: a SQLite VFS (OS interface) that passes every call through to SQLite's default
// VFS, but can fail the Nth write or sync, report a full disk, or kill the process at the Nth
// write or sync: the fake disk of the fault tests.
//
// It makes itself SQLite's default VFS, so the code under test (OpenSqliteEventStore opens its
// files on the default VFS) uses it unchanged:
//
//   FaultyVfs vfs;                              // the default VFS from now on
//   vfs.Arm(FaultyVfs::Fault::kFailWrite, 3);   // the third write from now fails
//   absl::Status status = engine.Run(...).status();
//   vfs.Disarm();                               // the disk works again
//
// Writes are calls of xWrite and xTruncate, syncs calls of xSync, on every file SQLite opens
// through it (the database, its WAL and journal). A fault that has hit stays until Disarm: every
// later write (or sync) fails the same way, as a failed disk does.
//
// Thread-safe. At most one FaultyVfs may exist at a time; its destructor makes the VFS that
// was the default before it the default again. REQUIRES: no SQLite connection opened through it
// is still open when it is destroyed.
#ifndef CHORUS_TESTS_FAULTS_FAULTY_VFS_H_
#define CHORUS_TESTS_FAULTS_FAULTY_VFS_H_

#include <sqlite3.h>

#include <atomic>

namespace chorus {

class FaultyVfs {
 public:
  enum class Fault {
    kNone,
    kFailWrite,    // the write does nothing and returns SQLITE_IOERR_WRITE
    kFailSync,     // the sync does nothing and returns SQLITE_IOERR_FSYNC (counts syncs)
    kDiskFull,     // the write does nothing and returns SQLITE_FULL
    kKillAtWrite,  // the process kills itself with SIGKILL instead of writing
    kKillAtSync,   // the process kills itself with SIGKILL instead of syncing (counts syncs)
  };

  FaultyVfs();
  ~FaultyVfs();

  FaultyVfs(const FaultyVfs&) = delete;
  FaultyVfs& operator=(const FaultyVfs&) = delete;

  // Counts writes and syncs from zero again, and makes the `n`th write (the `n`th sync for
  // kFailSync and kKillAtSync) from now on fail with `fault`. REQUIRES: n >= 1.
  void Arm(Fault fault, int n);
  // Lets every write and sync through again, and counts them from zero again.
  void Disarm();

  // Whether the armed fault has hit since Arm.
  bool hit() const { return hit_.load(); }
  // Writes and syncs since construction or the last Arm or Disarm.
  int writes() const { return writes_.load(); }
  int syncs() const { return syncs_.load(); }

  // The file methods call these: each counts the operation, and returns SQLITE_OK to let it
  // through or the error that replaces it (or kills the process).
  int BeforeWrite();
  int BeforeSync();

  // The VFS this one passes calls to.
  sqlite3_vfs* base() const { return base_; }

 private:
  // Constant after construction.
  sqlite3_vfs* const base_;  // the default VFS before this one
  sqlite3_vfs vfs_;

  // Atomic because SQLite calls the file methods from any thread.
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> fault_at_{0};
  std::atomic<int> writes_{0};
  std::atomic<int> syncs_{0};
  std::atomic<bool> hit_{false};
};

}  // namespace chorus

#endif  // CHORUS_TESTS_FAULTS_FAULTY_VFS_H_
