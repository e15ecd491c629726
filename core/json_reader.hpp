// Reading user JSON (model configs, scenarios) with one clear error per problem: every error names the
// origin (file), the JSON pointer, the value and what was expected, e.g.
//   "scenarios/x.json: /model/attention/k = 0, must be >= 1"
// A reader remembers the keys it was asked for; `finish()` rejects any other key (a typo is an error,
// not a silently ignored option).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace wtasim {

// A process-wide rule for every path a user's JSON names, for a program that runs other people's scenarios
// (wtasim serve, docs/serve.md; the CLI's --paths-from and --confine-to):
//   - `base` non-empty: relative paths start there instead of at the scenario file's folder;
//   - `roots` non-empty: a resolved path must lie inside one of these folders once every symbolic link in
//     it is followed; any other is a config_error "<origin>: /model/checkpoint = "/etc/passwd": outside the
//     allowed folders (<roots>)".
struct path_policy {
    std::string base;
    std::vector<std::string> roots;
};
// Makes the roots absolute and canonical; a root that does not exist is an io_error.
void set_path_policy(path_policy policy);
const path_policy& current_path_policy();
// "" when `path` lies inside one of the policy's roots (or there are none), else what is wrong.
std::string path_outside_roots(const std::string& path);
// Within its scope, relative paths read on this thread start in `dir` instead of the policy's base (wtasim serve
// validating a scenario posted with the folder its paths are written from).
class scoped_path_base {
public:
    explicit scoped_path_base(std::string dir);
    ~scoped_path_base();
    scoped_path_base(const scoped_path_base&) = delete;
    scoped_path_base& operator=(const scoped_path_base&) = delete;

private:
    std::string saved_;
};

class json_reader {
public:
    // `origin` is the file name (or "command line"); `pointer` the JSON pointer of `value` in it.
    json_reader(const nlohmann::json& value, std::string origin, std::string pointer = "");
    // Limits of a user's JSON document (docs/scenarios.md, "Files, locks and limits").
    static constexpr std::size_t max_bytes = std::size_t{16} << 20;
    static constexpr std::size_t max_depth = 64;
    // Parses `text`; every problem is a config_error naming `origin`: not JSON, a number out of the range
    // of a double ("1e400"), nesting deeper than max_depth, a text longer than `limit` bytes, and a key
    // given twice in one object ("<origin>: /model/d_model: duplicate key").
    static nlohmann::json parse(const std::string& text, const std::string& origin, std::size_t limit = max_bytes);
    // The whole text of a user's file; io_error "<path>: cannot open <what>" when it cannot be read,
    // "<path>: is a directory, expected a <what> file", or a file longer than `limit` bytes.
    static std::string read_file(const std::string& path, const std::string& what, std::size_t limit = max_bytes);
    // nlohmann's message without its "[json.exception.type.N] " prefix.
    static std::string reason(const nlohmann::json::exception& e);

    bool has(const std::string& key) const;
    std::uint64_t get_uint(const std::string& key, std::uint64_t fallback, std::uint64_t min = 0,
                           std::uint64_t max = UINT64_MAX);
    double get_number(const std::string& key, double fallback, double min, double max, bool min_open = false);
    bool get_bool(const std::string& key, bool fallback);
    std::string get_string(const std::string& key, const std::string& fallback,
                           std::initializer_list<const char*> allowed = {});
    // The same with the allowed values from a registry (backend names).
    std::string get_string(const std::string& key, const std::string& fallback,
                           const std::vector<std::string>& allowed);
    // Arrays of strings / of non-negative integers (empty when absent).
    std::vector<std::string> get_string_list(const std::string& key);
    std::vector<std::uint64_t> get_uint_list(const std::string& key);
    // Paths: a relative path written in a scenario means a path from the scenario file's folder, so a scenario
    // runs the same from any working directory (docs/model.md §11). `set_base_dir` names that folder (empty:
    // the working directory; nested readers inherit it); `get_path` reads a string at `key` and resolves it;
    // `fallback` is returned as it is (a default is not a path the file wrote). `must_exist`: a missing file
    // is an error naming the key, the value as written and the resolved path.
    void set_base_dir(std::string dir) { base_dir_ = std::move(dir); }
    const std::string& base_dir() const { return base_dir_; }
    // `key` only names the value in the error a confined path gets (see path_policy).
    std::string resolve(const std::string& path, const std::string& key = "") const;
    std::string get_path(const std::string& key, const std::string& fallback, bool must_exist = false);
    // The nested object at `key` (an empty object when absent).
    json_reader object(const std::string& key);
    // Throws for any key that was never asked for.
    void finish() const;

    std::string where(const std::string& key) const { return origin_ + ": " + pointer_ + "/" + key; }
    [[noreturn]] void fail(const std::string& key, const nlohmann::json& value, const std::string& expected) const;

private:
    const nlohmann::json* value_;
    nlohmann::json empty_;
    std::string origin_, pointer_;
    std::string base_dir_;
    std::set<std::string> known_;
};

}  // namespace wtasim
