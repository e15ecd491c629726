// Progress lines (core/progress.hpp).
#include "core/progress.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace wtasim {

struct progress_registry {
    std::mutex m;
    std::condition_variable cv;
    std::vector<progress*> stack;  // outermost first
    std::thread ticker;
    bool stopping = false;
    progress_style style = progress_style::off;
    double line_seconds = 10.0, next_line = 0.0;
    bool bar_visible = false;
    bool stdout_mid_line = false;  // standard output ended without a newline: do not draw over it
    // A copy of standard error taken when the style is chosen: code that silences fd 2 for a while (the
    // SentencePiece trainer's log) does not silence the progress.
    int fd = STDERR_FILENO;

    void emit(const std::string& text) const {
        for (std::size_t at = 0; at < text.size();) {
            const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
            if (n <= 0) return;  // a closed or full stream: progress is not worth an error
            at += std::size_t(n);
        }
    }
    const std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

    static progress_registry& get() {
        static progress_registry r;
        return r;
    }
    double now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }

    void attach(progress* p) {
        std::unique_lock lock(m);
        p->t_begin_ = p->t_stage_ = now();
        if (p->started_) p->t_start_ = p->t_begin_;
        stack.push_back(p);
        if (style == progress_style::off || ticker.joinable()) return;
        stopping = false;
        next_line = now() + line_seconds;
        ticker = std::thread([this] { run(); });
    }

    void detach(progress* p) {
        std::thread done;
        {
            std::unique_lock lock(m);
            stack.erase(std::remove(stack.begin(), stack.end(), p), stack.end());
            if (style == progress_style::lines || style == progress_style::bar) {
                erase_locked();
                if (p->shown_ && now() - p->t_begin_ >= 1.0) emit("progress: " + finished(*p) + "\n");
            }
            if (stack.empty() && ticker.joinable()) {
                stopping = true;
                cv.notify_all();
                done = std::move(ticker);
            }
        }
        if (done.joinable()) done.join();
    }

    void run() {
        std::unique_lock lock(m);
        while (!stopping) {
            // a bar is redrawn five times a second; lines wake as often as they are due, at most as often
            cv.wait_for(lock, std::chrono::duration<double>(
                                  style == progress_style::bar ? 0.2 : std::clamp(line_seconds, 0.01, 0.2)));
            if (stopping || stack.empty()) continue;
            if (style == progress_style::bar) {
                if (!stdout_mid_line) draw_locked();
            } else if (style == progress_style::json && now() >= next_line) {
                nlohmann::json scopes = nlohmann::json::array();
                for (const progress* p : stack) scopes.push_back(as_json(*p));
                emit("progress-json: " + scopes.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
                next_line = now() + line_seconds;
            } else if (style == progress_style::lines && now() >= next_line) {
                std::string line = "progress: ";
                for (std::size_t i = 0; i < stack.size(); ++i) line += (i ? " | " : "") + describe(*stack[i], false);
                emit(line + "\n");
                for (progress* p : stack) p->shown_ = true;
                next_line = now() + line_seconds;
            }
        }
    }

    void erase_locked() {
        if (!bar_visible) return;
        emit("\r\033[K");
        bar_visible = false;
    }

    void draw_locked() {
        std::string line;
        for (std::size_t i = 0; i + 1 < stack.size(); ++i) line += compact(*stack[i]) + " | ";
        line += describe(*stack.back(), true);
        winsize w{};
        const std::size_t width = ioctl(fd, TIOCGWINSZ, &w) == 0 && w.ws_col > 8 ? w.ws_col : 100;
        if (line.size() >= width) line.resize(width - 1);  // a wrapped line could not be redrawn in place
        emit("\r" + line + "\033[K");
        bar_visible = true;
        for (progress* p : stack) p->shown_ = true;
    }

    static std::string number(double v) {
        char b[32];
        std::snprintf(b, sizeof b, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
        return b;
    }

    std::string rate_of(const progress& p, double seconds) const {
        const std::uint64_t work = p.work_.load();
        const double items = double(work ? work : p.done_.load() - p.done0_.load());
        return number(items / std::max(seconds, 1e-9)) + " " + (p.rate_unit_.empty() ? p.unit_ : p.rate_unit_) + "/s";
    }

    // The enclosing work in a few characters: "suite 3/9 glue-sst2".
    static std::string compact(const progress& p) {
        std::string s = p.label_;
        if (!p.started_ && !p.stage_.empty()) s += " (" + p.stage_ + ")";
        if (p.started_ && p.total_) s += " " + std::to_string(p.done_.load()) + "/" + std::to_string(p.total_.load());
        if (!p.detail_.empty()) s += " " + p.detail_;
        return s;
    }

    std::string describe(const progress& p, bool bar) const {
        const double t = now();
        if (!p.started_)
            return p.label_ + ": " + (p.stage_.empty() ? "starting" : p.stage_) + "  " +
                   format_duration(t - p.t_stage_);
        const std::uint64_t total = p.total_, done = std::min(p.done_.load(), total ? total : p.done_.load());
        const double fraction = total ? double(done) / double(total) : 0.0;
        std::string s = p.label_ + (bar ? " " : ": ");
        if (bar && total) {
            const int width = 20, filled = int(fraction * width);
            s += "[" + std::string(std::size_t(filled), '=') + (filled < width ? ">" : "") +
                 std::string(std::size_t(std::max(0, width - filled - 1)), ' ') + "] ";
        }
        char pct[16];
        std::snprintf(pct, sizeof pct, "%.0f%%", 100 * fraction);
        s += total ? std::string(pct) + " " + std::to_string(done) + "/" + std::to_string(total) + " " + p.unit_
                   : std::to_string(done) + " " + p.unit_;
        const double elapsed = t - p.t_start_;
        s += (bar ? "  " : ", ") + rate_of(p, elapsed);
        const std::uint64_t counted = done - std::min(done, p.done0_.load());
        if (total && counted)
            s += (bar ? "  ETA " : ", ETA ") + format_duration(double(total - done) * elapsed / double(counted));
        if (!bar) s += ", elapsed " + format_duration(t - p.t_begin_);
        if (!p.detail_.empty()) s += (bar ? "  " : ", ") + p.detail_;
        return s;
    }

    // One scope for a watching program: counts, the rate per second of the rate unit, the ETA (null while
    // unknown) and the seconds since the scope opened.
    nlohmann::json as_json(const progress& p) const {
        const double t = now();
        const std::uint64_t total = p.total_, done = p.done_.load();
        nlohmann::json j{{"label", p.label_},
                         {"stage", p.started_ ? "" : p.stage_},
                         {"done", p.started_ ? done : 0},
                         {"total", p.started_ ? total : 0},
                         {"unit", p.unit_},
                         {"rate", nullptr},
                         {"rate_unit", p.rate_unit_.empty() ? p.unit_ : p.rate_unit_},
                         {"eta_s", nullptr},
                         {"elapsed_s", t - p.t_begin_},
                         {"detail", p.detail_}};
        if (!p.started_) return j;
        const double elapsed = std::max(t - p.t_start_, 1e-9);
        const std::uint64_t work = p.work_.load(), counted = done - std::min(done, p.done0_.load());
        j["rate"] = double(work ? work : counted) / elapsed;
        if (total && counted && done <= total) j["eta_s"] = double(total - done) * elapsed / double(counted);
        return j;
    }

    std::string finished(const progress& p) const {
        const double t = now();
        std::string s = p.label_ + ": done";
        if (p.started_) s += ", " + std::to_string(p.done_.load()) + " " + p.unit_ + ", " + rate_of(p, t - p.t_start_);
        return s + ", " + format_duration(t - p.t_begin_);
    }
};

namespace {

// Standard output while a bar is drawn: every write first erases the bar (both go to the same terminal),
// and a line is flushed whole so that the bar redrawn after it lands below it.
class bar_aware_stdout : public std::streambuf {
public:
    explicit bar_aware_stdout(std::streambuf* inner) : inner_(inner) {}

protected:
    int overflow(int c) override {
        if (c == traits_type::eof()) return traits_type::not_eof(c);
        const char ch = traits_type::to_char_type(c);
        return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        auto& r = progress_registry::get();
        std::lock_guard lock(r.m);
        r.erase_locked();
        const std::streamsize written = inner_->sputn(s, n);
        if (n > 0) {
            r.stdout_mid_line = s[n - 1] != '\n';
            if (std::string_view(s, std::size_t(n)).find('\n') != std::string_view::npos) inner_->pubsync();
        }
        return written;
    }
    int sync() override { return inner_->pubsync(); }

private:
    std::streambuf* inner_;
};

}  // namespace

void set_progress_style(progress_style style, double line_seconds) {
    auto& r = progress_registry::get();
    std::lock_guard lock(r.m);
    if (style != progress_style::off) {  // standard error as it is now
        const int copy = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (r.fd != STDERR_FILENO) ::close(r.fd);
        r.fd = copy >= 0 ? copy : STDERR_FILENO;
    }
    r.style = style;
    r.line_seconds = line_seconds > 0 ? line_seconds : 10.0;
    static bool wrapped = false;
    if (style == progress_style::bar && !wrapped) {
        // never destroyed: std::cout is flushed at exit, after function-local statics are gone
        static auto* const buf = new bar_aware_stdout(std::cout.rdbuf());
        std::cout.rdbuf(buf);
        wrapped = true;
    }
}

progress_style configure_progress_from_environment() {
    const char* env = std::getenv("WTASIM_PROGRESS");
    const std::string v = env ? env : "auto";
    progress_style style = isatty(STDERR_FILENO) ? progress_style::bar : progress_style::lines;
    if (v == "off" || v == "0" || v == "none")
        style = progress_style::off;
    else if (v == "lines")
        style = progress_style::lines;
    else if (v == "bar")
        style = progress_style::bar;
    else if (v == "json")
        style = progress_style::json;
    double every = 10.0;
    if (const char* e = std::getenv("WTASIM_PROGRESS_EVERY")) {
        char* end = nullptr;
        const double x = std::strtod(e, &end);
        if (end != e && x > 0) every = x;
    }
    set_progress_style(style, every);
    return style;
}

progress::progress(std::string label, std::uint64_t total, std::string unit, std::string rate_unit)
    : label_(std::move(label)), unit_(std::move(unit)), rate_unit_(std::move(rate_unit)) {
    if (total) {
        total_ = total;
        started_ = true;
    }
    progress_registry::get().attach(this);
}

progress::~progress() {
    progress_registry::get().detach(this);
}

void progress::stage(const std::string& what) {
    auto& r = progress_registry::get();
    std::lock_guard lock(r.m);
    stage_ = what;
    t_stage_ = r.now();
}

void progress::start(std::uint64_t total, std::uint64_t done) {
    auto& r = progress_registry::get();
    std::lock_guard lock(r.m);
    total_ = total;
    done_ = done;
    done0_ = done;
    work_ = 0;
    started_ = true;
    t_start_ = r.now();
}

void progress::add(std::uint64_t items, std::uint64_t rate_work) {
    done_ += items;
    if (rate_work) work_ += rate_work;
}

void progress::set(std::uint64_t done, std::uint64_t rate_work_since_start) {
    done_ = done;
    work_ = rate_work_since_start;
}

void progress::rename(const std::string& label) {
    auto& r = progress_registry::get();
    std::lock_guard lock(r.m);
    label_ = label;
}

void progress::detail(const std::string& text) {
    auto& r = progress_registry::get();
    std::lock_guard lock(r.m);
    detail_ = text;
}

std::string format_duration(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char b[32];
    if (s >= 3600)
        std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60)
        std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(b, sizeof b, "%lds", s);
    return b;
}

}  // namespace wtasim
