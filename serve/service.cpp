// wtasim serve's routes (serve/service.hpp): authentication, the run queue's API, artefacts, generation, the
// API description and the dashboard.
#include "serve/service.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "scenarios/common.hpp"
#include "scenarios/generate.hpp"
#include "scenarios/run.hpp"
#include "scenarios/task.hpp"
#include "scenarios/train.hpp"
#include "serve/embedded.hpp"

namespace wtasim::serve {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

http::response json_response(int status, const json& j) {
    http::response r;
    r.status = status;
    r.body = dump(j);
    return r;
}

// Equal strings in time that depends on their lengths only.
bool same_secret(const std::string& a, const std::string& b) {
    volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff = diff | static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

// DIR/token: 32 random bytes in hex, created once with mode 0600 (and put back to 0600 if it was widened).
std::string load_or_create_token(const std::string& path, std::ostream& out) {
    if (fs::exists(path)) {
        std::string text = file_tail(path, 4096);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
        if (text.size() < 32) throw io_error(path + ": holds no usable token (remove it and a new one is made)");
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077)) {
            ::chmod(path.c_str(), 0600);
            out << "wtasim serve: " << path << " was readable by others; its mode is now 0600\n";
        }
        return text;
    }
    unsigned char bytes[32];
    for (std::size_t got = 0; got < sizeof bytes;) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n <= 0) throw io_error("cannot read random bytes for the token");
        got += std::size_t(n);
    }
    static const char* hex = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) token += hex[b >> 4], token += hex[b & 15];
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw io_error(path + ": cannot create the token file");
    const std::string line = token + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw io_error(path + ": cannot write the token file");
    out << "wtasim serve: created a new API token in " << path << " (mode 0600)\n";
    return token;
}

// The artefacts a run folder may hold, in the order lists show them, with their media types.
const std::pair<const char*, const char*> artefact_types[] = {
    {"report.json", "application/json"},
    {"report.md", "text/markdown; charset=utf-8"},
    {"report.html", "text/html; charset=utf-8"},
    {"trace.h5", "application/x-hdf5"},
    {"result.json", "application/json"},
    {"predictions.jsonl", "application/x-ndjson"},
    {"predictions-ann.jsonl", "application/x-ndjson"},
    {"checkpoint.h5", "application/x-hdf5"},
    {"spiking.h5", "application/x-hdf5"},
    {"ann.h5", "application/x-hdf5"},
    {"metrics.jsonl", "application/x-ndjson"},
    {"scenario.json", "application/json"},
    {"stdout.log", "text/plain; charset=utf-8"},
    {"stderr.log", "text/plain; charset=utf-8"},
};

bool regular_file(const std::string& path) {
    std::error_code err;
    return fs::symlink_status(path, err).type() == fs::file_type::regular;  // a link is never followed
}

// Splits "/v1/runs/r000001/report.json" into its segments.
std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t at = 1;
    while (at <= path.size()) {
        std::size_t end = path.find('/', at);
        if (end == std::string::npos) end = path.size();
        out.push_back(path.substr(at, end - at));
        at = end + 1;
    }
    if (!out.empty() && out.back().empty()) out.pop_back();  // a trailing slash
    return out;
}

// The last `progress-json:` line the run's stderr holds, summarised: every scope, and the innermost counted one's
// fraction, rate and ETA.
json progress_of(const std::string& stderr_path) {
    const std::string tail = file_tail(stderr_path, 65536);
    const std::string mark = "progress-json: ";
    json scopes;
    for (std::size_t at = 0, end; (end = tail.find('\n', at)) != std::string::npos; at = end + 1)
        if (tail.compare(at, mark.size(), mark) == 0)  // complete lines only: the last may still be written
            scopes = json::parse(tail.substr(at + mark.size(), end - at - mark.size()), nullptr, false);
    if (!scopes.is_array() || scopes.empty()) return nullptr;
    json p{{"scopes", scopes},    {"label", scopes.back().value("label", "")},
           {"fraction", nullptr}, {"done", nullptr},
           {"total", nullptr},    {"unit", ""},
           {"rate", nullptr},     {"rate_unit", ""},
           {"eta_s", nullptr},    {"detail", ""}};
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
        if (!it->contains("total") || (*it)["total"].get<double>() <= 0) continue;
        const double done = (*it)["done"].get<double>(), total = (*it)["total"].get<double>();
        p["fraction"] = std::min(1.0, done / total);
        for (const char* k : {"label", "done", "total", "unit", "rate", "rate_unit", "eta_s", "detail"})
            p[k] = (*it)[k];
        break;
    }
    std::string stage;
    for (const auto& s : scopes)
        if (!s.value("stage", "").empty()) stage = s.value("stage", "");
    p["stage"] = stage;
    return p;
}

