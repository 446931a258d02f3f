// The C library's own function behind one of the patch's: the next definition
// of `name` after ours (or ASan's wrapper of it), asked of the dynamic linker.
#pragma once

#include <dlfcn.h>

#include <bit>

namespace ladder::green {

template <typename Function>
Function real(const char* name) {
    return std::bit_cast<Function>(::dlsym(RTLD_NEXT, name));
}

} // namespace ladder::green
