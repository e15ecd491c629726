// Progress of long work — training, fine-tuning, scoring, simulating many sequences, the task suite —
// shown on standard error so that standard output stays the result (reports, JSON, tables):
//   - on a terminal, one live line redrawn five times a second from the start of the work:
//       train [=========>          ] 45% 450/1000 steps  2310 tokens/s  ETA 2m05s  loss 3.2100
//     with the enclosing work named in front ("suite 3/9 glue-sst2 | fine-tune ..."); while the work is
//     still preparing (reading a corpus, training a tokenizer) the line names that stage and its seconds;
//   - otherwise (a log file, CI), a plain line every few seconds (10 by default), and none at all for work
//     that ends sooner;
//   - for programs that watch another (wtasim serve), one JSON line per interval instead, naming every
//     open scope, outermost first:
//       progress-json: [{"label":"train","stage":"","done":450,"total":1000,"unit":"steps","rate":2310.0,
//                        "rate_unit":"tokens","eta_s":125.0,"elapsed_s":110.2,"detail":"loss 3.2100"}]
//   - WTASIM_PROGRESS = auto (the default), bar, lines, json or off chooses, WTASIM_PROGRESS_EVERY = seconds
//     sets the interval of plain and JSON lines. The library shows nothing until a program chooses a style (the CLI
//     does; the Python module does not).
// A `progress` is a scope: it appears when constructed and leaves when destroyed. Counts may be added from
// any thread; the line is drawn by one background thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace wtasim {

enum class progress_style { off, lines, bar, json };

// The style from WTASIM_PROGRESS / WTASIM_PROGRESS_EVERY and whether standard error is a terminal; installs
// it (and, for the bar, a standard-output buffer that erases the bar before anything is written).
progress_style configure_progress_from_environment();
void set_progress_style(progress_style style, double line_seconds = 10.0);

class progress {
public:
    // `unit` names what `total` counts ("steps", "sequences"); `rate_unit` what the rate counts ("tokens");
    // empty = the same as unit. total = 0: not known yet (start() sets it).
    explicit progress(std::string label, std::uint64_t total = 0, std::string unit = "", std::string rate_unit = "");
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    // A preparation stage shown with its elapsed seconds until start().
    void stage(const std::string& what);
    // The counted part begins: `total` items, of which `done` are already done (a resumed run); the rate and
    // the ETA are measured from here.
    void start(std::uint64_t total, std::uint64_t done = 0);
    void add(std::uint64_t items, std::uint64_t rate_work = 0);  // thread-safe; rate_work 0 = items
    void set(std::uint64_t done, std::uint64_t rate_work_since_start);
    void detail(const std::string& text);   // shown after the ETA (the loss, the task)
    void rename(const std::string& label);  // once the work knows its name

private:
    friend struct progress_registry;
    std::string label_, unit_, rate_unit_, stage_, detail_;  // guarded by the registry's mutex
    std::atomic<std::uint64_t> total_{0}, done_{0}, done0_{0}, work_{0};
    bool started_ = false, shown_ = false;            // guarded by the registry's mutex
    double t_begin_ = 0, t_stage_ = 0, t_start_ = 0;  // seconds on the registry's clock
};

// "2m05s", "1h12m", "9s"
std::string format_duration(double seconds);

}  // namespace wtasim
