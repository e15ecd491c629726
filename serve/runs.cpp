// The run queue of wtasim serve (serve/runs.hpp).
#include "serve/runs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace wtasim::serve {
namespace fs = std::filesystem;

namespace {

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

const run_state all_states[] = {run_state::queued, run_state::running, run_state::done, run_state::failed,
                                run_state::cancelled};

bool is_training(const std::string& kind) {
    return kind == "train" || kind == "task";
}

// The run's error line: the last "wtasim: ..." line its stderr holds.
std::string error_line(const std::string& stderr_path) {
    const std::string tail = file_tail(stderr_path, 16384);
    std::string last;
    std::size_t at = 0;
    while (at < tail.size()) {
        std::size_t end = tail.find('\n', at);
        if (end == std::string::npos) end = tail.size();
        const std::string line = tail.substr(at, end - at);
        if (line.starts_with("wtasim: ")) last = line;
        at = end + 1;
    }
    return last;
}

}  // namespace

const char* run_state_name(run_state s) {
    switch (s) {
        case run_state::queued:
            return "queued";
        case run_state::running:
            return "running";
        case run_state::done:
            return "done";
        case run_state::failed:
            return "failed";
        case run_state::cancelled:
            return "cancelled";
    }
    return "?";
}

nlohmann::json run_record::to_json() const {
    return {{"id", id},
            {"kind", kind},
            {"name", name},
            {"state", run_state_name(state)},
            {"created", created},
            {"started", started},
            {"finished", finished},
            {"error", error},
            {"base", base},
            {"exit_code", exit_code},
            {"restarts", restarts},
            {"resume", resume},
            {"pid", pid},
            {"cancel_requested", cancel_requested}};
}

run_record run_record::from_json(const nlohmann::json& j) {
    run_record r;
    r.id = j.at("id").get<std::string>();
    r.kind = j.at("kind").get<std::string>();
    r.name = j.value("name", "");
    const std::string state = j.at("state").get<std::string>();
    bool known = false;
    for (run_state s : all_states)
        if (state == run_state_name(s)) r.state = s, known = true;
    if (!known) throw io_error("run " + r.id + ": unknown state \"" + state + "\"");
    r.created = j.value("created", "");
    r.started = j.value("started", "");
    r.finished = j.value("finished", "");
    r.error = j.value("error", "");
    r.exit_code = j.value("exit_code", -1);
    r.restarts = j.value("restarts", 0u);
    r.base = j.value("base", "");
    r.resume = j.value("resume", false);
    r.pid = j.value("pid", 0L);
    r.cancel_requested = j.value("cancel_requested", false);
    return r;
}

