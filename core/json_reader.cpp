// json_reader (core/json_reader.hpp).
#include "core/json_reader.hpp"

#include <algorithm>
#include <filesystem>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace wtasim {

json_reader::json_reader(const nlohmann::json& value, std::string origin, std::string pointer)
    : value_(&value), origin_(std::move(origin)), pointer_(std::move(pointer)) {
    if (!value.is_object())
        throw config_error(origin_ + ": " + (pointer_.empty() ? "/" : pointer_) + " = " + value.dump() +
                           ", expected an object");
}

std::string json_reader::reason(const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (what.starts_with("[json.exception.")) {
        const std::size_t end = what.find("] ");
        if (end != std::string::npos) what.erase(0, end + 2);
    }
    return what;
}

namespace {
// The containers open while parsing: their JSON pointer, and an object's keys so far.
struct open_container {
    bool object;
    std::string key;        // object: the key being read
    std::size_t index = 0;  // array: the element being read
    std::set<std::string> keys;
};

std::string pointer_of(const std::vector<open_container>& open) {
    std::string p;
    for (const auto& c : open) p += "/" + (c.object ? c.key : std::to_string(c.index));
    return p.size() > 200 ? p.substr(0, 200) + "..." : p;
}

void next_element(std::vector<open_container>& open) {
    if (!open.empty() && !open.back().object) ++open.back().index;
}
}  // namespace

nlohmann::json json_reader::parse(const std::string& text, const std::string& origin, std::size_t limit) {
    if (text.size() > limit)
        throw config_error(origin + ": " + std::to_string(text.size()) + " bytes of JSON, more than the limit of " +
                           std::to_string(limit >> 20) + " MiB");
    std::vector<open_container> open;
    using event = nlohmann::json::parse_event_t;
    const nlohmann::json::parser_callback_t check = [&](int, event e, nlohmann::json& parsed) {
        switch (e) {
            case event::object_start:
            case event::array_start:
                if (open.size() >= max_depth)
                    throw config_error(origin + ": " + pointer_of(open) + ": nested deeper than " +
                                       std::to_string(max_depth) + " levels");
                open.push_back({e == event::object_start, "", 0, {}});
                break;
            case event::key: {
                auto& top = open.back();
                top.key = parsed.get<std::string>();
                if (!top.keys.insert(top.key).second)
                    throw config_error(origin + ": " + pointer_of(open) +
                                       ": duplicate key (a key may appear once per object)");
                break;
            }
            case event::object_end:
            case event::array_end:
                open.pop_back();
                next_element(open);
                break;
            case event::value:
                next_element(open);
                break;
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text, check);
    } catch (const nlohmann::json::parse_error& e) {
        throw config_error(origin + ": not valid JSON: " + reason(e));
    } catch (const nlohmann::json::exception& e) {  // out_of_range.406: a number beyond a double ("1e400")
        throw config_error(origin + ": not usable JSON: " + reason(e));
    }
}

namespace {
path_policy& policy_storage() {
    static path_policy p;
    return p;
}
}  // namespace

std::string json_reader::read_file(const std::string& path, const std::string& what, std::size_t limit) {
    std::error_code err;
    if (std::filesystem::is_directory(path, err))
        throw io_error(path + ": is a directory, expected a " + what + " file");
    // a confined process (wtasim serve) reads regular files only: no device, FIFO or socket can block or flood it
    if (!policy_storage().roots.empty() && std::filesystem::exists(path, err) &&
        !std::filesystem::is_regular_file(path, err))
        throw io_error(path + ": not a regular file, expected a " + what + " file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open " + what);
    // read at most limit + 1 bytes, whatever size the file claims (a device may claim none and never end)
    std::string text;
    char buffer[65536];
    while (in) {
        in.read(buffer, sizeof buffer);
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limit)
            throw io_error(path + ": more than the limit of " + std::to_string(limit >> 20) + " MiB for a " + what +
                           " file");
    }
    return text;
}

void json_reader::fail(const std::string& key, const nlohmann::json& value, const std::string& expected) const {
    throw config_error(where(key) + " = " + value.dump() + ", " + expected);
}

bool json_reader::has(const std::string& key) const {
    return value_->contains(key);
}

std::uint64_t json_reader::get_uint(const std::string& key, std::uint64_t fallback, std::uint64_t min,
                                    std::uint64_t max) {
    known_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = (*value_)[key];
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0))
        fail(key, v, "expected a non-negative integer");
    const auto x = v.get<std::uint64_t>();
    if (x < min) fail(key, v, "must be >= " + std::to_string(min));
    if (x > max) fail(key, v, "must be <= " + std::to_string(max));
    return x;
}

double json_reader::get_number(const std::string& key, double fallback, double min, double max, bool min_open) {
    known_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = (*value_)[key];
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, v, "expected a finite number");
    const double x = v.get<double>();
    auto fmt = [](double d) {
        std::string s = nlohmann::json(d).dump();
        return s;
    };
    if (min_open ? !(x > min) : !(x >= min))
        fail(key, v, std::string("must be ") + (min_open ? "> " : ">= ") + fmt(min));
    if (!(x <= max)) fail(key, v, "must be <= " + fmt(max));
    return x;
}

bool json_reader::get_bool(const std::string& key, bool fallback) {
    known_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = (*value_)[key];
    if (!v.is_boolean()) fail(key, v, "expected true or false");
    return v.get<bool>();
}

