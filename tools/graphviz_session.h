// GraphvizSession: exclusive use of the Graphviz libraries (cgraph, gvc) for one scope.
//
// Graphviz keeps process-wide state that is not thread-safe: the DOT lexer and its line
// counter, the error level and the error callback. Every call Chorus makes into Graphviz
// therefore happens inside a GraphvizSession, which holds one process-wide lock and, while it
// lives, collects the errors and warnings Graphviz reports instead of letting Graphviz print
// them to stderr.
//
//   GraphvizSession session;
//   Agraph_t* graph = agmemread(text);
//   if (graph == nullptr) return absl::InvalidArgumentError(session.messages());
//
// Thread-safe: sessions in different threads run one after the other. Not reentrant.
#ifndef CHORUS_TOOLS_GRAPHVIZ_SESSION_H_
#define CHORUS_TOOLS_GRAPHVIZ_SESSION_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "event/internal/mutex.h"

namespace chorus {

// The lock that serializes every use of Graphviz in the process.
Mutex& GraphvizMutex();

class ABSL_SCOPED_LOCKABLE GraphvizSession {
 public:
  // Blocks until no other session is alive.
  GraphvizSession() ABSL_EXCLUSIVE_LOCK_FUNCTION(GraphvizMutex());
  ~GraphvizSession() ABSL_UNLOCK_FUNCTION();

  GraphvizSession(const GraphvizSession&) = delete;
  GraphvizSession& operator=(const GraphvizSession&) = delete;

  // What Graphviz reported so far in this session, as it words it, one message per line
  // ("Error: syntax error in line 7 near '->'"); empty if nothing.
  const std::string& messages() const { return messages_; }

 private:
  std::string messages_;
};

}  // namespace chorus

#endif  // CHORUS_TOOLS_GRAPHVIZ_SESSION_H_
