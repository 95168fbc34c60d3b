// Raw SQLite access for tests that look at, or damage, a database file below the store's API.
#ifndef CHORUS_TESTS_STORAGE_RAW_SQLITE_H_
#define CHORUS_TESTS_STORAGE_RAW_SQLITE_H_

#include <sqlite3.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace chorus {

// Runs `sql` on the database at `path` through a read-write handle, bypassing the store.
// Returns SQLite's error message, or "" on success.
inline std::string RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return error;
}

// The first column of each row that `sql` returns on the database at `path`, opened
// read-only, one row a line; "error: " and SQLite's message if it fails.
inline std::string RawRows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  std::vector<std::string> rows;
  int step = SQLITE_ERROR;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      rows.emplace_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
    }
  }
  if (step != SQLITE_DONE) rows = {absl::StrCat("error: ", sqlite3_errmsg(db))};
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return absl::StrJoin(rows, "\n");
}

}  // namespace chorus

#endif  // CHORUS_TESTS_STORAGE_RAW_SQLITE_H_
