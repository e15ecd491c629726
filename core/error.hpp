// The error hierarchy every wtasim library throws from. The library never exits; the mains in tools/
// catch `wtasim::error`, print its one-line message and return non-zero.
// A message names the file or JSON path or dataset, the offending value, and what was expected:
//   "scenarios/x.json: /model/attention/k = 0, must be >= 1"
#pragma once

#include <stdexcept>
#include <string>

namespace wtasim {

struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Bad user input: configuration, scenario, command line, out-of-range parameters.
struct config_error : error {
    using error::error;
};
// Files that cannot be read or written, or do not have the expected layout.
struct io_error : error {
    using error::error;
};
// A backend that is unavailable or does not support what was asked of it, or a device failure.
struct backend_error : error {
    using error::error;
};
// A broken invariant inside wtasim: a bug, never the user's fault.
struct internal_error : error {
    using error::error;
};

}  // namespace wtasim
