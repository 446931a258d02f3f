// A small linked website for a crawler that discovers its work as it goes
// (stage 08's crawl, the 500 Lines crawler's design): /site/0 to /site/N-1,
// each page naming links to others — with duplicates, cycles, and now and
// then a link to a page that does not exist (404). The same seed makes the
// same site, so a test knows which pages a crawl from /site/0 must reach.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ladder {

struct Site {
    int pages = 30;
    unsigned seed = 1;

    // "/site/7" -> 7; any other path -> nothing. (A number >= pages is a dead link.)
    static std::optional<int> page_of(std::string_view path);
    bool exists(int page) const noexcept { return page >= 0 && page < pages; }
    // The links of an existing page, as paths, in the page's order.
    std::vector<std::string> links_of(int page) const;
    // Every existing page a crawl from `root` reaches (the answer a test checks).
    std::set<int> reachable_from(int root) const;
};

std::string site_path(int page); // "/site/7"

} // namespace ladder
