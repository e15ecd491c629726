// Atomic file replacement (core/atomic_file.hpp).
#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace wtasim {
namespace {
void fsync_path(const std::string& path, bool directory) {
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) throw io_error(path + ": cannot open to sync it to disk");
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw io_error(path + ": fsync failed");
}
}  // namespace

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code made;
    fs::create_directories(dir, made);  // a missing folder is created; a failure shows at the file's creation
    std::string tmp_name = ".";         // built piecewise: GCC 12 warns falsely (-Wrestrict) on one concatenation
    tmp_name += target.filename().string();
    tmp_name += ".tmp.";
    tmp_name += std::to_string(::getpid());
    const std::string tmp = (dir / tmp_name).string();
    try {
        write(tmp);
        fsync_path(tmp, false);
        std::error_code err;
        fs::rename(tmp, target, err);
        if (err) throw io_error(path + ": cannot replace it (" + err.message() + ")");
        fsync_path(dir.string(), true);
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

void write_text_atomically(const std::string& path, const std::string& text) {
    write_atomically(path, [&](const std::string& tmp) {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw io_error(path + ": cannot write (temporary " + tmp + ")");
        f << text;
        f.flush();
        if (!f) throw io_error(path + ": writing failed (disk full?)");
    });
}

}  // namespace wtasim
