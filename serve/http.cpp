// The HTTP server of wtasim serve on Boost.Beast (serve/http.hpp). One strand per connection; reads and writes
// are asynchronous with a deadline on the connection's stream; a streamed response's producer runs on its own
// thread and hands each chunk to the connection's strand, waiting until it is written.
#include "serve/http.hpp"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/error.hpp"

namespace wtasim::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::string request::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

response error_response(int status, const std::string& message) {
    response r;
    r.status = status;
    r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return r;
}

bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        out += char(hi * 16 + lo);
        i += 2;
    }
    return true;
}

struct server::impl : std::enable_shared_from_this<server::impl> {
    limits lim;
    handler handle;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::atomic<bool> stopping{false};
    std::atomic<unsigned> connections{0}, streams{0};
    std::mutex m;
    std::condition_variable streams_done;

    void accept();
};

namespace {

class session;

// A producer thread's view of its connection: each chunk is written by the connection's strand; the producer
// waits for it (in short slices, so that a stopping server is noticed).
class chunk_writer final : public stream_writer {
public:
    chunk_writer(std::shared_ptr<session> s) : s_(std::move(s)) {}
    bool write(std::string_view chunk) override;
    bool finish();

private:
    bool send(std::function<void(std::function<void(bool)>)> op);
    std::shared_ptr<session> s_;
    bool failed_ = false;
};

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, std::shared_ptr<server::impl> srv) : stream_(std::move(socket)), srv_(std::move(srv)) {}
    ~session() { --srv_->connections; }

    void start() {
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read, shared_from_this()));
    }

    beast::tcp_stream& stream() { return stream_; }
    server::impl& srv() { return *srv_; }

