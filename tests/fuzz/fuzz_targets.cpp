// libFuzzer targets for every reader of user files (docs/hardening.md): the scenario parsers, the model
// config, the energy profile, the checkpoint loader, the trace reader and every task-format and corpus
// reader. One source, one binary per target: tests/fuzz/CMakeLists.txt compiles this file once per name
// with WTASIM_FUZZ_<name> defined.
//
// The contract each target checks: any input either loads or fails with a wtasim::error (the one-line
// message the command line prints). Anything else -- another exception type, a sanitizer report, a crash,
// a leak, a hang or unbounded memory -- is a finding and aborts, so libFuzzer saves the input.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "energy/profile.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"
#include "scenarios/run.hpp"
#include "scenarios/suite.hpp"
#include "scenarios/task.hpp"
#include "scenarios/train.hpp"
#include "sim/network.hpp"
#include "sim/trace.hpp"
#include "tasks/finetune.hpp"
#include "tasks/formats.hpp"
#include "training/corpus.hpp"
#include "training/language_model.hpp"
#include "training/tokenizer.hpp"

namespace {

const std::string source_dir = WTASIM_SOURCE_DIR;

// The input as a file (the readers under test take paths, as the command line does); one per process.
std::string as_file(const std::uint8_t* data, std::size_t size, const char* suffix) {
    const char* tmp = std::getenv("TMPDIR");
    static const std::string path =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/wtasim-fuzz-" + std::to_string(::getpid()) + suffix;
    static const bool cleaned = [] { return std::atexit([] { std::remove(path.c_str()); }) == 0; }();
    (void)cleaned;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    f.close();
    if (!f) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

// The input's first byte picks one of `n` variants (a GLUE task, a multiple-choice format); the rest is the text.
std::size_t pick(const std::uint8_t*& data, std::size_t& size, std::size_t n) {
    if (size == 0) return 0;
    const std::size_t k = data[0] % n;
    ++data;
    --size;
    return k;
}

template <class F>
int check(F&& f) {
    try {
        f();
    } catch (const wtasim::error&) {
        // a clear error: what the command line prints as one line
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz finding: an exception that is not a wtasim::error escaped: %s\n", e.what());
        std::abort();
    }
    return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace wtasim;
    [[maybe_unused]] const std::string text(reinterpret_cast<const char*>(data), size);
    // Relative paths in a scenario resolve against its folder: the inputs sit where the shipped ones do.
    [[maybe_unused]] const std::string scenarios = source_dir + "/scenarios/fuzz-input.json";
#if defined(WTASIM_FUZZ_run_scenario)
    return check([&] { run_scenario::from_json(text, scenarios); });
#elif defined(WTASIM_FUZZ_task_scenario)
    return check([&] { task_scenario::from_json(text, source_dir + "/scenarios/tasks/fuzz-input.json"); });
#elif defined(WTASIM_FUZZ_train_scenario)
    return check([&] { parse_train_scenario(text, scenarios); });
#elif defined(WTASIM_FUZZ_suite_scenario)
    return check([&] { suite_scenario::from_json(text, scenarios, task_overrides{}); });
#elif defined(WTASIM_FUZZ_model_config)
    return check([&] { model_config::from_json(text, "fuzz-input.json"); });
#elif defined(WTASIM_FUZZ_energy_profile)
    return check([&] { parse_energy_profile(text, "fuzz-input.json"); });
#elif defined(WTASIM_FUZZ_checkpoint)
    // What `wtasim run` and fine-tuning do with a checkpoint: load it, fold it for the simulator (which checks
    // every shape against the stored config before anything of that size is allocated), fill the trainer's
    // model, and use the stored tokenizer.
    const std::string path = as_file(data, size, ".h5");
    return check([&] {
        const checkpoint c = load_checkpoint(path);
        const sim_network net = sim_network::from_checkpoint(c, path);
        language_model m(net.cfg);
        load_pretrained(m, c, path);
        if (!c.tokenizer.empty()) {
            const tokenizer tok = tokenizer::from_bytes(c.tokenizer, path);
            tok.decode(tok.encode("In the beginning God created the heaven and the earth."));
        }
    });
#elif defined(WTASIM_FUZZ_trace)
    const std::string path = as_file(data, size, ".h5");
    return check([&] {
        std::ostringstream out;
        print_trace_summary(path, out);
    });
#elif defined(WTASIM_FUZZ_glue_tsv)
    static const char* const tasks[] = {"cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte"};
    const std::size_t k = pick(data, size, std::size(tasks));
    const std::string path = as_file(data, size, ".tsv");
    return check([&] { read_glue_tsv(tasks[k], path); });
#elif defined(WTASIM_FUZZ_boolq_jsonl)
    const std::string path = as_file(data, size, ".jsonl");
    return check([&] { read_boolq_jsonl(path); });
#elif defined(WTASIM_FUZZ_multiple_choice_jsonl)
    static const char* const formats[] = {"arc", "openbookqa", "piqa", "hellaswag", "winogrande"};
    const std::size_t k = pick(data, size, std::size(formats));
    const std::string path = as_file(data, size, ".jsonl");
    return check([&] { read_multiple_choice_jsonl(formats[k], path); });
#elif defined(WTASIM_FUZZ_squad_json)
    const std::string path = as_file(data, size, ".json");
    return check([&] { read_squad_json(path); });
#elif defined(WTASIM_FUZZ_corpus_file)
    // A user's corpus ("data": {"path": ...}): plain text or JSONL, picked by the first byte.
    const std::size_t k = pick(data, size, 2);
    const std::string path = as_file(data, size, k == 0 ? ".txt" : ".jsonl");
    return check([&] {
        if (k == 0)
            read_text_file(path);
        else
            read_jsonl(path);
    });
#else
#error "define WTASIM_FUZZ_<target>"
#endif
}
