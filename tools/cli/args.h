// Command-line arguments of one `chorus` subcommand: positional arguments and --flags.
//
// One convention throughout: `--name value` or `--name=value` for flags that take a value,
// `--name` alone for switches; `-o` is short for `--output`. Anything else starting with `-`
// is an error, as is a flag the subcommand does not declare.
#ifndef CHORUS_TOOLS_CLI_ARGS_H_
#define CHORUS_TOOLS_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chorus::cli {

struct FlagSpec {
  const char* name;     // without the dashes
  const char* value;    // how the help names its value, e.g. "PATH"; nullptr for a switch
  const char* meaning;  // one line for the help
};

class Args {
 public:
  // Parses `argv` (the words after the subcommand) against `flags`. InvalidArgument naming
  // the offending word.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::vector<FlagSpec>& flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(absl::string_view flag) const { return values_.contains(flag); }
  // The flag's value, or `fallback` when it was not given.
  std::string Get(absl::string_view flag, absl::string_view fallback = "") const;
  // The flag's value as an integer; InvalidArgument if it is not one.
  absl::StatusOr<int64_t> GetInt(absl::string_view flag, int64_t fallback) const;

 private:
  std::vector<std::string> positional_;
  absl::flat_hash_map<std::string, std::string> values_;  // switches map to ""
};

}  // namespace chorus::cli

#endif  // CHORUS_TOOLS_CLI_ARGS_H_