std::string json_reader::get_string(const std::string& key, const std::string& fallback,
                                    std::initializer_list<const char*> allowed) {
    return get_string(key, fallback, std::vector<std::string>(allowed.begin(), allowed.end()));
}

std::string json_reader::get_string(const std::string& key, const std::string& fallback,
                                    const std::vector<std::string>& allowed) {
    known_.insert(key);
    if (!has(key)) return fallback;
    const auto& v = (*value_)[key];
    if (!v.is_string()) fail(key, v, "expected a string");
    const std::string s = v.get<std::string>();
    if (allowed.empty()) return s;
    std::string list;
    for (const std::string& a : allowed) {
        if (s == a) return s;
        list += (list.empty() ? "\"" : ", \"") + a + "\"";
    }
    fail(key, v, "expected one of " + list);
}

std::vector<std::string> json_reader::get_string_list(const std::string& key) {
    known_.insert(key);
    std::vector<std::string> out;
    if (!has(key)) return out;
    const auto& v = (*value_)[key];
    if (!v.is_array()) fail(key, v, "expected an array of strings");
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) fail(key + "/" + std::to_string(i), v[i], "expected a string");
        out.push_back(v[i].get<std::string>());
    }
    return out;
}

std::vector<std::uint64_t> json_reader::get_uint_list(const std::string& key) {
    known_.insert(key);
    std::vector<std::uint64_t> out;
    if (!has(key)) return out;
    const auto& v = (*value_)[key];
    if (!v.is_array()) fail(key, v, "expected an array of non-negative integers");
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number_unsigned()) fail(key + "/" + std::to_string(i), v[i], "expected a non-negative integer");
        out.push_back(v[i].get<std::uint64_t>());
    }
    return out;
}

json_reader json_reader::object(const std::string& key) {
    known_.insert(key);
    json_reader nested = has(key) ? json_reader((*value_)[key], origin_, pointer_ + "/" + key)
                                  : json_reader(empty_ = nlohmann::json::object(), origin_, pointer_ + "/" + key);
    nested.base_dir_ = base_dir_;
    return nested;
}

void json_reader::finish() const {
    for (const auto& [key, v] : value_->items()) {
        if (known_.count(key)) continue;
        std::string list;
        for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
        fail(key, v, "unknown key, expected one of: " + list);
    }
}

void set_path_policy(path_policy policy) {
    namespace fs = std::filesystem;
    for (auto& root : policy.roots) {
        std::error_code err;
        const fs::path canonical = fs::canonical(root, err);
        if (err || !fs::is_directory(canonical))
            throw io_error(root + ": cannot use it as an allowed folder (" +
                           (err ? err.message() : std::string("not a directory")) + ")");
        root = canonical.string();
    }
    if (!policy.base.empty()) policy.base = std::filesystem::absolute(policy.base).lexically_normal().string();
    policy_storage() = std::move(policy);
}

const path_policy& current_path_policy() {
    return policy_storage();
}

namespace {
thread_local std::string thread_base;  // scoped_path_base's folder on this thread, "" when none
}  // namespace

scoped_path_base::scoped_path_base(std::string dir) : saved_(std::move(thread_base)) {
    thread_base = std::move(dir);
}

scoped_path_base::~scoped_path_base() {
    thread_base = std::move(saved_);
}

std::string path_outside_roots(const std::string& path) {
    namespace fs = std::filesystem;
    const auto& roots = policy_storage().roots;
    if (roots.empty()) return "";
    std::error_code err;
    // every existing part of the path with its links followed, the rest as written ("..", "." folded)
    const fs::path real = fs::weakly_canonical(fs::absolute(path, err), err);
    std::string list;
    for (const auto& root : roots) {
        list += (list.empty() ? "" : ", ") + root;
        if (err) continue;
        const fs::path r(root);
        auto [ri, pi] = std::mismatch(r.begin(), r.end(), real.begin(), real.end());
        if (ri == r.end()) return "";
    }
    return "outside the allowed folders (" + list + ")";
}

std::string json_reader::resolve(const std::string& path, const std::string& key) const {
    namespace fs = std::filesystem;
    const std::string& base = !thread_base.empty()            ? thread_base
                              : policy_storage().base.empty() ? base_dir_
                                                              : policy_storage().base;
    std::string resolved = path;
    if (!path.empty() && !base.empty() && !fs::path(path).is_absolute())
        resolved = (fs::path(base) / path).lexically_normal().string();
    if (!resolved.empty()) {
        const std::string outside = path_outside_roots(resolved);
        if (!outside.empty())
            throw config_error(origin_ + ": " + pointer_ + (key.empty() ? "" : "/" + key) + " = " +
                               nlohmann::json(path).dump() + ": " + outside);
    }
    return resolved;
}

std::string json_reader::get_path(const std::string& key, const std::string& fallback, bool must_exist) {
    if (!has(key)) return fallback;
    const std::string given = get_string(key, "");
    if (given.empty()) fail(key, given, "expected a non-empty path");
    const std::string path = resolve(given, key);
    std::error_code err;  // a name the system refuses (too long, ...) is the same error with its reason
    if (must_exist && !std::filesystem::exists(path, err)) {
        const std::string why = err ? err.message() : "no such file";
        fail(key, given, path == given ? why : why + " (" + path + ")");
    }
    return path;
}

}  // namespace wtasim
