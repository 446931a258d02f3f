// Ctrl-C (SIGINT) and SIGTERM for event loops: the handler only writes a byte
// to a pipe (the "self-pipe trick"), and the loop watches the pipe's read end
// with its selector like any other fd — no flag that a wait could miss.
#pragma once

namespace ladder {

class StopSignals {
  public:
    StopSignals();           // installs the handlers (once per process) and ignores SIGPIPE
    int fd() const noexcept; // readable once a stop was requested
    bool requested() const noexcept;
};

// Ignore SIGPIPE: a peer that went away makes send() fail with EPIPE instead
// of killing the process.
void ignore_sigpipe();

} // namespace ladder