// What a run has measured so far: a training's last logged step and evaluation, a task's result, a
// simulation's energy totals.
json metrics_of(const run_record& r, const std::string& dir) {
    json m = json::object();
    if (r.kind == "train") {
        const std::string tail = file_tail(dir + "/metrics.jsonl", 65536);
        std::size_t at = 0;
        while (at < tail.size()) {
            std::size_t end = tail.find('\n', at);
            if (end == std::string::npos) break;
            const json line = json::parse(tail.substr(at, end - at), nullptr, false);
            if (line.is_object()) m[line.contains("split") ? "eval" : "train"] = line;
            at = end + 1;
        }
    } else if (r.kind == "task") {
        const json res = json::parse(file_tail(dir + "/result.json", 1 << 20), nullptr, false);
        if (res.is_object()) m = res;
    } else {
        const json rep = json::parse(file_tail(dir + "/report.json", 16 << 20), nullptr, false);
        if (rep.is_object())
            for (const char* k : {"tokens", "energy_pj", "energy_per_token_pj", "neurobench", "model", "profile"})
                if (rep.contains(k)) m[k] = rep[k];
        if (rep.is_object() && rep.contains("ann_twin") && rep["ann_twin"].contains("ratio_snn_to_ann"))
            m["ratio_snn_to_ann"] = rep["ann_twin"]["ratio_snn_to_ann"];
    }
    return m;
}

// The value of `key` in a query string ("a=1&base=scenarios"), percent-decoded; "" when absent or malformed.
std::string query_value(const std::string& query, const std::string& key) {
    std::size_t at = 0;
    while (at <= query.size()) {
        std::size_t end = query.find('&', at);
        if (end == std::string::npos) end = query.size();
        const std::string pair = query.substr(at, end - at);
        if (pair.compare(0, key.size() + 1, key + "=") == 0) {
            std::string raw = pair.substr(key.size() + 1), out;
            for (auto& c : raw)
                if (c == '+') c = ' ';
            return http::percent_decode(raw, out) ? out : "";
        }
        at = end + 1;
    }
    return "";
}

// What kind of scenario `root` is: it names its section.
std::string kind_of(const json& root) {
    if (!root.is_object()) return "";
    if (root.contains("task")) return "task";
    if (root.contains("train")) return "train";
    if (root.contains("input")) return "run";
    return "";
}

class service {
public:
    service(const serve_options& o, std::string token, run_queue& queue)
        : o_(o), token_(std::move(token)), queue_(queue) {}

