#include "answer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace ladder {
namespace {

constexpr std::array<std::pair<Fault, std::string_view>, 11> fault_table = {{
    {Fault::none, "none"},
    {Fault::reset, "reset"},
    {Fault::reset_after_delay, "reset-after-delay"},
    {Fault::close_early, "close-early"},
    {Fault::truncate_head, "truncate-head"},
    {Fault::truncate_body, "truncate-body"},
    {Fault::stall, "stall"},
    {Fault::trickle, "trickle"},
    {Fault::garbage, "garbage"},
    {Fault::wrong_length, "wrong-length"},
    {Fault::throw_error, "throw"},
}};

// JSON text that cannot throw: nlohmann's dump() throws on bytes that are not
// UTF-8 (type_error 316), which once let one request stop the whole server.
// Such a byte becomes U+FFFD here instead.
std::string json_text(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Answer error_answer(int status, std::string reason, const std::string& error) {
    Answer answer;
    answer.status = status;
    answer.reason = std::move(reason);
    answer.body = json_text({{"error", error}});
    return answer;
}

bool parse_delay(std::string_view text, int& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && out >= 0 && out <= 600'000;
}

std::string all_fault_names() {
    std::string names;
    for (const auto& [fault, name] : fault_table)
        names += (names.empty() ? "" : ", ") + std::string(name);
    return names;
}

Answer answer_request(const Request& request, Fault server_fault, const Site& site) {
    if (request.method != "GET")
        return error_answer(405, "Method Not Allowed", "only GET is served");
    std::string_view query = request.query();
    Answer answer;
    if (request.path() == "/stats") { // at once, and never faulty: the tools read it
        answer.kind = Answer::Kind::stats;
        answer.reset_stats = query_param(query, "reset") == "1";
        return answer;
    }
    if (auto page = Site::page_of(request.path()); page && !site.exists(*page))
        return error_answer(404, "Not Found", "no page " + std::string(request.path()) +
                                                  ": a dead link of the site");
    answer.kind = Answer::Kind::page;
    answer.path = request.path();
    answer.fault = server_fault;
    if (auto text = query_param(query, "delay_ms"); !text.empty()) {
        int delay_ms = 0;
        if (!parse_delay(text, delay_ms))
            return error_answer(400, "Bad Request", "delay_ms must be 0..600000");
        answer.delay_ms = delay_ms;
    }
    if (auto name = query_param(query, "fault"); !name.empty()) {
        auto fault = fault_named(name);
        if (!fault)
            return error_answer(400, "Bad Request",
                                "unknown fault '" + std::string(name) +
                                    "'; the modes are: " + all_fault_names());
        answer.fault = *fault;
    }
    return answer;
}

std::string head(int status, std::string_view reason, std::size_t content_length) {
    return "HTTP/1.0 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(content_length) + "\r\nConnection: close\r\n\r\n";
}

} // namespace

std::optional<Fault> fault_named(std::string_view name) {
    for (const auto& [fault, fault_name] : fault_table)
        if (fault_name == name) return fault;
    return std::nullopt;
}

std::string_view fault_name(Fault fault) {
    for (const auto& [each, name] : fault_table)
        if (each == fault) return name;
    return "?";
}

std::vector<std::string> fault_names() {
    std::vector<std::string> names;
    for (const auto& entry : fault_table) names.emplace_back(entry.second);
    return names;
}

std::optional<Answer> answer_bytes(RequestParser& parser, std::string_view bytes,
                                   Fault server_fault, const Site& site) {
    try {
        if (!parser.feed(bytes)) return std::nullopt;
    } catch (const RequestParser::RequestLineTooLong& e) {
        return error_answer(414, "URI Too Long", e.what());
    } catch (const RequestParser::HeadersTooLarge& e) {
        return error_answer(431, "Request Header Fields Too Large", e.what());
    } catch (const HttpError& e) {
        return error_answer(400, "Bad Request", e.what());
    }
    return answer_request(parser.request(), server_fault, site);
}

std::string page_body(std::string_view path, int delay_ms, int body_bytes,
                      std::optional<double> msg, const std::vector<std::string>* links) {
    nlohmann::json page = {{"path", path}, {"msg", "ok"}, {"delay_ms", delay_ms}};
    if (msg) page["msg"] = *msg;
    if (links) page["links"] = *links;
    std::string body = json_text(page);
    auto wanted = static_cast<std::size_t>(std::max(body_bytes, 0));
    if (body.size() < wanted) { // pad it: clients then need several reads per page
        constexpr std::size_t pad_overhead = sizeof(R"(,"pad":"")") - 1;
        page["pad"] = std::string(wanted - std::min(wanted, body.size() + pad_overhead), 'x');
        body = json_text(page);
    }
    return body;
}

std::string http_response(int status, std::string_view reason, std::string_view body) {
    return head(status, reason, body.size()) + std::string(body);
}

std::string faulty_response(Fault fault, int status, std::string_view reason,
                            std::string_view body) {
    switch (fault) {
    case Fault::truncate_head: {
        std::string whole_head = head(status, reason, body.size());
        return whole_head.substr(0, whole_head.size() / 2);
    }
    case Fault::truncate_body:
        return head(status, reason, body.size()) + std::string(body.substr(0, body.size() / 2));
    case Fault::garbage:
        return "this is not HTTP, just garbage (00_server's fault 'garbage')\r\n\r\n";
    case Fault::wrong_length: // says half, sends all: the rest looks like a second answer
        return head(status, reason, body.size() / 2) + std::string(body);
    default:
        return http_response(status, reason, body);
    }
}

} // namespace ladder
