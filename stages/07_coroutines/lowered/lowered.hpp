// async_send_all() (../io.cpp) written out as the compiler lowers it: see
// lowered.cpp. Beside the lesson, not on its path: the crawl does not use it;
// a unit test runs it beside the real coroutine on one loop and checks that
// both do the same.
#pragma once

#include "07_coroutines/io.hpp"
#include "07_coroutines/task.hpp"

#include <string>

namespace ladder::coro {

Task<void> lowered_send_all(Socket& sock, std::string data);

} // namespace ladder::coro