    http::response handle(const http::request& q) {
        if (q.path == "/v1/health") {
            if (q.method != "GET") return not_allowed("GET");
            return json_response(200, {{"status", "ok"}, {"version", WTASIM_VERSION}});
        }
        if (!q.path.starts_with("/v1/") && q.path != "/v1") return dashboard(q);
        if (!authorised(q)) {
            http::response r = http::error_response(
                401, "missing or wrong token: send the header \"Authorization: Bearer <token>\" with the token from " +
                         o_.data_dir + "/token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"wtasim\"");
            return r;
        }
        const std::vector<std::string> s = segments(q.path);
        if (s.size() == 2 && s[1] == "openapi.json") {
            if (q.method != "GET") return not_allowed("GET");
            http::response r;
            r.body = std::string(embedded_file("openapi.json"));
            return r;
        }
        if (s.size() == 2 && s[1] == "runs") {
            if (q.method == "GET") return list_runs();
            if (q.method == "POST") return submit(q);
            return not_allowed("GET, POST");
        }
        if (s.size() == 3 && s[1] == "runs") {
            if (q.method == "GET") return show_run(s[2]);
            if (q.method == "DELETE") return cancel_run(s[2]);
            return not_allowed("GET, DELETE");
        }
        if (s.size() == 4 && s[1] == "runs") {
            if (q.method != "GET") return not_allowed("GET");
            return artefact(s[2], s[3]);
        }
        if (s.size() == 2 && s[1] == "generate") {
            if (q.method != "POST") return not_allowed("POST");
            return generate(q);
        }
        return http::error_response(404, "no route " + q.method + " " + q.path + " (see GET /v1/openapi.json)");
    }

private:
    static http::response not_allowed(const std::string& allow) {
        http::response r = http::error_response(405, "method not allowed here; allowed: " + allow);
        r.headers.emplace_back("Allow", allow);
        return r;
    }

    bool authorised(const http::request& q) const {
        const std::string h = q.header("authorization");
        const std::string prefix = "Bearer ";
        return h.size() > prefix.size() && h.compare(0, prefix.size(), prefix) == 0 &&
               same_secret(h.substr(prefix.size()), token_);
    }

    static std::optional<http::response> require_json(const http::request& q) {
        std::string type = q.header("content-type");
        type = type.substr(0, type.find(';'));
        while (!type.empty() && type.back() == ' ') type.pop_back();
        for (auto& c : type) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (type == "application/json") return std::nullopt;
        return http::error_response(415, "expected Content-Type: application/json, got " +
                                             (type.empty() ? std::string("none") : "\"" + type + "\""));
    }

    http::response dashboard(const http::request& q) {
        std::string name = q.path == "/" ? "index.html" : q.path.substr(1);
        if (name.starts_with("dashboard/")) name = name.substr(10);
        const std::string_view text = embedded_file(name);
        if (text.empty() || name == "openapi.json")
            return http::error_response(404, "no page " + q.path + " (the dashboard is at /)");
        if (q.method != "GET") return not_allowed("GET");
        http::response r;
        r.body = std::string(text);
        r.content_type = name.ends_with(".js")    ? "text/javascript; charset=utf-8"
                         : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                  : "text/html; charset=utf-8";
        r.headers.emplace_back("Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-src 'self'; connect-src 'self'; frame-ancestors 'none'");
        return r;
    }

    json describe(const run_record& r, bool detail) const {
        json j = r.to_json();
        j.erase("pid");
        const std::string dir = queue_.folder(r.id);
        j["progress"] = r.state == run_state::running ? progress_of(dir + "/stderr.log") : json(nullptr);
        if (detail) {
            const bool ended = r.state != run_state::queued && r.state != run_state::running;
            {
                std::lock_guard lock(m_);
                if (const auto it = ended_.find(r.id); ended && it != ended_.end()) {
                    j["metrics"] = it->second.first;
                    j["artefacts"] = it->second.second;
                    return j;
                }
            }
            j["metrics"] = metrics_of(r, dir);
            json files = json::array();
            for (const auto& [name, type] : artefact_types)
                if (regular_file(dir + "/" + name)) files.push_back(name);
            j["artefacts"] = files;
            if (ended) {  // an ended run's files no longer change: read them once, not at every poll
                std::lock_guard lock(m_);
                ended_[r.id] = {j["metrics"], files};
            }
        }
        return j;
    }

    http::response list_runs() {
        json runs = json::array();
        for (const run_record& r : queue_.list()) runs.push_back(describe(r, false));
        return json_response(200, {{"runs", runs}});
    }

    http::response show_run(const std::string& id) {
        const auto r = queue_.get(id);
        if (!r) return http::error_response(404, "no run " + id);
        return json_response(200, describe(*r, true));
    }

    http::response cancel_run(const std::string& id) {
        std::string why;
        if (!queue_.cancel(id, why)) return http::error_response(queue_.get(id) ? 409 : 404, why);
        return json_response(202, describe(*queue_.get(id), false));
    }