private:
    void read() {
        if (srv_->stopping) return close();
        parser_.emplace();
        parser_->header_limit(std::uint32_t(std::min<std::size_t>(srv_->lim.header_bytes, UINT32_MAX)));
        parser_->body_limit(srv_->lim.body_bytes);
        stream_.expires_after(srv_->lim.read_timeout);
        bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
    }

    void on_read(error_code ec, std::size_t) {
        if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset || ec == net::error::eof)
            return close();
        if (ec == bhttp::error::body_limit)
            return reply(error_response(413, "request body over " + std::to_string(srv_->lim.body_bytes) + " bytes"),
                         false);
        if (ec == bhttp::error::header_limit)
            return reply(
                error_response(431, "request header over " + std::to_string(srv_->lim.header_bytes) + " bytes"), false);
        if (ec) return reply(error_response(400, "malformed HTTP request: " + ec.message()), false);

        bhttp::request<bhttp::string_body> msg = parser_->release();
        request q;
        q.method = std::string(msg.method_string());
        q.target = std::string(msg.target());
        const std::size_t mark = q.target.find('?');
        const std::string_view raw_path = std::string_view(q.target).substr(0, mark);
        if (mark != std::string::npos) q.query = q.target.substr(mark + 1);
        for (const auto& field : msg) {
            std::string name(field.name_string());
            for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
            q.headers[name] = std::string(field.value());
        }
        q.body = std::move(msg.body());
        const bool keep_alive = msg.keep_alive();
        version_ = msg.version();  // an HTTP/1.0 client gets 1.0 answers (and "Connection: keep-alive" when kept)
        if (!percent_decode(raw_path, q.path) || q.path.empty() || q.path[0] != '/')
            return reply(error_response(400, "malformed request target " +
                                                 nlohmann::json(q.target).dump(
                                                     -1, ' ', false, nlohmann::json::error_handler_t::replace)),
                         false);
        response r;
        try {
            r = srv_->handle(q);
        } catch (const std::exception& e) {
            r = error_response(500, std::string("internal error: ") + e.what());
        }
        if (r.stream) return start_stream(std::move(r));
        reply(std::move(r), keep_alive);
    }

    template <class Message>
    void decorate(Message& res, const response& r, bool keep_alive) {
        res.set(bhttp::field::server, "wtasim");
        res.set(bhttp::field::content_type, r.content_type);
        res.set(bhttp::field::cache_control, "no-store");
        res.set("X-Content-Type-Options", "nosniff");
        for (const auto& [k, v] : r.headers) res.set(k, v);
        res.keep_alive(keep_alive);
    }

    void reply(response r, bool keep_alive) {
        if (!r.file.empty()) {
            bhttp::file_body::value_type body;
            error_code ec;
            body.open(r.file.c_str(), beast::file_mode::scan, ec);
            if (ec) {
                r = error_response(404, r.file.substr(r.file.find_last_of('/') + 1) + ": " + ec.message());
            } else {
                auto res = std::make_shared<bhttp::response<bhttp::file_body>>(
                    std::piecewise_construct, std::make_tuple(std::move(body)),
                    std::make_tuple(bhttp::status(r.status), version_));
                decorate(*res, r, keep_alive);
                res->prepare_payload();
                // a download may take the write timeout plus one second per MiB (a trace or a checkpoint)
                const auto size = res->body().size();
                return send(res, srv_->lim.write_timeout + std::chrono::seconds(size >> 20));
            }
        }
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status(r.status), version_);
        decorate(*res, r, keep_alive);
        res->body() = std::move(r.body);
        res->prepare_payload();
        send(res);
    }

    template <class Body>
    void send(std::shared_ptr<bhttp::response<Body>> res, std::chrono::milliseconds deadline = {}) {
        stream_.expires_after(deadline.count() ? deadline : srv_->lim.write_timeout);
        bhttp::async_write(stream_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
            if (ec) return self->close();
            if (!res->keep_alive()) return self->drain_and_close();
            self->read();
        });
    }

    // After a reply that ends the connection: stop sending, then read and drop what the client still sends (for
    // at most a second), so that closing with unread input does not reset the connection before the client has
    // read the reply.
    void drain_and_close() {
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(std::chrono::seconds(1));
        auto sink = std::make_shared<std::array<char, 4096>>();
        stream_.async_read_some(net::buffer(*sink), [self = shared_from_this(), sink](error_code e, std::size_t) {
            if (e) return self->close();
            self->drain_more(sink);
        });
    }
    void drain_more(std::shared_ptr<std::array<char, 4096>> sink) {
        stream_.async_read_some(net::buffer(*sink), [self = shared_from_this(), sink](error_code e, std::size_t) {
            if (e) return self->close();
            self->drain_more(sink);
        });
    }

    void start_stream(response r) {
        if (++srv_->streams > srv_->lim.max_streams) {
            --srv_->streams;
            return reply(error_response(503, "busy: " + std::to_string(srv_->lim.max_streams) +
                                                 " streamed responses are running; try again shortly"),
                         false);
        }
        auto head = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status(r.status), 11);
        decorate(*head, r, false);
        head->chunked(true);
        head_ = head;
        serializer_ = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
        auto self = shared_from_this();
        auto produce = [self, head, r = std::move(r)]() mutable {
            {
                chunk_writer out(self);
                bool ok = out.write({});  // the header first (an empty chunk is never sent)
                if (ok) {
                    try {
                        r.stream(out);
                    } catch (const std::exception& e) {  // after the header, an error can only end the stream
                        out.write(nlohmann::json{{"event", "error"}, {"error", e.what()}}.dump(
                                      -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                                  "\n");
                    }
                    out.finish();
                }
            }
            net::post(self->stream_.get_executor(), [self] { self->close(); });
            server::impl& srv = self->srv();
            std::lock_guard lock(srv.m);
            --srv.streams;
            srv.streams_done.notify_all();
        };
        try {
            std::thread(std::move(produce)).detach();
        } catch (const std::system_error&) {  // no thread to be had: the stream never started
            --srv_->streams;
            reply(error_response(503, "busy: cannot start a thread for the stream"), false);
        }
    }

    void close() {
        error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    friend class chunk_writer;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::shared_ptr<server::impl> srv_;
    std::shared_ptr<bhttp::response<bhttp::empty_body>> head_;
    std::shared_ptr<bhttp::response_serializer<bhttp::empty_body>> serializer_;
    bool head_sent_ = false;
    unsigned version_ = 11;
};

