// 00_server's request-to-answer step without sockets: which answer each
// request gets, the page and response bytes, and what each byte-level fault
// does to them, as a client's parser sees it.
#include "answer.hpp"

#include "http.hpp"

#include <gtest/gtest.h>

#include <set>
#include <nlohmann/json.hpp>

#include <string>

using namespace ladder;

namespace {

Answer answer_for(std::string_view request, Fault server_fault = Fault::none) {
    RequestParser parser;
    auto answer = answer_bytes(parser, request, server_fault);
    EXPECT_TRUE(answer.has_value()) << request;
    return answer.value_or(Answer{});
}

// An error answer: its status, and a JSON body {"error": ...} that says `words`.
void expect_error(std::string_view request, int status, const std::string& words) {
    SCOPED_TRACE(std::string(request.substr(0, 60)));
    Answer a = answer_for(request);
    EXPECT_EQ(a.kind, Answer::Kind::now);
    EXPECT_EQ(a.status, status);
    auto body = nlohmann::json::parse(a.body);
    EXPECT_NE(body["error"].get<std::string>().find(words), std::string::npos) << a.body;
}

// What a client's parser says about `bytes` followed by the end of the stream.
std::string client_error(const std::string& bytes) {
    ResponseParser p;
    try {
        p.feed(bytes);
        p.finish();
    } catch (const HttpError& e) {
        return e.what();
    }
    return "";
}

TEST(AnswerBytes, NothingUntilTheHeadIsComplete) {
    RequestParser parser;
    EXPECT_FALSE(answer_bytes(parser, "GET /3 HTTP/1.0\r\n", Fault::none));
    auto answer = answer_bytes(parser, "\r\n", Fault::none);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->kind, Answer::Kind::page);
    EXPECT_EQ(answer->path, "/3");
    EXPECT_FALSE(answer->delay_ms); // the server's own delay
    EXPECT_EQ(answer->fault, Fault::none);
}

TEST(AnswerBytes, APageTakesItsDelayAndFaultFromTheQuery) {
    Answer a = answer_for("GET /7?delay_ms=50&fault=trickle HTTP/1.0\r\n\r\n", Fault::stall);
    EXPECT_EQ(a.kind, Answer::Kind::page);
    EXPECT_EQ(a.path, "/7");
    EXPECT_EQ(a.delay_ms, 50);
    EXPECT_EQ(a.fault, Fault::trickle); // the request's own fault wins over --fault
    EXPECT_EQ(answer_for("GET /7 HTTP/1.0\r\n\r\n", Fault::stall).fault, Fault::stall);
    EXPECT_EQ(answer_for("GET /7?fault=none HTTP/1.0\r\n\r\n", Fault::stall).fault, Fault::none);
}

TEST(AnswerBytes, StatsAreNeverFaulty) {
    Answer a = answer_for("GET /stats?reset=1 HTTP/1.0\r\n\r\n", Fault::garbage);
    EXPECT_EQ(a.kind, Answer::Kind::stats);
    EXPECT_TRUE(a.reset_stats);
    EXPECT_EQ(a.fault, Fault::none);
    EXPECT_FALSE(answer_for("GET /stats HTTP/1.0\r\n\r\n").reset_stats);
}

TEST(AnswerBytes, BadRequestsGetTheirStatusAndSayWhy) {
    expect_error("garbage\r\n\r\n", 400, "malformed request line");
    expect_error("POST / HTTP/1.0\r\n\r\n", 405, "only GET");
    expect_error("GET /?delay_ms=soon HTTP/1.0\r\n\r\n", 400, "delay_ms must be 0..600000");
    expect_error("GET /?delay_ms=600001 HTTP/1.0\r\n\r\n", 400, "delay_ms must be 0..600000");
    expect_error("GET /?fault=meteor HTTP/1.0\r\n\r\n", 400,
                 "unknown fault 'meteor'; the modes are: none, reset,");
    expect_error("GET /" + std::string(2000, 'a') + " HTTP/1.0\r\n\r\n", 414,
                 "request line over 1024");
    expect_error("GET / HTTP/1.0\r\nX: " + std::string(9000, 'v') + "\r\n\r\n", 431,
                 "request head over 8192");
}

// The request that once stopped 00_server: now a 400 whose JSON body quotes
// the byte as '?', and the step throws nothing for it.
TEST(AnswerBytes, ATargetThatIsNotAsciiIsA400WithAJsonBody) {
    expect_error("GET /\x97 HTTP/1.0\r\n\r\n", 400, "bad request target '/?'");
    expect_error("GET /\xff\xfe HTTP/1.0\r\nX: \x97\r\n\r\n", 400, "bad request target");
}

TEST(PageBody, NamesThePathTheDelayAndMsg) {
    auto page = nlohmann::json::parse(page_body("/3", 300, 0));
    EXPECT_EQ(page, (nlohmann::json{{"path", "/3"}, {"msg", "ok"}, {"delay_ms", 300}}));
    EXPECT_EQ(nlohmann::json::parse(page_body("/random", 0, 0, 0.25))["msg"], 0.25);
}

