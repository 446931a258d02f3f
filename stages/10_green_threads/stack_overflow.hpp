// A fiber that runs off its stack touches the guard below it and the kernel
// sends SIGSEGV. Without a handler that is a silent "Segmentation fault"; with
// this one it is one line naming the page, and exit code 1.
#pragma once

namespace ladder::green {

// Installs the SIGSEGV handler, on an alternate signal stack: the fiber's own
// stack is the one that has no room left. A fault that is not in a fiber's
// guard goes on to the handler that was there before (or the default: a crash).
void report_stack_overflows();

} // namespace ladder::green