bool chunk_writer::send(std::function<void(std::function<void(bool)>)> op) {
    if (failed_) return false;
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> result = done->get_future();
    net::post(s_->stream().get_executor(),
              [op = std::move(op), done] { op([done](bool ok) { done->set_value(ok); }); });
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
        if (s_->srv().stopping) return !(failed_ = true);  // the strand may never run again; the session is leaked
    failed_ = !result.get();
    return !failed_;
}

bool chunk_writer::write(std::string_view chunk) {
    auto s = s_;
    if (!s->head_sent_) {
        const bool ok = send([s](std::function<void(bool)> done) {
            s->stream_.expires_after(s->srv_->lim.write_timeout);
            bhttp::async_write_header(s->stream_, *s->serializer_,
                                      [s, done](error_code ec, std::size_t) { done(!ec); });
        });
        s->head_sent_ = true;
        if (!ok || chunk.empty()) return ok;
    }
    if (chunk.empty()) return !failed_;
    auto data = std::make_shared<std::string>(chunk);
    return send([s, data](std::function<void(bool)> done) {
        s->stream_.expires_after(s->srv_->lim.write_timeout);
        net::async_write(s->stream_, bhttp::make_chunk(net::buffer(*data)),
                         [data, done](error_code ec, std::size_t) { done(!ec); });
    });
}

bool chunk_writer::finish() {
    auto s = s_;
    return send([s](std::function<void(bool)> done) {
        s->stream_.expires_after(s->srv_->lim.write_timeout);
        net::async_write(s->stream_, bhttp::make_chunk_last(), [done](error_code ec, std::size_t) { done(!ec); });
    });
}

}  // namespace

void server::impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (self->stopping) return;
        if (!ec) {
            if (self->connections >= self->lim.max_connections) {
                error_code ignore;
                socket.close(ignore);  // over the limit: refused at once, not queued
            } else {
                ++self->connections;
                std::make_shared<session>(std::move(socket), self)->start();
            }
        }
        if (ec) {  // out of descriptors, say: try again shortly instead of spinning
            auto pause = std::make_shared<net::steady_timer>(self->ioc, std::chrono::milliseconds(100));
            pause->async_wait([self, pause](error_code) { self->accept(); });
            return;
        }
        self->accept();
    });
}

server::server(const std::string& address, unsigned short port, const limits& l, handler h)
    : m_(std::make_shared<impl>()) {
    m_->lim = l;
    m_->handle = std::move(h);
    const std::string where = address + ":" + std::to_string(port);
    error_code ec;
    const auto addr = net::ip::make_address(address, ec);
    if (ec) throw io_error(where + ": not an IP address (" + ec.message() + ")");
    const tcp::endpoint ep(addr, port);
    m_->acceptor.open(ep.protocol(), ec);
    if (!ec) m_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m_->acceptor.bind(ep, ec);
    if (!ec) m_->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw io_error(where + ": cannot listen (" + ec.message() + ")");
}

server::~server() {
    stop();
}

unsigned short server::port() const {
    error_code ec;
    return m_->acceptor.local_endpoint(ec).port();
}

void server::run() {
    m_->accept();
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < std::max(1u, m_->lim.threads); ++i) threads.emplace_back([this] { m_->ioc.run(); });
    m_->ioc.run();
    for (auto& t : threads) t.join();
    std::unique_lock lock(m_->m);  // producers notice `stopping` within 100 ms
    m_->streams_done.wait_for(lock, std::chrono::seconds(5), [this] { return m_->streams == 0; });
}

void server::stop() {
    if (m_->stopping.exchange(true)) return;
    net::post(m_->ioc, [m = m_] {
        error_code ec;
        m->acceptor.close(ec);
        m->ioc.stop();
    });
}

}  // namespace wtasim::http