TEST(PageBody, PadsToBodyBytes) {
    for (int bytes : {60, 100, 4096, 100000}) {
        std::string body = page_body("/1", 0, bytes);
        EXPECT_EQ(body.size(), static_cast<std::size_t>(bytes));
        EXPECT_EQ(nlohmann::json::parse(body)["path"], "/1");
    }
}

// Whatever bytes a path holds, the page is JSON: dump() must never throw here.
TEST(PageBody, NeverThrowsForBytesThatAreNotUtf8) {
    std::string body;
    EXPECT_NO_THROW(body = page_body("/\x97\xff", 0, 0));
    EXPECT_TRUE(nlohmann::json::accept(body)) << body;
}

TEST(HttpResponse, IsWhatAClientParses) {
    std::string body = page_body("/3", 0, 0);
    ResponseParser p;
    p.feed(http_response(200, "OK", body));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.status(), 200);
    EXPECT_EQ(p.body(), body);
    EXPECT_EQ(client_error(http_response(404, "Not Found", "{}")), "");
}

// Each byte-level fault, and the words a client's parser finds for it.
TEST(FaultyResponse, EachFaultFailsTheClientsParserItsOwnWay) {
    std::string body = page_body("/3", 0, 0);
    EXPECT_NE(client_error(faulty_response(Fault::truncate_head, 200, "OK", body))
                  .find("truncated response: it ended inside the headers"),
              std::string::npos);
    EXPECT_NE(client_error(faulty_response(Fault::truncate_body, 200, "OK", body))
                  .find("truncated response: got " + std::to_string(body.size() / 2) + " of " +
                        std::to_string(body.size()) + " body bytes"),
              std::string::npos);
    EXPECT_NE(
        client_error(faulty_response(Fault::garbage, 200, "OK", body)).find("not an HTTP response"),
        std::string::npos);
    EXPECT_NE(client_error(faulty_response(Fault::wrong_length, 200, "OK", body))
                  .find("more bytes than Content-Length announced"),
              std::string::npos);
    for (Fault f : {Fault::none, Fault::trickle, Fault::stall})
        EXPECT_EQ(faulty_response(f, 200, "OK", body), http_response(200, "OK", body));
}

TEST(FaultNames, EveryNameComesBackAsItsFault) {
    auto names = fault_names();
    ASSERT_EQ(names.front(), "none");
    EXPECT_EQ(names.size(), 11u);
    for (const auto& name : names) {
        auto fault = fault_named(name);
        ASSERT_TRUE(fault) << name;
        EXPECT_EQ(fault_name(*fault), name);
    }
    EXPECT_FALSE(fault_named("Reset"));
    EXPECT_FALSE(fault_named(""));
}

} // namespace

// --- the linked site (site.hpp) ---------------------------------------------------------------

TEST(Site, TheSameSeedMakesTheSameSiteAndLinksStayInsideOrDieOutside) {
    Site site{30, 3}, again{30, 3}, other{30, 4};
    int dead = 0, links = 0;
    bool differs = false;
    for (int page = 0; page < site.pages; ++page) {
        auto l = site.links_of(page);
        EXPECT_EQ(l, again.links_of(page));
        differs = differs || l != other.links_of(page);
        EXPECT_GE(l.size(), 2u);
        EXPECT_LE(l.size(), 4u);
        for (const std::string& link : l) {
            auto n = Site::page_of(link);
            ASSERT_TRUE(n) << link;
            EXPECT_LT(*n, site.pages + site.pages / 10 + 1);
            dead += !site.exists(*n);
            ++links;
        }
    }
    EXPECT_TRUE(differs);
    EXPECT_GT(dead, 0);          // a few dead links...
    EXPECT_LT(dead, links / 4);  // ...not many
    EXPECT_FALSE(Site::page_of("/site/"));
    EXPECT_FALSE(Site::page_of("/site/3x"));
    EXPECT_FALSE(Site::page_of("/3"));
}

TEST(Site, ReachableIsClosedUnderTheLinks) {
    Site site{30, 3};
    std::set<int> reached = site.reachable_from(0);
    EXPECT_TRUE(reached.count(0));
    for (int page : reached)
        for (const std::string& link : site.links_of(page)) {
            auto n = Site::page_of(link);
            if (n && site.exists(*n)) {
                EXPECT_TRUE(reached.count(*n)) << link;
            }
        }
}

TEST(Site, ADeadLinkIs404AndALivePageListsItsLinks) {
    Site site{30, 3};
    RequestParser dead_parser, live_parser;
    auto dead = answer_bytes(dead_parser, "GET /site/31 HTTP/1.0\r\n\r\n", Fault::none, site);
    ASSERT_TRUE(dead);
    EXPECT_EQ(dead->status, 404);
    auto live = answer_bytes(live_parser, "GET /site/7 HTTP/1.0\r\n\r\n", Fault::none, site);
    ASSERT_TRUE(live);
    EXPECT_EQ(live->kind, Answer::Kind::page);
    auto links = site.links_of(7);
    auto page = nlohmann::json::parse(page_body("/site/7", 0, 0, std::nullopt, &links));
    EXPECT_EQ(page["links"].get<std::vector<std::string>>(), links);
    EXPECT_EQ(page["path"], "/site/7");
}
