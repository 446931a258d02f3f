// 06_generators against a real 00_server, and against servers that misbehave.
// The tests are shared with 05 (all_at_once_tests.hpp): same behaviour, other code.
// Future, Task and the trampoline have unit tests of their own: tests/unit/test_generators.cpp.
#include "all_at_once_tests.hpp"

using all_at_once::AllAtOnce;

INSTANTIATE_TEST_SUITE_P(Stage06, AllAtOnce, ::testing::Values("06_generators"),
                         [](const auto& info) { return info.param; });
