// Atomic file replacement, temporary-file cleanup and output-folder locks (core/atomic_file.hpp).
#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/error.hpp"

namespace wtasim {
namespace fs = std::filesystem;
namespace {
std::string reason(int err) {
    return std::strerror(err);
}

void fsync_path(const std::string& shown, const std::string& path, bool directory) {
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error(shown + ": cannot open to sync it to disk (" + reason(errno) + ")");
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw io_error(shown + ": writing to disk failed (" + reason(err) + ")");
}

// The temporary files being written, for the signal handler: fixed slots, no allocation in the handler.
constexpr std::size_t max_live = 64, max_path = 4096;
struct live_slot {
    std::atomic<bool> used{false};
    char path[max_path] = {};
};
live_slot live[max_live];
std::mutex live_mutex;

int register_temp(const std::string& path) {
    if (path.size() + 1 > max_path) return -1;
    const std::lock_guard<std::mutex> guard(live_mutex);
    for (std::size_t i = 0; i < max_live; ++i) {
        if (live[i].used.load(std::memory_order_relaxed)) continue;
        std::memcpy(live[i].path, path.c_str(), path.size() + 1);
        live[i].used.store(true, std::memory_order_release);
        return static_cast<int>(i);
    }
    return -1;
}

void unregister_temp(int slot) {
    if (slot >= 0) live[slot].used.store(false, std::memory_order_release);
}

extern "C" void remove_temps_and_die(int sig) {
    for (auto& s : live)
        if (s.used.load(std::memory_order_acquire)) ::unlink(s.path);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

// ".<name>.tmp.<pid>" files of processes that no longer run (killed with SIGKILL, or a power cut).
void remove_stale_temps(const fs::path& dir, const std::string& name) {
    const std::string prefix = "." + name + ".tmp.";
    std::error_code err;
    for (fs::directory_iterator it(dir, err), end; !err && it != end; it.increment(err)) {
        const std::string f = it->path().filename().string();
        if (!f.starts_with(prefix)) continue;
        const std::string tail = f.substr(prefix.size());
        if (tail.empty() || tail.size() > 9 || tail.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto pid = static_cast<pid_t>(std::stol(tail));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
        std::error_code ignored;
        fs::remove(it->path(), ignored);
    }
}
}  // namespace

void check_replaceable(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // absent: created
    if (S_ISDIR(st.st_mode)) throw io_error(path + ": is a directory, expected a file to write");
    if (!S_ISREG(st.st_mode)) throw io_error(path + ": is not a regular file; not replaced");
    if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0 || ::access(path.c_str(), W_OK) != 0)
        throw io_error(path + ": is read-only; not replaced (make it writable or choose another output)");
}

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
    if (path.empty()) throw config_error("an output path is empty");
    const fs::path target(path);
    if (!target.has_filename()) throw io_error(path + ": is a directory, expected a file to write");
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code made;
    fs::create_directories(dir, made);
    std::error_code is_dir;
    if (made || !fs::is_directory(dir, is_dir))
        throw io_error(path + ": cannot create its folder " + dir.string() +
                       (made ? " (" + made.message() + ")" : " (a file of that name exists)"));
    check_replaceable(path);
    remove_stale_temps(dir, target.filename().string());
    std::string tmp_name = ".";  // built piecewise: GCC 12 warns falsely (-Wrestrict) on one concatenation
    tmp_name += target.filename().string();
    tmp_name += ".tmp.";
    tmp_name += std::to_string(::getpid());
    const std::string tmp = (dir / tmp_name).string();
    const int slot = register_temp(tmp);
    try {
        write(tmp);
        fsync_path(path, tmp, false);
        std::error_code err;
        fs::rename(tmp, target, err);
        if (err) throw io_error(path + ": cannot replace it (" + err.message() + ")");
        unregister_temp(slot);
        fsync_path(path, dir.string(), true);
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        unregister_temp(slot);
        throw;
    }
}

void write_text_atomically(const std::string& path, const std::string& text) {
    write_atomically(path, [&](const std::string& tmp) {
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) throw io_error(path + ": cannot write (" + reason(errno) + ")");
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const int err = n < 0 ? errno : EIO;
                ::close(fd);
                throw io_error(path + ": writing failed (" + reason(err) + "); the previous file is kept");
            }
            done += static_cast<std::size_t>(n);
        }
        if (::close(fd) != 0)
            throw io_error(path + ": writing failed (" + reason(errno) + "); the previous file is kept");
    });
}

void install_temp_file_cleanup() {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction old {};
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup: stay ignored
        struct sigaction sa {};
        sa.sa_handler = remove_temps_and_die;
        sigemptyset(&sa.sa_mask);
        ::sigaction(sig, &sa, nullptr);
    }
}

bool same_file(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    std::error_code e1, e2;
    if (fs::exists(a, e1) && fs::exists(b, e2)) {
        const bool same = fs::equivalent(a, b, e1);
        if (!e1) return same;
    }
    const fs::path ca = fs::weakly_canonical(fs::absolute(a, e1), e1),
                   cb = fs::weakly_canonical(fs::absolute(b, e2), e2);
    return !e1 && !e2 && ca == cb;
}

void refuse_overwriting_inputs(const std::vector<named_path>& outputs, const std::vector<named_path>& inputs) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const auto& [what, path] = outputs[i];
        if (path.empty()) continue;
        for (const auto& [in_what, in_path] : inputs)
            if (same_file(path, in_path))
                throw config_error(what + " = " + path + " is also the " + in_what +
                                   "; refusing to overwrite an input (choose another output)");
        for (std::size_t j = 0; j < i; ++j)
            if (same_file(path, outputs[j].second))
                throw config_error(what + " = " + path + " is also the " + outputs[j].first +
                                   "; two outputs cannot share a file");
    }
}

folder_lock::folder_lock(const std::string& dir) {
    const std::string lock = (fs::path(dir) / ".wtasim.lock").string();
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw io_error(dir + ": cannot create the lock file .wtasim.lock (" + reason(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (err != EWOULDBLOCK) return;  // a file system without locks: run unlocked
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        throw io_error(dir + ": another wtasim run" + (pid.empty() ? "" : " (pid " + pid + ")") +
                       " is writing this folder; wait for it to end or choose another output");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] const ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
    }
}

folder_lock::~folder_lock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace wtasim
