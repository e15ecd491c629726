// HDF5 checkpoints (docs/model.md §8): round trip of every part, clear errors for files that are not ours, and
// atomic writes: a writer killed with SIGKILL at random moments never leaves a broken checkpoint.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/checkpoint.hpp"
#include "model/h5.hpp"
#include "model/weights.hpp"

using namespace wtasim;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
    const fs::path dir = fs::temp_directory_path() / ("wtasim_ckpt_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

tensor<float> filled(shape_t shape, std::uint64_t stream) {
    tensor<float> t(std::move(shape));
    counter_rng(4).fill_normal(t.data(), t.size(), stream, 0, 0.0f, 1.0f);
    return t;
}

checkpoint sample(std::int64_t step, std::size_t big = 8) {
    checkpoint c;
    c.config = R"({"model": {"D": 8, "H": 2}})";
    c.step = step;
    c.params["embed.tok.weight"] = filled({big * 100, 8}, 1);
    c.params["blocks.0.attn.q.weight"] = filled({8, 8}, 2);
    c.params["head.bias"] = filled({big * 100}, 3);
    c.buffers["blocks.0.attn.q.bn.running_var"] = filled({8}, 4);
    c.optimizer["m.head.bias"] = filled({big * 100}, 5);
    c.tokenizer = {1, 2, 3, 0, 255};
    c.rng = R"({"seed": 7, "step": 3})";
    c.params["head.bias"].data()[0] = static_cast<float>(step);  // marks the version
    return c;
}

void check_equal(const checkpoint& a, const checkpoint& b) {
    CHECK(a.config == b.config);
    CHECK(a.step == b.step);
    CHECK(a.rng == b.rng);
    CHECK(a.tokenizer == b.tokenizer);
    for (auto m : {&checkpoint::params, &checkpoint::buffers, &checkpoint::optimizer}) {
        REQUIRE((a.*m).size() == (b.*m).size());
        for (const auto& [name, t] : a.*m) {
            CAPTURE(name);
            REQUIRE((b.*m).count(name) == 1);
            CHECK((b.*m).at(name).shape() == t.shape());
            CHECK((b.*m).at(name).values() == t.values());
        }
    }
}
}  // namespace

