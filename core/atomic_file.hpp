// Writing a file so that a reader, or a crash, sees the old file or the new one and never a part of one:
// the content goes to a temporary file in the same folder, which is fsynced and renamed over the target,
// then the folder is fsynced. On any error the temporary file is removed and the target is untouched.
// Checkpoints, traces, reports and metrics are all written this way.
//
// Around that, what keeps a user's file safe (docs/scenarios.md, "Files, locks and limits"):
//   - an existing target that is a folder, or is read-only (no write permission bit), is refused before
//     anything is written: "<path>: is read-only; not replaced";
//   - the temporary file is named ".<name>.tmp.<pid>"; one left by a process that no longer runs (kill -9)
//     is removed the next time the same target is written;
//   - with install_temp_file_cleanup(), SIGINT, SIGTERM and SIGHUP remove the temporary files being written
//     before the process ends with the signal;
//   - messages name the user's file and the system's reason, never the temporary file alone.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace wtasim {

// `write(tmp)` fills the temporary file; then it replaces `path`.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);
// The same for a text file (reports, metrics): the stream's state is checked before the rename.
void write_text_atomically(const std::string& path, const std::string& text);

// Throws io_error when `path` exists and cannot be replaced (a folder, a read-only file). write_atomically
// calls it; callers with several outputs call it for each first, so that no output is written when one fails.
void check_replaceable(const std::string& path);

// Installs the SIGINT / SIGTERM / SIGHUP handlers that remove the temporary files of write_atomically
// (the mains in tools/ call it once).
void install_temp_file_cleanup();

// True when `a` and `b` name the same file (the same inode when both exist, else the same normalised path).
bool same_file(const std::string& a, const std::string& b);

// An output must differ from every input and from every other output; the first clash is a config_error
// "<what output> = <path> is also <what input>; refusing to overwrite it". Pairs are {what, path}; empty
// paths are skipped. Called before anything is written.
using named_path = std::pair<std::string, std::string>;
void refuse_overwriting_inputs(const std::vector<named_path>& outputs, const std::vector<named_path>& inputs);

// An exclusive lock on an output folder for the lifetime of the object (flock on "<dir>/.wtasim.lock",
// which holds the owner's pid). A second run on the same folder fails at once with io_error
// "<dir>: another wtasim run (pid N) is writing this folder". The kernel drops the lock when the process
// ends, however it ends, so a killed run never leaves the folder locked.
class folder_lock {
public:
    explicit folder_lock(const std::string& dir);
    folder_lock(const folder_lock&) = delete;
    folder_lock& operator=(const folder_lock&) = delete;
    ~folder_lock();

private:
    int fd_ = -1;
};

}  // namespace wtasim
