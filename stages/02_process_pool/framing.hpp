// Whole messages over a stream socket. A stream is just bytes with no
// boundaries, so each message goes as a 4-byte length followed by that many
// bytes; the reader takes the length first and then exactly that much.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ladder {

// Writes one whole message. Throws SysError (EPIPE: the other side is gone).
void send_message(int fd, std::string_view message);

// Reads one whole message. std::nullopt means a clean end of stream: the
// other side closed between two messages. Throws SysError, or
// std::runtime_error for a message cut short or with an absurd length.
std::optional<std::string> recv_message(int fd);

} // namespace ladder
