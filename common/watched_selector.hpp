// --trace-loop for 05 and 06, whose event loop is four lines of main() with no
// object to hook. Every turn of such a loop passes through one call,
// select(), so the watch sits there: a Selector that wraps the stage's own,
// records each select() as the start of a turn (what is registered, how long
// it slept, which fds it returned) and ends the turn at the next select().
//
//   auto selector = watch_selector(make_selector(backend), "05_callbacks", watching, name_of);
//
// With none of the flags it returns the stage's selector untouched: nothing in
// between. A --trace-loop FILE that cannot be made ends the program at once
// with one line and exit 1, like a bad flag.
// What it cannot see: each callback on its own. The callbacks of one answer
// run back to back in the stage's loop, so a turn records them in order with
// one time for all ("steps_ms"); 07's loop has hooks and times each step.
#pragma once

#include "loop_watch.hpp"
#include "selector.hpp"

#include <functional>
#include <memory>
#include <string>

namespace ladder {

// What to call the owner of a key on the recording ("page 3 on_readable").
using KeyNamer = std::function<std::string(const SelectorKey&)>;

std::unique_ptr<Selector> watch_selector(std::unique_ptr<Selector> selector,
                                         const std::string& stage,
                                         const LoopWatchOptions& options, KeyNamer name_of);

} // namespace ladder
