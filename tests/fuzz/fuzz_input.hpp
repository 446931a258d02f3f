// What the fuzz targets share: how an input says where to split the message it
// carries, and how a target reports a finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// An input of the splitting targets: one byte n (taken modulo 8), then n piece
// lengths of one byte each (1-256), then the message. The rest of the message
// after the pieces is one more piece. A seed starting with '0' (0x30 % 8 == 0)
// carries a message fed whole, so the seeds stay readable text.
struct SplitInput {
    std::vector<std::size_t> pieces;
    std::string_view message;
};

inline SplitInput split_input(const std::uint8_t* data, std::size_t size) {
    SplitInput in;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    if (rest.empty()) return in;
    std::size_t n = static_cast<unsigned char>(rest.front()) % 8;
    rest.remove_prefix(1);
    for (; n > 0 && !rest.empty(); --n) {
        in.pieces.push_back(static_cast<unsigned char>(rest.front()) + 1u);
        rest.remove_prefix(1);
    }
    in.message = rest;
    return in;
}

// Calls feed(piece) for each piece of `message`, as `pieces` cut it.
template <typename Feed>
void feed_in_pieces(std::string_view message, const std::vector<std::size_t>& pieces, Feed feed) {
    for (std::size_t length : pieces) {
        std::string_view piece = message.substr(0, length);
        message.remove_prefix(piece.size());
        feed(piece);
    }
    feed(message);
}

template <typename Feed>
void feed_bytewise(std::string_view message, Feed feed) {
    for (std::size_t i = 0; i < message.size(); ++i) feed(message.substr(i, 1));
}

// A finding: say what broke, then abort, so libFuzzer keeps the input.
[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "finding: %s\n", what.c_str());
    std::abort();
}

} // namespace fuzz
