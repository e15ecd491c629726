// wtasim serve (docs/serve.md): runs, tasks, trainings and generation over HTTP, with a dashboard.
//   GET  /v1/health                  {"status": "ok", "version": ...}; the only route without the token
//   POST /v1/runs                    a run, task or train scenario as the body -> 201 {"id": ...}
//   GET  /v1/runs, /v1/runs/{id}     state, progress (rate, ETA), metrics so far, the error line, artefacts
//   DELETE /v1/runs/{id}             cancel
//   GET  /v1/runs/{id}/{artefact}    report.json | .md | .html, trace.h5, result.json, predictions.jsonl, ...
//   POST /v1/generate                JSON lines (or server-sent events), one per token with its energy
//   GET  /v1/openapi.json            this API in OpenAPI 3
//   GET  /                           the dashboard (serve/dashboard/, compiled in)
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "serve/http.hpp"
#include "serve/runs.hpp"

namespace wtasim::serve {

struct serve_options {
    std::string bind = "127.0.0.1";
    unsigned short port = 8080;  // 0: any free port (printed)
    std::string data_dir;
    // Folders scenario paths may name; relative paths start in the first. Default: the working directory. The
    // data folder is always allowed.
    std::vector<std::string> roots;
    std::string profile = "horowitz45-fp32";  // generation's energy profile unless a request names one
    http::limits limits;
    queue_limits queue;
};

// Serves until SIGINT or SIGTERM; prints where it listens and where the token is.
int serve(const serve_options& o, std::ostream& out);

}  // namespace wtasim::serve
