// Writing a file so that a reader, or a crash, sees the old file or the new one and never a part of one:
// the content goes to a temporary file in the same folder, which is fsynced and renamed over the target,
// then the folder is fsynced. On any error the temporary file is removed and the target is untouched.
// Checkpoints, traces, reports and metrics are all written this way.
#pragma once

#include <functional>
#include <string>

namespace wtasim {

// `write(tmp)` fills the temporary file; then it replaces `path`.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);
// The same for a text file (reports, metrics): the stream's state is checked before the rename.
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace wtasim
