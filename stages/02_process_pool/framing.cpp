#include "framing.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace ladder {

namespace {

constexpr std::uint32_t max_message = 64u << 20; // more than this is garbage, not a message

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        // MSG_NOSIGNAL: a dead reader is an EPIPE error here, not a SIGPIPE that kills us.
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("send (message)");
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

// Reads exactly `size` bytes; returns how many arrived before end of stream.
std::size_t read_exact(int fd, char* data, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::recv(fd, data + got, size - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("recv (message)");
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

} // namespace

void send_message(int fd, std::string_view message) {
    if (message.size() > max_message) throw std::length_error("message too long to send");
    auto size = static_cast<std::uint32_t>(message.size());
    char header[sizeof size];
    std::memcpy(header, &size, sizeof size); // both ends are on this machine: native byte order
    write_all(fd, header, sizeof header);
    write_all(fd, message.data(), message.size());
}

std::optional<std::string> recv_message(int fd) {
    char header[sizeof(std::uint32_t)];
    std::size_t got = read_exact(fd, header, sizeof header);
    if (got == 0) return std::nullopt; // closed between messages
    if (got < sizeof header) throw std::runtime_error("message cut short in its length");
    std::uint32_t size = 0;
    std::memcpy(&size, header, sizeof size);
    if (size > max_message)
        throw std::runtime_error("message length " + std::to_string(size) + " is too large");
    std::string message(size, '\0');
    if (read_exact(fd, message.data(), size) < size)
        throw std::runtime_error("message cut short after its length");
    return message;
}

} // namespace ladder