TEST_CASE("checkpoint: every part survives a round trip, with docs/model.md §8's names and attributes") {
    const fs::path dir = temp_dir();
    const std::string path = (dir / "a.h5").string();
    const checkpoint c = sample(42);
    save_checkpoint(path, c);
    check_equal(c, load_checkpoint(path));
    const h5::file f(path, h5::mode::read);
    CHECK(f.attr_string("/", "format") == "wtasim-checkpoint");
    CHECK(f.attr_int("/", "format_version") == checkpoint_format_version);
    CHECK(f.attr_int("/", "step") == 42);
    CHECK(f.shape("/params/embed.tok.weight") == shape_t{800, 8});
    CHECK(f.shape("/tokenizer/model") == shape_t{5});
    // no temporary file is left next to it
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
    CHECK(files == 1);
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: files that are not wtasim checkpoints give one clear error") {
    const fs::path dir = temp_dir();
    const std::string text = (dir / "text.h5").string(), other = (dir / "other.h5").string(),
                      newer = (dir / "newer.h5").string();
    std::ofstream(text) << "not hdf5";
    CHECK_THROWS_WITH_AS(load_checkpoint(text), (text + ": cannot open as an HDF5 file").c_str(), io_error);
    CHECK_THROWS_WITH_AS(load_checkpoint((dir / "missing.h5").string()),
                         ((dir / "missing.h5").string() + ": no such checkpoint file").c_str(), io_error);
    {
        h5::file f(other, h5::mode::create);
        f.set_attr("/", "format", std::string("wtasim-trace"));
    }
    CHECK_THROWS_WITH_AS(load_checkpoint(other),
                         (other + ": not a wtasim checkpoint (root attribute format != \"wtasim-checkpoint\")").c_str(),
                         io_error);
    save_checkpoint(newer, sample(1));
    {
        // h5::file opens read-only or creates; rewrite the version through a fresh file with the same content
        checkpoint c = load_checkpoint(newer);
        h5::file f(newer, h5::mode::create);
        f.set_attr("/", "format", std::string("wtasim-checkpoint"));
        f.set_attr("/", "format_version", std::int64_t{99});
    }
    CHECK_THROWS_WITH_AS(load_checkpoint(newer),
                         (newer + ": checkpoint format_version = 99, this wtasim reads 1 to 1").c_str(), io_error);
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: h5 strings are variable-length UTF-8 and read back as written; float64 tables too") {
    const fs::path dir = temp_dir();
    const std::string path = (dir / "strings.h5").string();
    const std::vector<std::string> words{"<s>", " über", "", "日本語", std::string(300, 'x')};
    {
        h5::file f(path, h5::mode::create);
        f.write_strings("/g/words", words);
        f.set_attr("/", "empty", std::string());
        f.set_attr("/", "text", std::string(" über \"quoted\""));
        f.set_attr("/g/words", "units", std::string("text"));
        const std::vector<double> pj{0.5, 1e-300, 3.25e12};
        f.write("/g/pj", {3}, pj.data());
        f.close();
    }
    const h5::file f(path, h5::mode::read);
    CHECK(f.read_strings("/g/words") == words);
    CHECK(f.attr_string("/", "empty").empty());
    CHECK(f.attr_string("/", "text") == " über \"quoted\"");
    CHECK(f.attr_string("/g/words", "units") == "text");
    CHECK(f.read_doubles("/g/pj") == std::vector<double>{0.5, 1e-300, 3.25e12});
    CHECK_THROWS_AS(f.read_strings("/g/pj"), io_error);  // not a list of strings
    CHECK_THROWS_AS(f.read_floats("/g/pj"), io_error);   // float64 is never narrowed silently
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: a running variance of 0 loads (a silent channel reaches it), a negative one is refused") {
    checkpoint c;
    tensor<float> rv({3}, 1.0f);
    rv.data()[1] = 0.0f;
    c.buffers["blocks.0.attn.o.bn.running_var"] = rv;
    CHECK(checkpoint_tensor(c, weight_group::buffers, "blocks.0.attn.o.bn.running_var", {3}, "m.h5").data()[1] == 0.0f);
    c.buffers["blocks.0.attn.o.bn.running_var"].data()[2] = -0.5f;
    CHECK_THROWS_WITH_AS(checkpoint_tensor(c, weight_group::buffers, "blocks.0.attn.o.bn.running_var", {3}, "m.h5"),
                         "m.h5: /buffers/blocks.0.attn.o.bn.running_var[2] = -0.5, a BatchNorm running variance must "
                         "be >= 0",
                         io_error);
}

TEST_CASE("checkpoint: a writer killed with SIGKILL at any moment leaves the old or the new checkpoint") {
    const fs::path dir = temp_dir();
    const std::string path = (dir / "live.h5").string();
    save_checkpoint(path, sample(0, 200));  // about 1.3 MB per version
    counter_rng rng(11);
    std::size_t versions_seen = 0;
    for (int round = 0; round < 12; ++round) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            for (std::int64_t v = 1;; ++v) save_checkpoint(path, sample(v, 200));  // until killed
        }
        // A version takes milliseconds to write (far longer under sanitizers): kill somewhere in 5-200 ms.
        std::this_thread::sleep_for(std::chrono::microseconds(5000 + rng.below(0, round, 195000)));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        const checkpoint c = load_checkpoint(path);  // must not throw
        CHECK(c.params.at("head.bias").data()[0] == static_cast<float>(c.step));
        versions_seen += c.step > 0 ? 1 : 0;
    }
    CHECK(versions_seen > 0);  // the writer did get new versions in
    fs::remove_all(dir);
}

TEST_CASE("fixture: write a checkpoint for the h5py and h5dump checks") {
    const char* out = std::getenv("WTASIM_FIXTURE_DIR");
    if (!out) return;  // only when run as the CTest fixture
    fs::create_directories(out);
    save_checkpoint((fs::path(out) / "checkpoint.h5").string(), sample(7));
}
