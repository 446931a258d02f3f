// Errors that say which call failed, on what, and why (errno's text).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace ladder {

// A failed system call: "connect 127.0.0.1:8080: Connection refused".
class SysError : public std::runtime_error {
  public:
    SysError(std::string_view call, std::string_view what, int err);
    int code() const noexcept { return code_; }

  private:
    int code_;
};

// A wait that ran past its deadline (--timeout-ms).
class TimeoutError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws SysError(call, what, errno) — for the line right after a failed call.
[[noreturn]] void throw_errno(std::string_view call, std::string_view what = {});

} // namespace ladder