std::string file_tail(const std::string& path, std::size_t bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    const std::streamoff from = size > std::streamoff(bytes) ? size - std::streamoff(bytes) : 0;
    in.seekg(from);
    std::string text(std::size_t(size - from), '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(std::size_t(in.gcount()));
    return text;
}

struct run_queue::impl {
    std::string dir;  // DIR/runs
    std::vector<std::string> command;
    std::string workdir;
    queue_limits limits;
    mutable std::mutex m;
    std::condition_variable cv;
    std::map<std::string, run_record> runs;  // ids sort in submission order
    std::map<std::string, std::chrono::steady_clock::time_point> term_sent;
    std::uint64_t next_id = 1;
    bool stopping = false;
    recovery found;
    std::thread supervisor;

    std::string folder(const std::string& id) const { return dir + "/" + id; }

    void save(const run_record& r) const {
        write_text_atomically(folder(r.id) + "/run.json", r.to_json().dump(2) + "\n");
    }

    void recover() {
        std::error_code err;
        for (const auto& e : fs::directory_iterator(dir, err)) {
            const std::string name = e.path().filename().string();
            if (name.size() != 7 || name[0] != 'r' || name.find_first_not_of("0123456789", 1) != std::string::npos)
                continue;
            next_id = std::max<std::uint64_t>(next_id, std::stoull(name.substr(1)) + 1);
            const std::string record = e.path().string() + "/run.json";
            if (!fs::exists(record)) continue;  // allocated, never accepted (the server stopped mid-submission)
            run_record r;
            try {
                r = run_record::from_json(nlohmann::json::parse(file_tail(record, 1 << 20)));
            } catch (const std::exception& ex) {
                throw io_error(record + ": unreadable run record (" + std::string(ex.what()) + ")");
            }
            if (r.state == run_state::running && r.cancel_requested) {  // cancelled, then the server stopped
                r.state = run_state::cancelled;
                r.finished = utc_now();
                r.pid = 0;
                save(r);
                ++found.past;
            } else if (r.state == run_state::running) {
                if (r.kind == "train") {  // a training continues from its last checkpoint
                    r.state = run_state::queued;
                    r.resume = fs::exists(folder(r.id) + "/checkpoint.h5");
                    ++r.restarts;
                    ++found.resumed;
                } else {
                    r.state = run_state::failed;
                    r.error = "wtasim serve: the server stopped while this run was running; submit it again";
                    r.finished = utc_now();
                    ++found.failed;
                }
                r.pid = 0;
                save(r);
            } else if (r.state == run_state::queued) {
                ++found.queued;
            } else {
                ++found.past;
            }
            runs[r.id] = r;
        }
    }

    // fork and exec the run's wtasim; everything the child needs is prepared before fork (only
    // async-signal-safe calls between fork and exec).
    long spawn(const run_record& r) {
        const std::string f = folder(r.id);
        std::vector<std::string> args{command.front(), "--paths-from", r.base.empty() ? workdir : r.base};
        args.insert(args.end(), command.begin() + 1, command.end());
        args.push_back(r.kind);
        args.push_back(f + "/scenario.json");
        if (r.resume) args.push_back("--resume");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_text;
        for (char** e = environ; *e; ++e) {
            const std::string_view v(*e);
            if (!v.starts_with("WTASIM_PROGRESS=") && !v.starts_with("WTASIM_PROGRESS_EVERY="))
                env_text.emplace_back(v);
        }
        env_text.push_back("WTASIM_PROGRESS=json");
        env_text.push_back("WTASIM_PROGRESS_EVERY=0.5");
        std::vector<char*> envp;
        for (auto& e : env_text) envp.push_back(e.data());
        envp.push_back(nullptr);
        const std::string out_path = f + "/stdout.log", err_path = f + "/stderr.log";
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        const int errfd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (out < 0 || errfd < 0 || devnull < 0) {
            for (int fd : {out, errfd, devnull})
                if (fd >= 0) ::close(fd);
            throw io_error(f + ": cannot open the run's logs");
        }
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::setpgid(0, 0);                          // its own group: a cancel reaches what it starts too
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);       // dies with the server's supervisor thread
            if (::getppid() != parent) ::_exit(127);  // the server died before prctl
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGINT and SIGTERM in its threads
            ::dup2(devnull, 0);
            ::dup2(out, 1);
            ::dup2(errfd, 2);
            // nothing else of the server's (its sockets, files being served) reaches the run: Asio and Beast open
            // them without close-on-exec
            if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
                for (int fd = 3; fd < 65536; ++fd) ::close(fd);
            if (::chdir(workdir.c_str()) != 0) ::_exit(126);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        for (int fd : {out, errfd, devnull}) ::close(fd);
        if (pid < 0) throw io_error(f + ": cannot start the run (fork failed)");
        ::setpgid(pid, pid);  // also here, so that a cancel at once finds the group
        return pid;
    }

    void reap_locked() {
        for (auto& [id, r] : runs) {
            if (r.state != run_state::running || r.pid <= 0) continue;
            int status = 0;
            const pid_t got = ::waitpid(pid_t(r.pid), &status, WNOHANG);
            if (got == 0) {
                const auto t = term_sent.find(id);
                if (t != term_sent.end() && std::chrono::steady_clock::now() - t->second > std::chrono::seconds(5))
                    ::kill(-pid_t(r.pid), SIGKILL);
                continue;
            }
            r.exit_code = got > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            r.finished = utc_now();
            r.pid = 0;
            term_sent.erase(id);
            if (r.cancel_requested) {
                r.state = run_state::cancelled;
            } else if (got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                r.state = run_state::done;
            } else {
                r.state = run_state::failed;
                r.error = error_line(folder(id) + "/stderr.log");
                if (r.error.empty())
                    r.error = got > 0 && WIFSIGNALED(status)
                                  ? "wtasim serve: the run was killed by signal " + std::to_string(WTERMSIG(status))
                                  : "wtasim serve: the run ended with exit status " + std::to_string(r.exit_code);
            }
            save(r);
        }
    }

    void start_locked() {
        unsigned sims = 0, trains = 0;
        for (const auto& [id, r] : runs)
            if (r.state == run_state::running) ++(is_training(r.kind) ? trains : sims);
        for (auto& [id, r] : runs) {
            if (r.state != run_state::queued) continue;
            unsigned& used = is_training(r.kind) ? trains : sims;
            if (used >= (is_training(r.kind) ? limits.trainings : limits.simulations)) continue;
            try {
                r.pid = spawn(r);
                r.state = run_state::running;
                r.started = utc_now();
                ++used;
            } catch (const error& e) {
                r.state = run_state::failed;
                r.error = std::string("wtasim serve: ") + e.what();
                r.finished = utc_now();
            }
            save(r);
        }
    }

    void supervise() {
        std::unique_lock lock(m);
        while (!stopping) {
            try {
                reap_locked();
                start_locked();
            } catch (const std::exception& e) {  // a full disk: said, and tried again
                std::fprintf(stderr, "wtasim serve: %s\n", e.what());
            }
            cv.wait_for(lock, std::chrono::milliseconds(100));
        }
        for (auto& [id, r] : runs)
            if (r.state == run_state::running && r.pid > 0) {
                ::kill(-pid_t(r.pid), SIGKILL);
                ::kill(pid_t(r.pid), SIGKILL);
            }
        for (auto& [id, r] : runs)
            if (r.state == run_state::running && r.pid > 0) ::waitpid(pid_t(r.pid), nullptr, 0);
        // their records stay "running": the next start resumes or fails them as after a crash
    }
};

