// The run queue of wtasim serve (docs/serve.md, "Runs"): every run is a folder DIR/runs/<id> holding the
// scenario as submitted (its outputs pointed into the folder), the run's record run.json (written atomically at
// every change of state), the child process's stdout.log and stderr.log, and whatever the run writes.
//   - a run is a child process `wtasim [--paths-from R --confine-to ...] run|task|train <folder>/scenario.json`,
//     started by one supervisor thread, at most `simulations` runs and `trainings` trainings and tasks at once,
//     in the order they were submitted; it dies with the server (PR_SET_PDEATHSIG);
//   - cancelling a queued run removes it from the queue; a running one gets SIGTERM, then SIGKILL 5 s later;
//   - a restarted server reads every run.json: queued runs stay queued; a training that was running is queued
//     again and resumes from its checkpoint (`--resume`), any other running run is marked failed.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace wtasim::serve {

enum class run_state { queued, running, done, failed, cancelled };
const char* run_state_name(run_state s);

struct run_record {
    std::string id;    // "r000042": increasing, never reused in a data folder
    std::string kind;  // run, task or train
    std::string name;  // what the scenario runs (its checkpoint, task or output), for lists
    run_state state = run_state::queued;
    std::string created, started, finished;  // UTC ISO 8601
    std::string error;                       // failed: the run's one error line
    int exit_code = -1;
    std::string base;       // the folder its relative paths start in ("" = the server's first root)
    unsigned restarts = 0;  // times a server restart resumed it
    bool resume = false;    // the next start continues from the run's checkpoint
    long pid = 0;
    bool cancel_requested = false;

    nlohmann::json to_json() const;
    static run_record from_json(const nlohmann::json& j);
};

struct queue_limits {
    unsigned simulations = 2;  // `run` scenarios at once
    unsigned trainings = 1;    // `train` and `task` scenarios at once
};

class run_queue {
public:
    // `command` is the wtasim executable and the options put before the subcommand (a run's `--paths-from`, its
    // base or `workdir`, is added); children start in `workdir`.
    run_queue(std::string data_dir, std::vector<std::string> command, std::string workdir, queue_limits limits);
    ~run_queue();  // stops the supervisor and kills the children
    run_queue(const run_queue&) = delete;
    run_queue& operator=(const run_queue&) = delete;

    // A new run folder (not listed until enqueue()); discard() removes one that failed validation.
    std::string allocate();
    std::string folder(const std::string& id) const;
    void discard(const std::string& id);
    void enqueue(const std::string& id, const std::string& kind, const std::string& name, const std::string& base = "");

    std::vector<run_record> list() const;  // oldest first
    std::optional<run_record> get(const std::string& id) const;
    // false (and why) when there is no such run or it has already ended.
    bool cancel(const std::string& id, std::string& why);
    // What the restart found: runs kept queued, trainings resumed, runs marked failed.
    struct recovery {
        std::size_t queued = 0, resumed = 0, failed = 0, past = 0;
    };
    recovery recovered() const;

private:
    struct impl;
    std::unique_ptr<impl> m_;
};

// The last `bytes` of a file (less when it is shorter; "" when missing).
std::string file_tail(const std::string& path, std::size_t bytes);

}  // namespace wtasim::serve