    http::response artefact(const std::string& id, const std::string& name) {
        const auto r = queue_.get(id);
        if (!r) return http::error_response(404, "no run " + id);
        for (const auto& [known, type] : artefact_types) {
            if (name != known) continue;
            const std::string path = queue_.folder(id) + "/" + name;
            if (!regular_file(path)) break;
            http::response res;
            res.file = path;
            res.content_type = type;
            if (name.ends_with(".html"))  // a report is a document to look at; it runs nothing
                res.headers.emplace_back("Content-Security-Policy",
                                         "default-src 'none'; img-src data:; style-src 'unsafe-inline'");
            return res;
        }
        std::string have;
        for (const auto& [known, type] : artefact_types)
            if (regular_file(queue_.folder(id) + "/" + known)) have += std::string(have.empty() ? "" : ", ") + known;
        return http::error_response(404, "run " + id + " has no artefact " +
                                             json(name).dump(-1, ' ', false, json::error_handler_t::replace) +
                                             "; it has: " + (have.empty() ? "none yet" : have));
    }

    http::response submit(const http::request& q) {
        if (auto bad = require_json(q)) return *bad;
        json root;
        try {
            root = json_reader::parse(q.body, "request body", o_.limits.body_bytes);
        } catch (const error& e) {
            return http::error_response(400, e.what());
        }
        // ?base=FOLDER: the scenario's relative paths start there (a shipped scenario names paths from its own
        // folder: POST the file with ?base=scenarios); the folder must lie inside the roots
        std::string base;
        if (const std::string given = query_value(q.query, "base"); !given.empty()) {
            const fs::path folder =
                fs::path(given).is_absolute() ? fs::path(given) : fs::path(current_path_policy().base) / given;
            std::string why = path_outside_roots(folder.string());
            std::error_code err;
            if (why.empty() && !fs::is_directory(folder, err)) why = "not a folder";
            if (!why.empty())
                return http::error_response(
                    400, "?base=" + json(given).dump(-1, ' ', false, json::error_handler_t::replace) + ": " + why);
            base = fs::weakly_canonical(folder, err).string();
        }
        const std::string kind = kind_of(root);
        if (kind.empty())
            return http::error_response(
                422,
                "request body: expected a run scenario (with /input), a task scenario (/task) or a training "
                "scenario (/train); see docs/scenarios.md");
        const std::string id = queue_.allocate();
        const std::string dir = queue_.folder(id);
        // the run's outputs go to its folder, whatever the scenario said
        if (kind == "run") {
            root["report"] = {
                {"json", dir + "/report.json"}, {"markdown", dir + "/report.md"}, {"html", dir + "/report.html"}};
            if (root.contains("trace") && root["trace"].is_object()) root["trace"]["path"] = dir + "/trace.h5";
        } else {
            root["output"] = dir;
        }
        const std::string text = root.dump(2) + "\n";
        std::string name;
        try {
            const scoped_path_base from(base);  // "" keeps the policy's base
            if (kind == "run") {
                const run_scenario s = run_scenario::from_json(text, "request body");
                name = fs::path(s.checkpoint).filename().string() +
                       (s.text.empty() ? " on " + s.corpus + " " + s.split : " on a prompt");
            } else if (kind == "task") {
                const task_scenario s = task_scenario::from_json(text, "request body");
                name = "task " + (s.builtin.empty() ? s.name : s.builtin);
            } else {
                const train_scenario s = parse_train_scenario(text, "request body");
                name = std::string("train ") + (s.model.spiking ? (s.model.causal ? "WD" : "WE") : "ANN") + " D " +
                       std::to_string(s.model.D);
            }
            write_text_atomically(dir + "/scenario.json", text);
        } catch (const error& e) {
            queue_.discard(id);
            return http::error_response(400, e.what());
        } catch (const json::exception& e) {
            queue_.discard(id);
            return http::error_response(400, "request body: unusable JSON data: " + json_reader::reason(e));
        }
        queue_.enqueue(id, kind, name, base);
        http::response r = json_response(201, {{"id", id}, {"kind", kind}, {"state", "queued"}, {"name", name}});
        r.headers.emplace_back("Location", "/v1/runs/" + id);
        return r;
    }

