#include "tests/faults/crash_workflow.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chorus {
namespace {

constexpr int kChains = 4;
constexpr int kChainLength = 8;
constexpr int kLeaves = 12;
constexpr int kTailLength = 5;

StepDefinition* AddStep(WorkflowDefinition& definition, const std::string& name,
                        const std::vector<std::string>& depends_on,
                        StepKind kind = STEP_KIND_UNSPECIFIED) {
  StepDefinition* step = definition.add_steps();
  step->set_name(name);
  for (const std::string& dependency : depends_on) step->add_depends_on(dependency);
  step->set_kind(kind);
  return step;
}

std::string ChainStep(int chain, int link) { return absl::StrCat("chain", chain, "_", link); }

// FNV-1a: stable across processes and builds, unlike absl::Hash.
uint64_t Fnv1a(uint64_t hash, absl::string_view bytes) {
  for (const unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3;
  return hash;
}

}  // namespace

WorkflowDefinition CrashWorkflow() {
  WorkflowDefinition definition;
  definition.set_name("crash");
  AddStep(definition, "start", {});
  AddStep(definition, "spread", {"start"}, STEP_KIND_FAN_OUT);
  for (int link = 0; link < kChainLength; ++link) {
    for (int chain = 0; chain < kChains; ++chain) {
      std::vector<std::string> depends_on = {link == 0 ? "spread" : ChainStep(chain, link - 1)};
      if (link % 2 == 1 && chain > 0) depends_on.push_back(ChainStep(chain - 1, link - 1));
      AddStep(definition, ChainStep(chain, link), depends_on);
    }
  }
  std::vector<std::string> chain_ends;
  for (int chain = 0; chain < kChains; ++chain) {
    chain_ends.push_back(ChainStep(chain, kChainLength - 1));
  }
  AddStep(definition, "gather", chain_ends, STEP_KIND_FAN_IN);
  std::vector<std::string> leaves;
  for (int leaf = 0; leaf < kLeaves; ++leaf) {
    leaves.push_back(absl::StrCat("leaf", leaf));
    AddStep(definition, leaves.back(), {"gather"});
  }
  AddStep(definition, "merge", leaves);
  std::string previous = "merge";
  for (int link = 0; link < kTailLength; ++link) {
    const std::string name = absl::StrCat("tail", link);
    AddStep(definition, name, {previous});
    previous = name;
  }
  return definition;
}

std::string CrashStepOutput(absl::string_view step, absl::string_view input,
                            const std::vector<absl::string_view>& dependency_outputs) {
  uint64_t hash = Fnv1a(0xcbf29ce484222325, step);
  hash = Fnv1a(hash, absl::StrCat("|", input.size(), ":", input));
  for (absl::string_view output : dependency_outputs) {
    hash = Fnv1a(hash, absl::StrCat("|", output.size(), ":", output));
  }
  return absl::StrFormat("%s:%016x", step, hash);
}

absl::Duration CrashStepDuration(absl::string_view step) {
  return absl::Milliseconds(1 + Fnv1a(0xcbf29ce484222325, step) % 4);
}

}  // namespace chorus
