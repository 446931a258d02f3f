#include "error.hpp"

#include <cerrno>
#include <cstring>

namespace ladder {

static std::string describe(std::string_view call, std::string_view what, int err) {
    std::string text(call);
    if (!what.empty()) {
        text += ' ';
        text += what;
    }
    text += ": ";
    text += std::strerror(err);
    return text;
}

SysError::SysError(std::string_view call, std::string_view what, int err)
    : std::runtime_error(describe(call, what, err)), code_(err) {}

void throw_errno(std::string_view call, std::string_view what) {
    throw SysError(call, what, errno);
}

} // namespace ladder