    static std::string generator_key(const std::string& checkpoint, const std::string& profile) {
        std::error_code err;
        const auto stamp = fs::last_write_time(checkpoint, err);
        return checkpoint + "\n" + profile + "\n" + std::to_string(stamp.time_since_epoch().count()) + "\n" +
               std::to_string(fs::file_size(checkpoint, err));
    }

    // A loaded generator of this checkpoint file as it is now, or null.
    std::shared_ptr<const generator> cached_generator(const std::string& checkpoint, const std::string& profile) {
        const std::string key = generator_key(checkpoint, profile);
        std::lock_guard lock(m_);
        const auto it = generators_.find(key);
        if (it == generators_.end()) return nullptr;
        it->second.last_use = ++uses_;
        return it->second.gen;
    }

    // Loads one and keeps it, the least recently used of four making room.
    std::shared_ptr<const generator> load_generator(const std::string& checkpoint, const std::string& profile) {
        const std::string key = generator_key(checkpoint, profile);
        auto g = std::make_shared<const generator>(checkpoint, profile);
        std::lock_guard lock(m_);
        if (generators_.size() >= 4 && !generators_.count(key)) {
            auto oldest = generators_.begin();
            for (auto it = generators_.begin(); it != generators_.end(); ++it)
                if (it->second.last_use < oldest->second.last_use) oldest = it;
            generators_.erase(oldest);
        }
        generators_[key] = {g, ++uses_};
        return g;
    }

    http::response generate(const http::request& q) {
        if (auto bad = require_json(q)) return *bad;
        generate_request g;
        std::shared_ptr<const generator> gen;
        std::string load_checkpoint, load_profile;
        try {
            const json body = json_reader::parse(q.body, "request body", o_.limits.body_bytes);
            if (!body.is_object()) return http::error_response(400, "request body: expected a JSON object");
            json_reader r(body, "request body");
            if (!r.has("checkpoint")) r.fail("checkpoint", nullptr, "missing: a causal spiking checkpoint (HDF5)");
            const std::string checkpoint = r.get_path("checkpoint", "", true);
            g.text = r.get_string("text", "");
            g.tokens = r.get_uint("tokens", 20, 0, 4096);
            g.temperature = r.get_number("temperature", 0.0, 0.0, 1e6);
            g.top_k = r.get_uint("top_k", 0, 0, 1u << 24);
            g.seed = r.get_uint("seed", 1);
            const std::string profile = read_energy_profile(r, "profile", o_.profile);  // a path is confined too
            r.finish();
            gen = cached_generator(checkpoint, profile);
            if (!gen) {  // loading takes a stream's slot and its thread, never an HTTP thread
                load_checkpoint = checkpoint;
                load_profile = profile;
            }
        } catch (const error& e) {
            return http::error_response(400, e.what());
        }
        const bool sse = q.header("accept").find("text/event-stream") != std::string::npos;
        http::response res;
        res.content_type = sse ? "text/event-stream" : "application/x-ndjson";
        res.stream = [this, gen, g, sse, load_checkpoint, load_profile](http::stream_writer& out) mutable {
            auto send = [&](const json& j) {
                const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
                return out.write(sse ? "event: " + j.value("event", "") + "\ndata: " + line + "\n\n" : line + "\n");
            };
            if (!gen) {
                try {
                    gen = load_generator(load_checkpoint, load_profile);
                } catch (const error& e) {
                    send({{"event", "error"}, {"error", e.what()}});
                    return;
                }
            }
            auto ops_json = [](const op_counts& c) {
                json j = json::object();
                for (std::size_t i = 0; i < n_op_classes; ++i) j[std::string(op_class_name(op_class(i)))] = c.n[i];
                return j;
            };
            generate_summary sum;
            try {
                sum = gen->run(
                    g,
                    [&](const generate_summary& p) {
                        send({{"event", "prompt"},
                              {"text", p.prompt_text},
                              {"tokens", p.prompt_tokens},
                              {"cut", p.prompt_cut},
                              {"energy_pj", p.prompt_energy_pj},
                              {"ops", ops_json(p.prompt_ops)}});
                    },
                    [&](const generated_token& t) {
                        return send({{"event", "token"},
                                     {"index", t.index},
                                     {"id", t.id},
                                     {"text", t.text},
                                     {"energy_pj", t.energy_pj},
                                     {"paper_energy_pj", t.paper_energy_pj},
                                     {"ops", ops_json(t.ops)}});
                    });
            } catch (const std::exception& e) {  // framed as the stream's other events
                send({{"event", "error"}, {"error", e.what()}});
                return;
            }
            const double per = sum.generated ? 1.0 / double(sum.generated) : 0.0;
            send({{"event", "done"},
                  {"generated", sum.generated},
                  {"requested", sum.requested},
                  {"max_len", sum.max_len},
                  {"seconds", sum.seconds},
                  {"tokens_per_s", double(sum.generated) / std::max(sum.seconds, 1e-9)},
                  {"energy_pj", sum.generated_energy_pj},
                  {"energy_pj_per_token", sum.generated_energy_pj * per},
                  {"paper_energy_pj_per_token", sum.generated_paper_energy_pj * per},
                  {"profile", sum.profile}});
        };
        return res;
    }

