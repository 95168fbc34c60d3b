#include "tools/cli/args.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace chorus::cli {
namespace {

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags, absl::string_view name) {
  auto it = std::find_if(flags.begin(), flags.end(),
                         [name](const FlagSpec& flag) { return name == flag.name; });
  return it == flags.end() ? nullptr : &*it;
}

}  // namespace

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const std::vector<FlagSpec>& flags) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    absl::string_view word = argv[i];
    if (word == "-" || !absl::StartsWith(word, "-")) {
      args.positional_.emplace_back(word);
      continue;
    }
    std::string name(word == "-o" ? "output" : word.substr(absl::StartsWith(word, "--") ? 2 : 1));
    std::string value;
    const size_t equals = name.find('=');
    const bool inline_value = equals != std::string::npos;
    if (inline_value) {
      value = name.substr(equals + 1);
      name.resize(equals);
    }
    const FlagSpec* flag = FindFlag(flags, name);
    if (flag == nullptr || !absl::StartsWith(word, word == "-o" ? "-" : "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", word, "'"));
    }
    if (flag->value == nullptr && inline_value) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    }
    if (flag->value != nullptr && !inline_value) {
      if (i + 1 == argv.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", flag->value, ")"));
      }
      value = argv[++i];
    }
    args.values_[name] = value;
  }
  return args;
}

std::string Args::Get(absl::string_view flag, absl::string_view fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::string(fallback) : it->second;
}

absl::StatusOr<int64_t> Args::GetInt(absl::string_view flag, int64_t fallback) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " needs a whole number, not '", it->second, "'"));
  }
  return value;
}

}  // namespace chorus::cli
