// 05_callbacks against a real 00_server, and against servers that misbehave.
// The tests are shared with 06 (all_at_once_tests.hpp): same behaviour, other code.
#include "all_at_once_tests.hpp"

using all_at_once::AllAtOnce;

INSTANTIATE_TEST_SUITE_P(Stage05, AllAtOnce, ::testing::Values("05_callbacks"),
                         [](const auto& info) { return info.param; });
