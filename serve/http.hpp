// A small HTTP/1.1 server on Boost.Beast for wtasim serve (docs/serve.md). Nothing of Beast or Asio shows in
// this header: the service sees plain requests and responses, and only serve/http.cpp compiles Beast.
//   - every request must arrive whole within `read_timeout` of the moment the server starts waiting for it
//     (so an idle keep-alive connection and a client that sends its header a byte at a time are both dropped);
//   - a header over `header_bytes` is answered 431, a body over `body_bytes` 413, malformed HTTP 400, each
//     with a JSON error and the connection closed; the server itself never stops on a client's bytes;
//   - a handler's exception becomes 500 with its message; a streamed response is produced on its own thread
//     (at most `max_streams` at once, 503 beyond) and sent with chunked transfer encoding.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wtasim::http {

struct request {
    std::string method;                          // "GET"
    std::string target;                          // as sent: "/v1/runs?limit=5"
    std::string path;                            // the target's path, percent-decoded
    std::string query;                           // after '?', as sent
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& lower_case_name) const;
};

// Where a streamed response writes its chunks; write() returns false once the client is gone (or the server
// stops), and the producer should then stop.
class stream_writer {
public:
    virtual ~stream_writer() = default;
    virtual bool write(std::string_view chunk) = 0;
};

struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string file;  // when set, the body is this file's contents, read as it is sent
    std::vector<std::pair<std::string, std::string>> headers;
    std::function<void(stream_writer&)> stream;  // when set, a streamed body (the connection closes after it)
};

struct limits {
    std::size_t header_bytes = 8 * 1024;
    std::size_t body_bytes = 1024 * 1024;
    std::chrono::milliseconds read_timeout{10000};
    std::chrono::milliseconds write_timeout{30000};
    unsigned threads = 2;
    unsigned max_connections = 512;
    unsigned max_streams = 4;
};

using handler = std::function<response(const request&)>;

// "%2e%2E" -> "..": false for a malformed escape or an encoded NUL.
bool percent_decode(std::string_view in, std::string& out);

// {"error": message} with `status`.
response error_response(int status, const std::string& message);

class server {
public:
    // Binds `address`:`port` (0 = any free port) and listens; io_error "<address>:<port>: <reason>" otherwise.
    server(const std::string& address, unsigned short port, const limits& l, handler h);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    unsigned short port() const;
    // Serves on `limits.threads` threads until stop(); returns when every thread and stream has ended.
    void run();
    void stop();  // from any thread

    struct impl;  // serve/http.cpp's connections share it

private:
    std::shared_ptr<impl> m_;
};

}  // namespace wtasim::http
