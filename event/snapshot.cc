#include "event/snapshot.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "event/events.h"
#include "event/internal/status_macros.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/snapshot.pb.h"

namespace chorus {
namespace {

// A step's entry in the step_flags column: its StepStatus in bits 0-2, then flags, then its
// attempts from bit 8.
constexpr uint64_t kStatusMask = 0x7;
constexpr uint64_t kRetryable = 1 << 3;
constexpr uint64_t kTimedOut = 1 << 4;
constexpr uint64_t kExpanded = 1 << 5;
constexpr uint64_t kStartedAtInColumn = 1 << 6;   // it has an entry in the started_at column
constexpr uint64_t kFinishedAtInColumn = 1 << 7;  // in the finished_at column
constexpr int kAttemptsShift = 8;
constexpr uint64_t kLastStepStatus = static_cast<uint64_t>(StepStatus::kSkipped);

// The columns are runs of varints, protobuf's base-128 encoding of unsigned integers.
void AppendVarint(uint64_t value, std::string& column) {
  uint8_t bytes[10];  // a 64-bit varint takes at most 10
  const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, bytes);
  column.append(reinterpret_cast<const char*>(bytes), end - bytes);
}

class ColumnReader {
 public:
  explicit ColumnReader(const std::string& column)
      : input_(reinterpret_cast<const uint8_t*>(column.data()), static_cast<int>(column.size())),
        size_(static_cast<int>(column.size())) {}

  // The next value; false at the end of the column or on a malformed varint.
  bool Next(uint64_t& value) { return input_.ReadVarint64(&value); }
  bool AtEnd() const { return input_.CurrentPosition() == size_; }

 private:
  google::protobuf::io::CodedInputStream input_;
  const int size_;
};

// A time goes in a column as nanoseconds since the Unix epoch, if they hold it exactly: every
// time but InfinitePast (no time) and those of a corrupted history, which go in the extras. An
// entry is the difference from the column's previous time (wrapping), zigzag-encoded: steps
// recorded close together take a few bytes each.
bool InColumn(absl::Time time) {
  return time != absl::InfinitePast() && time != absl::InfiniteFuture() &&
         absl::FromUnixNanos(absl::ToUnixNanos(time)) == time;
}

bool InExtras(absl::Time time) { return time != absl::InfinitePast() && !InColumn(time); }

class TimeColumnWriter {
 public:
  explicit TimeColumnWriter(std::string& column) : column_(column) {}
  void Add(absl::Time time) {
    const uint64_t nanos = static_cast<uint64_t>(absl::ToUnixNanos(time));
    const int64_t difference = static_cast<int64_t>(nanos - previous_);
    AppendVarint((static_cast<uint64_t>(difference) << 1) ^ static_cast<uint64_t>(difference >> 63),
                 column_);
    previous_ = nanos;
  }

 private:
  std::string& column_;
  uint64_t previous_ = 0;
};

class TimeColumnReader {
 public:
  explicit TimeColumnReader(const std::string& column) : column_(column) {}
  bool Next(absl::Time& time) {
    uint64_t zigzag = 0;
    if (!column_.Next(zigzag)) return false;
    previous_ += (zigzag >> 1) ^ (~(zigzag & 1) + 1);
    time = absl::FromUnixNanos(static_cast<int64_t>(previous_));
    return true;
  }
  bool AtEnd() const { return column_.AtEnd(); }

