// Progress lines (core/progress.hpp): what a log and a terminal receive. Each check waits for the drawing
// thread to show what is asserted (up to a generous deadline), so a slow machine delays it but cannot fail it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/parallel.hpp"
#include "core/progress.hpp"

#include <nlohmann/json.hpp>

using namespace wtasim;

namespace {

// Standard output and standard error both go to one file for the life of the object.
class captured {
public:
    captured()
        : path_((std::filesystem::temp_directory_path() / ("wtasim_progress_" + std::to_string(::getpid()))).string()) {
        std::cout.flush();
        std::fflush(stdout);
        const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        REQUIRE(fd >= 0);
        saved_out_ = ::dup(1);
        saved_err_ = ::dup(2);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~captured() {
        std::cout.flush();
        std::fflush(stdout);
        ::dup2(saved_out_, 1);
        ::dup2(saved_err_, 2);
        ::close(saved_out_);
        ::close(saved_err_);
        std::filesystem::remove(path_);
    }
    std::string text() const {
        std::ifstream in(path_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    // Waits (up to 20 s) until the file holds `what`.
    bool shows(const std::string& what) const {
        for (int i = 0; i < 2000; ++i) {
            if (text().find(what) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

private:
    std::string path_;
    int saved_out_ = -1, saved_err_ = -1;
};

}  // namespace

TEST_CASE("progress: durations read as a person writes them") {
    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(9.4) == "9s");
    CHECK(format_duration(125) == "2m05s");
    CHECK(format_duration(3600 + 12 * 60 + 40) == "1h12m");
    CHECK(format_duration(-3) == "0s");
}

TEST_CASE("progress: plain lines name the stage, then the count, rate, ETA and detail") {
    const captured out;
    set_progress_style(progress_style::lines, 0.05);
    {
        progress p("train", 0, "steps", "tokens");
        p.stage("training the tokenizer");
        CHECK(out.shows("progress: train: training the tokenizer"));
        p.start(10, 2);  // a resumed run: 2 of 10 already done
        p.set(5, 300);
        p.detail("loss 3.2100");
        CHECK(out.shows("train: 50% 5/10 steps"));
        const std::string t = out.text();
        const std::string line = t.substr(t.rfind("progress: train: 50%"));
        CHECK(line.find("tokens/s") != std::string::npos);
        CHECK(line.find("ETA ") != std::string::npos);
        CHECK(line.find("loss 3.2100") != std::string::npos);
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a done line for work that lasted 1 s
    }
    CHECK(out.shows("progress: train: done, 5 steps"));
    set_progress_style(progress_style::off);
}

TEST_CASE("progress: counts added from many threads all arrive, and nested work is named after its parent") {
    const captured out;
    set_progress_style(progress_style::lines, 0.05);
    {
        progress outer("suite", 3, "tasks");
        outer.detail("glue-sst2");
        progress inner("simulate", 1000, "sequences", "tokens");
        parallel_for(1000, 1, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) inner.add(1, 128);
        });
        CHECK(out.shows("suite: 0% 0/3 tasks"));
        CHECK(out.shows("| simulate: 100% 1000/1000 sequences"));
    }
    set_progress_style(progress_style::off);
}

TEST_CASE("progress: on a terminal the bar is erased before standard output is written") {
    const captured out;
    set_progress_style(progress_style::bar, 10);
    {
        progress p("fine-tune sst2", 10, "steps", "examples");
        p.add(5, 80);
        CHECK(out.shows("fine-tune sst2 [==========>"));
        CHECK(out.shows("] 50% 5/10 steps"));
        std::cout << "a result line\n";
        CHECK(out.shows("\r\033[Ka result line\n"));
        p.add(5, 80);
        CHECK(out.shows("] 100% 10/10 steps"));
    }
    set_progress_style(progress_style::off);
}

TEST_CASE("progress: nothing is shown while the style is off") {
    const captured out;
    set_progress_style(progress_style::off);
    {
        progress p("train", 10, "steps");
        p.add(10);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    CHECK(out.text().empty());
}

TEST_CASE("progress: the JSON style gives a watching program every scope's counts, rate and ETA") {
    const captured out;
    set_progress_style(progress_style::json, 0.05);
    {
        progress outer("suite", 4, "tasks");
        outer.add(1);
        progress inner("fine-tune", 0, "steps", "examples");
        inner.stage("reading the data");
        CHECK(out.shows("\"stage\":\"reading the data\""));
        inner.start(200, 0);
        inner.set(50, 800);
        inner.detail("loss 0.6931");
        CHECK(out.shows("\"done\":50"));
        const std::string t = out.text();
        const std::size_t at = t.rfind("progress-json: ");
        const nlohmann::json scopes = nlohmann::json::parse(t.substr(at + 15, t.find('\n', at) - at - 15));
        REQUIRE(scopes.size() == 2);
        CHECK(scopes[0]["label"] == "suite");
        CHECK(scopes[0]["done"] == 1);
        CHECK(scopes[0]["total"] == 4);
        CHECK(scopes[1]["label"] == "fine-tune");
        CHECK(scopes[1]["total"] == 200);
        CHECK(scopes[1]["unit"] == "steps");
        CHECK(scopes[1]["rate_unit"] == "examples");
        CHECK(scopes[1]["detail"] == "loss 0.6931");
        CHECK(scopes[1]["rate"].get<double>() > 0);
        CHECK(scopes[1]["eta_s"].get<double>() >= 0);
        CHECK(t.find("progress: ") == std::string::npos);  // no plain lines in this style
    }
    set_progress_style(progress_style::off);
}
