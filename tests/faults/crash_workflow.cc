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

WorkflowDefinition LoopCrashWorkflow() {
  WorkflowDefinition definition;
  definition.set_name("crash-loop");
  for (const char* key : {"rounds", "polls"}) {
    StateKey* state = definition.add_state();
    state->set_name(key);
    state->set_reducer(REDUCER_SUM);
    state->mutable_initial()->set_number(0);
  }
  auto add_edge = [&definition](const std::string& from, const std::string& to,
                                const std::string& condition, int weight = 0) {
    Edge* edge = definition.add_edges();
    edge->set_from(from);
    edge->set_to(to);
    edge->set_condition(condition);
    edge->set_weight(weight);
  };
  AddStep(definition, "start", {});
  std::string previous = "start";
  for (int link = 0; link < 6; ++link) {
    const std::string name = absl::StrCat("side", link);
    AddStep(definition, name, {previous});
    previous = name;
  }
  RetryPolicy* retry = AddStep(definition, "implement", {"start"})->mutable_retry();
  retry->set_max_attempts(2);
  retry->mutable_initial_backoff()->set_nanos(1'000'000);
  AddStep(definition, "test", {"implement"});
  add_edge("test", "implement", "outcome=fail");
  AddStep(definition, "review", {})->set_route(ROUTE_FIRST);
  add_edge("test", "review", "outcome=success");
  AddStep(definition, "ship", {});
  AddStep(definition, "rework", {});
  add_edge("review", "ship", "context.rounds=4", 1);
  add_edge("review", "rework", "context.rounds!=4");
  AddStep(definition, "poll", {"ship"})->set_max_visits(10);
  add_edge("poll", "poll", "context.polls!=3");
  AddStep(definition, "merge", {"side5", "rework"})->set_join(JOIN_ALL);
  add_edge("poll", "merge", "context.polls=3");
  previous = "merge";
  for (int link = 0; link < 3; ++link) {
    const std::string name = absl::StrCat("finish", link);
    AddStep(definition, name, {previous});
    previous = name;
  }
  return definition;
}

absl::Status LoopCrashStepError(absl::string_view step, int visit, int attempt) {
  if (step == "implement" && attempt == 1) {
    return absl::UnavailableError(absl::StrCat("implement visit ", visit, ": first try fails"));
  }
  if (step == "test" && visit < 4) {
    return absl::FailedPreconditionError(absl::StrCat("tests fail on visit ", visit));
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, int64_t>> LoopCrashStepUpdates(absl::string_view step) {
  if (step == "implement") return {{"rounds", 1}};
  if (step == "poll") return {{"polls", 1}};
  return {};
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
