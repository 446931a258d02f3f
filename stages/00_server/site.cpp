#include "site.hpp"

#include <charconv>
#include <random>

namespace ladder {

std::string site_path(int page) {
    return "/site/" + std::to_string(page);
}

std::optional<int> Site::page_of(std::string_view path) {
    constexpr std::string_view prefix = "/site/";
    if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::string_view digits = path.substr(prefix.size());
    int page = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), page);
    if (ec != std::errc{} || end != digits.data() + digits.size() || page < 0) return std::nullopt;
    return page;
}

std::vector<std::string> Site::links_of(int page) const {
    // Two to four links, each to any page — or, one time in ten, to a page
    // past the end: a dead link. Drawn from the seed and the page alone.
    std::mt19937 draw(seed * 1000003u + static_cast<unsigned>(page));
    int count = 2 + static_cast<int>(draw() % 3);
    std::vector<std::string> links;
    for (int i = 0; i < count; ++i) links.push_back(site_path(static_cast<int>(draw() % (pages + pages / 10 + 1))));
    return links;
}

std::set<int> Site::reachable_from(int root) const {
    std::set<int> seen;
    std::vector<int> todo;
    if (exists(root)) todo.push_back(root);
    while (!todo.empty()) {
        int page = todo.back();
        todo.pop_back();
        if (!seen.insert(page).second) continue;
        for (const std::string& link : links_of(page))
            if (auto next = page_of(link); next && exists(*next) && !seen.count(*next)) todo.push_back(*next);
    }
    return seen;
}

} // namespace ladder
