#include "tools/bench/list_schedule.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

namespace chorus::bench {
namespace {

std::vector<std::vector<int>> Dependents(const TimedDag& dag) {
  std::vector<std::vector<int>> dependents(dag.durations.size());
  for (int task = 0; task < static_cast<int>(dag.dependencies.size()); ++task) {
    for (int dependency : dag.dependencies[task]) dependents[dependency].push_back(task);
  }
  return dependents;
}

std::vector<int> UnmetDependencies(const TimedDag& dag) {
  std::vector<int> unmet;
  unmet.reserve(dag.dependencies.size());
  for (const std::vector<int>& dependencies : dag.dependencies) {
    unmet.push_back(static_cast<int>(dependencies.size()));
  }
  return unmet;
}

// The tasks in an order where each comes after its dependencies (Kahn's algorithm).
std::vector<int> TopologicalOrder(const TimedDag& dag) {
  const std::vector<std::vector<int>> dependents = Dependents(dag);
  std::vector<int> unmet = UnmetDependencies(dag);
  std::vector<int> order;
  for (int task = 0; task < static_cast<int>(unmet.size()); ++task) {
    if (unmet[task] == 0) order.push_back(task);
  }
  for (size_t next = 0; next < order.size(); ++next) {
    for (int dependent : dependents[order[next]]) {
      if (--unmet[dependent] == 0) order.push_back(dependent);
    }
  }
  return order;
}

}  // namespace

TimedDag Scaled(const TimedDag& dag, double scale) {
  TimedDag scaled = dag;
  for (absl::Duration& duration : scaled.durations) duration *= scale;
  return scaled;
}

absl::Duration ListScheduleMakespan(const TimedDag& dag, int workers) {
  const std::vector<std::vector<int>> dependents = Dependents(dag);
  std::vector<int> unmet = UnmetDependencies(dag);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;  // by definition order
  for (int task = 0; task < static_cast<int>(unmet.size()); ++task) {
    if (unmet[task] == 0) ready.push(task);
  }
  using Running = std::pair<absl::Duration, int>;  // finish time, task
  std::priority_queue<Running, std::vector<Running>, std::greater<Running>> running;
  absl::Duration now = absl::ZeroDuration();
  while (true) {
    while (!ready.empty() && static_cast<int>(running.size()) < workers) {
      running.emplace(now + dag.durations[ready.top()], ready.top());
      ready.pop();
    }
    if (running.empty()) return now;
    now = running.top().first;
    while (!running.empty() && running.top().first == now) {
      for (int dependent : dependents[running.top().second]) {
        if (--unmet[dependent] == 0) ready.push(dependent);
      }
      running.pop();
    }
  }
}

absl::Duration CriticalPath(const TimedDag& dag) {
  std::vector<absl::Duration> finish(dag.durations.size());
  absl::Duration longest = absl::ZeroDuration();
  for (int task : TopologicalOrder(dag)) {
    absl::Duration start = absl::ZeroDuration();
    for (int dependency : dag.dependencies[task]) start = std::max(start, finish[dependency]);
    finish[task] = start + dag.durations[task];
    longest = std::max(longest, finish[task]);
  }
  return longest;
}

absl::Duration TotalWork(const TimedDag& dag) {
  absl::Duration total = absl::ZeroDuration();
  for (absl::Duration duration : dag.durations) total += duration;
  return total;
}

}  // namespace chorus::bench