    const serve_options& o_;
    std::string token_;
    run_queue& queue_;
    mutable std::mutex m_;
    mutable std::map<std::string, std::pair<json, json>> ended_;  // id -> metrics, artefacts of an ended run
    struct cached {
        std::shared_ptr<const generator> gen;
        std::uint64_t last_use = 0;
    };
    std::map<std::string, cached> generators_;
    std::uint64_t uses_ = 0;
};

}  // namespace

int serve(const serve_options& given, std::ostream& out) {
    serve_options o = given;
    if (o.data_dir.empty()) throw config_error("--data-dir: expected the folder for the server's runs and token");
    fs::create_directories(o.data_dir);
    ::chmod(o.data_dir.c_str(), 0700);
    o.data_dir = fs::canonical(o.data_dir).string();
    const folder_lock lock(o.data_dir);  // one server per data folder
    if (o.roots.empty()) o.roots.push_back(fs::current_path().string());
    path_policy policy{o.roots.front(), o.roots};
    policy.roots.push_back(o.data_dir);
    set_path_policy(policy);  // the scenarios this process validates
    const path_policy& p = current_path_policy();
    std::vector<std::string> command{fs::read_symlink("/proc/self/exe").string()};
    for (const auto& root : p.roots) command.insert(command.end(), {"--confine-to", root});

    // SIGINT and SIGTERM are taken by one thread that stops the server; every other thread blocks them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    rlimit files{};  // sockets, downloads and the runs' logs: as many descriptors as the system allows
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }

    const std::string token = load_or_create_token(o.data_dir + "/token", out);
    run_queue queue(o.data_dir, command, p.base, o.queue);
    service api(o, token, queue);
    http::server server(o.bind, o.port, o.limits, [&api](const http::request& q) { return api.handle(q); });
    const run_queue::recovery found = queue.recovered();
    out << "wtasim serve: listening on http://" << (o.bind.find(':') != std::string::npos ? "[" + o.bind + "]" : o.bind)
        << ":" << server.port() << "/ (the dashboard; the API is under /v1)\n"
        << "wtasim serve: the API token is in " << o.data_dir << "/token (send \"Authorization: Bearer <token>\")\n"
        << "wtasim serve: runs in " << o.data_dir << "/runs: " << found.past << " ended, " << found.queued
        << " queued, " << found.resumed << " trainings resumed, " << found.failed
        << " marked failed (they were running when the server stopped)\n"
        << std::flush;

    std::thread watcher([&server, stop_signals] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        server.stop();
    });
    server.run();
    // run() also returns when stop() came from elsewhere; wake the watcher so it can be joined
    ::pthread_kill(watcher.native_handle(), SIGTERM);
    watcher.join();
    out << "wtasim serve: stopped\n" << std::flush;
    return 0;
}

}  // namespace wtasim::serve
