#include "tools/graphviz_session.h"

#include <graphviz/cgraph.h>

// Exported by libcgraph but declared only in its private header (cghdr.h): discards what
// the DOT lexer has buffered.
extern "C" void aglexbad(void);

namespace chorus {
namespace {

// The messages_ of the live session; null when there is none.
std::string* session_messages ABSL_GUARDED_BY(GraphvizMutex()) = nullptr;

// Graphviz calls this, instead of printing, for each message; only ever during a session.
int CollectMessage(char* message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(GraphvizMutex()) {
  session_messages->append(message);
  return 0;
}

}  // namespace

Mutex& GraphvizMutex() {
  static Mutex* const mutex = new Mutex();
  return *mutex;
}

GraphvizSession::GraphvizSession() {
  GraphvizMutex().Lock();
  session_messages = &messages_;
  agseterr(AGWARN);  // report warnings too: in a definition file they signal an ambiguity
  agseterrf(CollectMessage);
  // cgraph's lexer keeps, across agmemread calls, its line count and the rest of the line
  // where the previous graph ended: without this, a parse would continue the previous text.
  aglexbad();
  agreadline(1);
}

GraphvizSession::~GraphvizSession() {
  agseterrf(nullptr);
  session_messages = nullptr;
  GraphvizMutex().Unlock();
}

}  // namespace chorus