run_queue::run_queue(std::string data_dir, std::vector<std::string> command, std::string workdir, queue_limits limits)
    : m_(std::make_unique<impl>()) {
    m_->dir = data_dir + "/runs";
    m_->command = std::move(command);
    m_->workdir = std::move(workdir);
    m_->limits = limits;
    fs::create_directories(m_->dir);
    m_->recover();
    m_->supervisor = std::thread([this] { m_->supervise(); });
}

run_queue::~run_queue() {
    {
        std::lock_guard lock(m_->m);
        m_->stopping = true;
    }
    m_->cv.notify_all();
    m_->supervisor.join();
}

std::string run_queue::allocate() {
    std::lock_guard lock(m_->m);
    for (;;) {
        char id[16];
        std::snprintf(id, sizeof id, "r%06llu", static_cast<unsigned long long>(m_->next_id++));
        std::error_code err;
        if (fs::create_directory(m_->folder(id), err)) return id;
        if (err) throw io_error(m_->folder(id) + ": cannot create the run's folder (" + err.message() + ")");
    }
}

std::string run_queue::folder(const std::string& id) const {
    return m_->folder(id);
}

void run_queue::discard(const std::string& id) {
    std::error_code err;
    fs::remove_all(m_->folder(id), err);
}

void run_queue::enqueue(const std::string& id, const std::string& kind, const std::string& name,
                        const std::string& base) {
    run_record r;
    r.id = id;
    r.kind = kind;
    r.name = name;
    r.base = base;
    r.created = utc_now();
    {
        std::lock_guard lock(m_->m);
        m_->save(r);
        m_->runs[id] = r;
    }
    m_->cv.notify_all();
}

std::vector<run_record> run_queue::list() const {
    std::lock_guard lock(m_->m);
    std::vector<run_record> out;
    out.reserve(m_->runs.size());
    for (const auto& [id, r] : m_->runs) out.push_back(r);
    return out;
}

std::optional<run_record> run_queue::get(const std::string& id) const {
    std::lock_guard lock(m_->m);
    const auto it = m_->runs.find(id);
    if (it == m_->runs.end()) return std::nullopt;
    return it->second;
}

bool run_queue::cancel(const std::string& id, std::string& why) {
    std::lock_guard lock(m_->m);
    const auto it = m_->runs.find(id);
    if (it == m_->runs.end()) {
        why = "no run " + id;
        return false;
    }
    run_record& r = it->second;
    if (r.state == run_state::queued) {
        r.state = run_state::cancelled;
        r.cancel_requested = true;
        r.finished = utc_now();
        m_->save(r);
        return true;
    }
    if (r.state != run_state::running) {
        why = "run " + id + " has already ended (" + run_state_name(r.state) + ")";
        return false;
    }
    if (!r.cancel_requested) {
        r.cancel_requested = true;
        m_->save(r);
        ::kill(-pid_t(r.pid), SIGTERM);
        m_->term_sent[id] = std::chrono::steady_clock::now();
    }
    return true;
}

run_queue::recovery run_queue::recovered() const {
    std::lock_guard lock(m_->m);
    return m_->found;
}

}  // namespace wtasim::serve