 private:
  ColumnReader column_;
  uint64_t previous_ = 0;
};

// A time as a Timestamp that reads back, as the fold reads recorded times (seconds plus
// nanoseconds, saturating), as the same absl::Time. InfiniteFuture, which only a corrupted
// history's times saturate to, is written as a time that saturates to it again.
void SetTimestamp(absl::Time time, google::protobuf::Timestamp& out) {
  if (time == absl::InfiniteFuture()) {
    out.set_seconds(std::numeric_limits<int64_t>::max());
    out.set_nanos(1'000'000'000);
    return;
  }
  const int64_t seconds = absl::ToUnixSeconds(time);  // rounds down
  out.set_seconds(seconds);
  out.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Time TimestampOr(bool set, const google::protobuf::Timestamp& time) {
  if (!set) return absl::InfinitePast();
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

// Whether `step` has anything for the extras.
bool HasExtras(const StepState& step) {
  const StepDetails& details = step.details();
  return !step.error.ok() || !details.log_path.empty() || !details.state_updates.empty() ||
         details.cost != 0 || details.retry_at != absl::InfinitePast() ||
         !details.blocked_on.empty() || !details.instances.empty() || step.map_of >= 0 ||
         InExtras(step.started_at) || InExtras(step.finished_at) || details.visit != 0 ||
         !details.taken.empty() || !details.entered_by.empty();
}

void SnapshotExtras(int index, const StepState& step, StepExtras& out) {
  out.set_step(index);
  if (!step.error.ok()) *out.mutable_error() = ToError(step.error);
  const StepDetails& details = step.details();
  out.set_log_path(details.log_path);
  out.mutable_state_updates()->Add(details.state_updates.begin(), details.state_updates.end());
  out.set_cost(details.cost);
  if (details.retry_at != absl::InfinitePast()) {
    SetTimestamp(details.retry_at, *out.mutable_retry_at());
  }
  out.set_blocked_on(details.blocked_on);
  out.mutable_instances()->Add(details.instances.begin(), details.instances.end());
  if (step.map_of >= 0) {
    out.set_map_of(step.map_of);
    out.set_map_index(details.map_index);
    out.set_map_item(details.map_item);
  }
  if (InExtras(step.started_at)) SetTimestamp(step.started_at, *out.mutable_started_at());
  if (InExtras(step.finished_at)) SetTimestamp(step.finished_at, *out.mutable_finished_at());
  out.set_visit(details.visit);
  out.mutable_taken()->Add(details.taken.begin(), details.taken.end());
  out.mutable_entered_by()->Add(details.entered_by.begin(), details.entered_by.end());
}

// The columns of a snapshot being written.
struct ColumnWriters {
  explicit ColumnWriters(WorkflowSnapshot& snapshot)
      : flags(*snapshot.mutable_step_flags()),
        started_at(*snapshot.mutable_started_at()),
        finished_at(*snapshot.mutable_finished_at()),
        output_sizes(*snapshot.mutable_output_sizes()),
        outputs(*snapshot.mutable_outputs()) {}

  std::string& flags;
  TimeColumnWriter started_at;
  TimeColumnWriter finished_at;
  std::string& output_sizes;
  std::string& outputs;
};

void SnapshotStep(const StepState& step, ColumnWriters& columns) {
  uint64_t flags = static_cast<uint64_t>(step.attempts) << kAttemptsShift;
  flags |= static_cast<uint64_t>(step.status);
  if (step.retryable) flags |= kRetryable;
  if (step.timed_out) flags |= kTimedOut;
  if (step.expanded) flags |= kExpanded;
  if (InColumn(step.started_at)) {
    flags |= kStartedAtInColumn;
    columns.started_at.Add(step.started_at);
  }
  if (InColumn(step.finished_at)) {
    flags |= kFinishedAtInColumn;
    columns.finished_at.Add(step.finished_at);
  }
  AppendVarint(flags, columns.flags);
  AppendVarint(step.output.size(), columns.output_sizes);
  columns.outputs.append(step.output);
}

// DataLoss "workflow 'order-42': snapshot at seq 7: <what...>".
template <typename... Pieces>
absl::Status Unfit(const WorkflowState& state, const WorkflowSnapshot& snapshot,
                   const Pieces&... what) {
  return absl::DataLossError(absl::StrCat("workflow '", state.workflow_id, "': snapshot at seq ",
                                          snapshot.seq(), ": ", what...));
}

// The number of steps, if the columns are whole and agree with each other: every entry
// readable, every flag known, as many times and output sizes as the flags say.
absl::StatusOr<int> CheckColumns(const WorkflowSnapshot& snapshot, const WorkflowState& started) {
  int steps = 0;
  int started_times = 0;
  int finished_times = 0;
  ColumnReader flags_column(snapshot.step_flags());
  for (uint64_t flags = 0; flags_column.Next(flags); ++steps) {
    const uint64_t attempts = flags >> kAttemptsShift;
    if ((flags & kStatusMask) > kLastStepStatus || attempts > std::numeric_limits<int>::max()) {
      return Unfit(started, snapshot, "step ", steps, " has flags ", flags);
    }
    started_times += (flags & kStartedAtInColumn) != 0;
    finished_times += (flags & kFinishedAtInColumn) != 0;
  }
  if (!flags_column.AtEnd() || steps < started.definition().steps_size()) {
    return Unfit(started, snapshot, "its flags column holds ", steps,
                 " whole steps, the definition ", started.definition().steps_size());
  }
  int output_sizes = 0;
  uint64_t output_bytes = 0;
  ColumnReader sizes_column(snapshot.output_sizes());
  for (uint64_t size = 0; sizes_column.Next(size); ++output_sizes) output_bytes += size;
  int started_entries = 0;
  TimeColumnReader started_column(snapshot.started_at());
  for (absl::Time time; started_column.Next(time);) ++started_entries;
  int finished_entries = 0;
  TimeColumnReader finished_column(snapshot.finished_at());
  for (absl::Time time; finished_column.Next(time);) ++finished_entries;
  if (!sizes_column.AtEnd() || output_sizes != steps || output_bytes != snapshot.outputs().size() ||
      !started_column.AtEnd() || started_entries != started_times || !finished_column.AtEnd() ||
      finished_entries != finished_times) {
    return Unfit(started, snapshot, "its columns of times or outputs do not match its steps");
  }
  return steps;
}

// Whether the extras are in step order, and every map instance (the steps past the
// definition's) is one of a map step of the definition, and listed by that one alone: indices
// the engine can follow.
absl::Status CheckExtras(const WorkflowSnapshot& snapshot, int steps,
                         const WorkflowState& started) {
  const WorkflowDefinition& definition = started.definition();
  const int defined = definition.steps_size();
  int next = 0;  // the first step the next extras may be of
  int instances = 0;
  for (const StepExtras& extras : snapshot.extras()) {
    const int i = extras.step();
    if (i < next || i >= steps) {
      return Unfit(started, snapshot, "extras of step ", i, " out of order");
    }
    next = i + 1;
    if (i >= defined) {
      ++instances;
      if (extras.map_of() < 0 || extras.map_of() >= defined ||
          definition.steps(extras.map_of()).map_over().empty() || extras.map_index() < 0) {
        return Unfit(started, snapshot, "step ", i, " is not an instance of a map step");
      }
    }
    for (int instance : extras.instances()) {
      if (i >= defined || instance < defined || instance >= steps) {
        return Unfit(started, snapshot, "step ", i, " lists step ", instance, " as its instance");
      }
    }
  }
  if (instances != steps - defined) {
    return Unfit(started, snapshot, steps - defined, " steps past the definition's, ", instances,
                 " of them map instances");
  }
  // The instances' extras are the last ones, one each, in step order.
  const int first_instance_extras = snapshot.extras_size() - (steps - defined);
  for (const StepExtras& extras : snapshot.extras()) {
    for (int instance : extras.instances()) {
      if (snapshot.extras(first_instance_extras + instance - defined).map_of() != extras.step()) {
        return Unfit(started, snapshot, "step ", extras.step(), " lists step ", instance,
                     ", an instance of another");
      }
    }
  }
  return absl::OkStatus();
}

// Applies `extras` to step `step` of `state`, adding the step first if it is an instance.
absl::Status RestoreExtras(const StepExtras& extras, const WorkflowSnapshot& snapshot,
                           WorkflowState& state) {
  const int i = extras.step();
  if (i == static_cast<int>(state.steps.size())) {
    StepState instance;
    instance.name = absl::StrCat(state.steps[extras.map_of()].name, "[", extras.map_index(), "]");
    instance.map_of = extras.map_of();
    instance.mutable_details().map_index = extras.map_index();
    instance.mutable_details().map_item = extras.map_item();
    if (!state.AddStep(std::move(instance))) {
      return Unfit(state, snapshot, "step ", i, " has the name of another");
    }
  }
  StepState& step = state.steps[i];
  if (extras.has_error()) step.error = FromError(extras.error());
  if (extras.has_started_at()) step.started_at = TimestampOr(true, extras.started_at());
  if (extras.has_finished_at()) step.finished_at = TimestampOr(true, extras.finished_at());
  if (extras.log_path().empty() && extras.state_updates().empty() && extras.cost() == 0 &&
      !extras.has_retry_at() && extras.blocked_on().empty() && extras.instances().empty() &&
      extras.visit() == 0 && extras.taken().empty() && extras.entered_by().empty()) {
    return absl::OkStatus();
  }
  StepDetails& details = step.mutable_details();
  details.log_path = extras.log_path();
  details.state_updates.assign(extras.state_updates().begin(), extras.state_updates().end());
  details.cost = extras.cost();
  details.retry_at = TimestampOr(extras.has_retry_at(), extras.retry_at());
  details.blocked_on = extras.blocked_on();
  details.instances.assign(extras.instances().begin(), extras.instances().end());
  details.visit = extras.visit();
  details.taken.assign(extras.taken().begin(), extras.taken().end());
  details.entered_by.assign(extras.entered_by().begin(), extras.entered_by().end());
  return absl::OkStatus();
}

// Restores the steps' columns and extras onto `state`. REQUIRES: CheckColumns and CheckExtras
// passed.
absl::Status RestoreSteps(const WorkflowSnapshot& snapshot, int steps, WorkflowState& state) {
  state.steps.reserve(steps);
  ColumnReader flags_column(snapshot.step_flags());
  ColumnReader sizes_column(snapshot.output_sizes());
  TimeColumnReader started_column(snapshot.started_at());
  TimeColumnReader finished_column(snapshot.finished_at());
  size_t output_offset = 0;
  auto extras = snapshot.extras().begin();
  for (int i = 0; i < steps; ++i) {
    // Extras first: they add an instance, and may hold its times.
    if (extras != snapshot.extras().end() && extras->step() == i) {
      CHORUS_RETURN_IF_ERROR(RestoreExtras(*extras, snapshot, state));
      ++extras;
    }
    StepState& step = state.steps[i];
    uint64_t flags = 0;
    flags_column.Next(flags);
    step.status = static_cast<StepStatus>(flags & kStatusMask);
    step.attempts = static_cast<int>(flags >> kAttemptsShift);
    step.retryable = (flags & kRetryable) != 0;
    step.timed_out = (flags & kTimedOut) != 0;
    step.expanded = (flags & kExpanded) != 0;
    if ((flags & kStartedAtInColumn) != 0) started_column.Next(step.started_at);
    if ((flags & kFinishedAtInColumn) != 0) finished_column.Next(step.finished_at);
    uint64_t output_size = 0;
    sizes_column.Next(output_size);
    if (output_size > 0) step.output.assign(snapshot.outputs(), output_offset, output_size);
    output_offset += output_size;
  }
  return absl::OkStatus();
}

}  // namespace

std::string SerializeSnapshot(const WorkflowState& state) {
  google::protobuf::Arena arena;
  auto* snapshot = google::protobuf::Arena::CreateMessage<WorkflowSnapshot>(&arena);
  snapshot->set_seq(state.last_seq);
  snapshot->set_fingerprint(state.fingerprint);
  if (state.updated_at != absl::InfinitePast()) {
    SetTimestamp(state.updated_at, *snapshot->mutable_updated_at());
  }
  snapshot->set_status(state.status);
  snapshot->set_cost_spent(state.cost_spent);
  snapshot->mutable_failed_steps()->Add(state.failed_steps.begin(), state.failed_steps.end());
  if (!state.error.ok()) *snapshot->mutable_error() = ToError(state.error);
  snapshot->set_failed_step(state.failed_step);
  ColumnWriters columns(*snapshot);
  for (int i = 0; i < static_cast<int>(state.steps.size()); ++i) {
    const StepState& step = state.steps[i];
    SnapshotStep(step, columns);
    if (HasExtras(step)) SnapshotExtras(i, step, *snapshot->add_extras());
  }
  return snapshot->SerializeAsString();
}

absl::StatusOr<WorkflowState> RestoreSnapshot(std::string bytes, WorkflowState started) {
  google::protobuf::Arena arena;
  auto* snapshot = google::protobuf::Arena::CreateMessage<WorkflowSnapshot>(&arena);
  const bool parsed = snapshot->ParseFromString(bytes);
  std::string().swap(bytes);  // the parsed columns are copies: the state's memory comes first
  if (!parsed) {
    return absl::DataLossError(
        absl::StrCat("workflow '", started.workflow_id, "': the snapshot cannot be parsed"));
  }
  if (snapshot->fingerprint() != started.fingerprint) {
    return Unfit(started, *snapshot, "it is of definition '", snapshot->fingerprint(),
                 "', the history's is '", started.fingerprint, "'");
  }
  if (snapshot->seq() < 1 || !WorkflowStatus_IsValid(snapshot->status()) ||
      snapshot->status() == WORKFLOW_STATUS_UNSPECIFIED) {
    return Unfit(started, *snapshot, "workflow status ", snapshot->status());
  }
  CHORUS_ASSIGN_OR_RETURN(const int steps, CheckColumns(*snapshot, started));
  CHORUS_RETURN_IF_ERROR(CheckExtras(*snapshot, steps, started));
  WorkflowState state = std::move(started);
  CHORUS_RETURN_IF_ERROR(RestoreSteps(*snapshot, steps, state));
  state.last_seq = snapshot->seq();
  state.updated_at = TimestampOr(snapshot->has_updated_at(), snapshot->updated_at());
  state.status = snapshot->status();
  state.cost_spent = snapshot->cost_spent();
  state.failed_steps.assign(snapshot->failed_steps().begin(), snapshot->failed_steps().end());
  state.error = snapshot->has_error() ? FromError(snapshot->error()) : absl::OkStatus();
  state.failed_step = snapshot->failed_step();
  return state;
}

}  // namespace chorus
