// Files, JSON and text from outside (core/atomic_file.hpp, core/json_reader.hpp, core/utf8.hpp).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/utf8.hpp"

namespace fs = std::filesystem;
using namespace wtasim;

namespace {
std::string scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("wtasim_files_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return (dir / name).string();
}
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("files: UTF-8 validation finds the first bad byte") {
    CHECK(invalid_utf8_at("plain ascii") == std::string_view::npos);
    CHECK(invalid_utf8_at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == std::string_view::npos);
    CHECK(invalid_utf8_at("ab\xFF") == 2);
    CHECK(invalid_utf8_at("\xC0\xAF") == 0);          // overlong '/'
    CHECK(invalid_utf8_at("x\xED\xA0\x80") == 1);     // a surrogate
    CHECK(invalid_utf8_at("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
    CHECK(invalid_utf8_at("\xE2\x82") == 0);          // cut short
    CHECK(message_of([] { require_utf8(std::string("a\0b", 3), "--text"); }) ==
          "--text: contains a NUL byte at byte 1");
    CHECK(message_of([] { require_utf8("ok\xFE", "f.tsv: line 3"); }) ==
          "f.tsv: line 3: invalid UTF-8 at byte 2 (0xFE)");
}

TEST_CASE("files: JSON is refused for duplicate keys, depth, size and numbers beyond a double") {
    CHECK(json_reader::parse(R"({"a": {"b": [1, {"c": 2}]}, "d": 3})", "x.json")["a"]["b"][1]["c"] == 2);
    CHECK(message_of([] { json_reader::parse(R"({"a": {"b": 1, "b": 2}})", "x.json"); }) ==
          "x.json: /a/b: duplicate key (a key may appear once per object)");
    CHECK(message_of([] { json_reader::parse(R"({"a": [{"k": 1}, {"k": 1, "k": 2}]})", "x.json"); }) ==
          "x.json: /a/1/k: duplicate key (a key may appear once per object)");
    std::string deep(json_reader::max_depth + 1, '[');
    deep += std::string(json_reader::max_depth + 1, ']');
    CHECK(message_of([&] { json_reader::parse(deep, "d.json"); }).find("nested deeper than 64 levels") !=
          std::string::npos);
    std::string ok(json_reader::max_depth, '[');
    ok += std::string(json_reader::max_depth, ']');
    CHECK_NOTHROW(json_reader::parse(ok, "d.json"));
    CHECK(message_of([] { json_reader::parse(R"({"x": 1e400})", "n.json"); }) ==
          "n.json: not usable JSON: number overflow parsing '1e400'");
    CHECK(message_of([] { json_reader::parse("[1, 2]", "s.json", 4); }).find("more than the limit") !=
          std::string::npos);
    CHECK_THROWS_AS(json_reader::parse("{", "x.json"), config_error);
}

TEST_CASE("files: a read-only target or a folder is not replaced, and outputs never overwrite inputs") {
    const std::string ro = scratch("ro.txt");
    write_text_atomically(ro, "keep\n");
    ::chmod(ro.c_str(), 0444);
    CHECK(message_of([&] { write_text_atomically(ro, "lost\n"); }) ==
          ro + ": is read-only; not replaced (make it writable or choose another output)");
    CHECK(slurp(ro) == "keep\n");
    ::chmod(ro.c_str(), 0644);
    write_text_atomically(ro, "new\n");
    CHECK(slurp(ro) == "new\n");
    const std::string dir = scratch("folder");
    fs::create_directories(dir);
    CHECK(message_of([&] { write_text_atomically(dir, "x"); }) == dir + ": is a directory, expected a file to write");

    CHECK(same_file(ro, fs::path(ro).parent_path().string() + "/./ro.txt"));
    CHECK_FALSE(same_file(ro, dir));
    CHECK_THROWS_AS(refuse_overwriting_inputs({{"trace", ro}}, {{"checkpoint", ro}}), config_error);
    CHECK_THROWS_AS(refuse_overwriting_inputs({{"a", scratch("o")}, {"b", scratch("o")}}, {}), config_error);
    CHECK_NOTHROW(refuse_overwriting_inputs({{"a", scratch("o1")}, {"b", scratch("o2")}}, {{"in", ro}, {"x", ""}}));
}

TEST_CASE("files: stale temporary files of dead processes go, those of live ones stay; folders lock") {
    const std::string target = scratch("t.txt");
    const std::string dead = scratch(".t.txt.tmp.999999999"), live = scratch(".t.txt.tmp.1");  // pid 1 runs
    for (const auto& p : {dead, live}) std::ofstream(p) << "half";
    write_text_atomically(target, "whole\n");
    CHECK(slurp(target) == "whole\n");
    CHECK_FALSE(fs::exists(dead));
    CHECK(fs::exists(live));
    fs::remove(live);

    const std::string dir = scratch("locked");
    fs::create_directories(dir);
    {
        const folder_lock first(dir);
        // flock locks belong to the open file: a second open in this process conflicts like another run
        CHECK(message_of([&] {
                  const folder_lock second(dir);
              }).find("another wtasim run (pid " + std::to_string(::getpid()) + ")") != std::string::npos);
    }
    CHECK_NOTHROW(folder_lock{dir});  // released with its owner
    fs::remove_all(fs::path(dir).parent_path());
}

TEST_CASE("files: a path policy starts relative paths in its base and refuses any path outside its roots") {
    namespace fs = std::filesystem;
    const fs::path top = fs::temp_directory_path() / ("wtasim_policy_" + std::to_string(::getpid()));
    fs::remove_all(top);
    fs::create_directories(top / "root" / "models");
    fs::create_directories(top / "other");
    { std::ofstream(top / "root" / "models" / "m.h5") << "x"; }
    { std::ofstream(top / "other" / "secret.h5") << "x"; }
    fs::create_symlink(top / "other" / "secret.h5", top / "root" / "link.h5");
    fs::create_symlink(top / "other", top / "root" / "dirlink");
    const path_policy before = current_path_policy();
    set_path_policy({(top / "root").string(), {(top / "root").string()}});
    auto read = [&](const std::string& value) {
        const nlohmann::json doc = {{"checkpoint", value}};
        json_reader r(doc, "body", "/model");
        r.set_base_dir("/somewhere/else");  // the policy's base wins
        return r.get_path("checkpoint", "", true);
    };
    CHECK(read("models/m.h5") == (top / "root" / "models" / "m.h5").string());
    CHECK(read((top / "root" / "models" / "m.h5").string()) == (top / "root" / "models" / "m.h5").string());
    for (const std::string& bad : {(top / "other" / "secret.h5").string(), std::string("../other/secret.h5"),
                                   std::string("models/../../other/secret.h5"), std::string("link.h5"),
                                   std::string("dirlink/secret.h5"), std::string("/etc/passwd")}) {
        CAPTURE(bad);
        const std::string m = message_of([&] { read(bad); });
        CHECK(m.find("body: /model/checkpoint = \"" + bad + "\": outside the allowed folders (") == 0);
    }
    {
        const scoped_path_base from((top / "root" / "models").string());  // this thread only, for this scope
        CHECK(read("m.h5") == (top / "root" / "models" / "m.h5").string());
    }
    CHECK(read("models/m.h5") == (top / "root" / "models" / "m.h5").string());
    CHECK(path_outside_roots((top / "root" / "not-yet" / "x").string()).empty());  // an output to be written
    CHECK(!path_outside_roots((top / "rootless").string()).empty());               // a prefix is not a parent
    CHECK(message_of([&] {
              set_path_policy({"", {(top / "missing").string()}});
          }).find("cannot use it") != std::string::npos);
    set_path_policy(before);
    CHECK(path_outside_roots("/etc/passwd").empty());  // no roots: no confinement
    fs::remove_all(top);
}
