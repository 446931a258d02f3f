// Step 2 (§4.5): yield from. A generator may now also co_yield a generator,
// and the co_yield evaluates to that generator's return value (or throws the
// error that escaped it):
//
//   Python                               here
//   chunk = yield from read(sock)        Value chunk = co_yield read(selector, fd);
//
// Python's interpreter runs yield from; here yield_from() does. It is itself a
// generator, so the Task of step 1 drives it unchanged: it resumes the
// innermost generator, and hands the Task only the Futures that one yields —
// the seed's "two-way channel" between a sub-generator and the Task (§4.5.1).
#pragma once

#include "generator.hpp"

#include <vector>

namespace ladder::gen {

// The trampoline. `stack` says who is inside whom (fetch, read_all, read); only
// the top one runs, and it always returns here, never to its parent directly.
// So a chain 100,000 generators deep costs 100,000 vector entries, not 100,000
// C++ stack frames.
inline Generator yield_from(Generator outer) {
    std::vector<Generator*> stack{&outer};
    for (;;) {
        Generator& top = *stack.back();
        if (Future* future = top.resume()) {
            // It waits on a future: so do we. When we are resumed, `top` takes
            // the outcome from the future itself, so an error is no business
            // of ours here: it is rethrown at top's co_yield next time round.
            try {
                co_yield *future;
            } catch (...) {
            }
        } else if (Generator* sub = top.yielded_generator()) {
            stack.push_back(sub); // yield from: run the sub-generator first
        } else {
            // It has ended: its parent's co_yield reads its result when resumed.
            stack.pop_back();
            if (stack.empty()) co_return top.result(); // the outermost: we end alike
        }
    }
}

} // namespace ladder::gen
