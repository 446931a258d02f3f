// How much memory parse_page() takes for a hostile page: a server must not be
// able to make a client use much more than the bytes it sent. (A parsed JSON
// tree once took 667 MB for a 16 MiB body of '['.) This program replaces
// operator new, so it counts every byte allocated and measures the peak
// exactly, where the process's RSS would also count the allocator's caches.
#include "page.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

} // namespace

void* operator new(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (!p) throw std::bad_alloc();
    std::size_t now = live_bytes += malloc_usable_size(p);
    std::size_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return p;
}

void operator delete(void* p) noexcept {
    if (!p) return;
    live_bytes -= malloc_usable_size(p);
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
    operator delete(p);
}

namespace {

using ladder::HttpError;
using ladder::parse_page;

// The most memory `step` had allocated at one moment, beyond what was live before.
template <typename Step>
std::size_t peak_bytes_of(Step step) {
    std::size_t before = live_bytes.load();
    peak_bytes = before;
    step();
    return peak_bytes.load() - before;
}

std::string response_with(const std::string& body) {
    return "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A body of `bytes` bytes: `open`, then `item` repeated (comma-separated when
// `comma`), then `close`.
std::string body_of(std::size_t bytes, const std::string& open, const std::string& item,
                    const std::string& close, bool comma = true) {
    std::string body = open;
    while (body.size() + item.size() + 1 + close.size() < bytes) {
        if (comma && body.size() > open.size()) body += ',';
        body += item;
    }
    return body + close;
}

constexpr std::size_t body_size = 4 << 20; // 4 MiB: big enough to see, quick to parse

// Structure costs nothing: nesting, and many small values, are read and
// forgotten. (Parsed into a tree, each '[' cost about 40 bytes.)
TEST(PageMemory, HostileStructureCostsAFewTimesItsSize) {
    struct Case {
        const char* name;
        std::string body;
    };
    const Case cases[] = {
        {"nested arrays", std::string(body_size, '[')},
        {"many empty objects", body_of(body_size, "[", "{}", "]")},
        {"many small numbers", body_of(body_size, "[", "0", "]")},
        {"many keys", body_of(body_size, "{\"path\":\"/4\"", ",\"k\":0", "}", false)},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::string response = response_with(c.body);
        std::size_t used =
            peak_bytes_of([&] { EXPECT_THROW(parse_page(response, "/3"), HttpError); });
        EXPECT_LT(used, 3 * response.size()) << used << " bytes for " << response.size();
    }
}

// One long string costs more: nlohmann's lexer keeps two copies of the token it
// reads (the decoded text, and the raw bytes for its error messages), and each
// grows by doubling. The server's own padded page (--body-bytes) is one.
TEST(PageMemory, ALongStringCostsAFewTimesItsSize) {
    std::string hostile = body_of(body_size, "[\"", "x", "\"]", false);
    std::string padded =
        R"({"path":"/3","msg":"ok","delay_ms":0,"pad":")" + std::string(body_size, 'x') + "\"}";
    std::string response = response_with(hostile);
    std::size_t used = peak_bytes_of([&] { EXPECT_THROW(parse_page(response, "/3"), HttpError); });
    EXPECT_LT(used, 8 * response.size()) << used << " bytes for " << response.size();
    response = response_with(padded);
    used = peak_bytes_of([&] { EXPECT_NO_THROW(parse_page(response, "/3")); });
    EXPECT_LT(used, 8 * response.size()) << used << " bytes for " << response.size();
}

} // namespace
