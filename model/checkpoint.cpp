// HDF5 checkpoints (training/checkpoint.hpp).
#include "model/checkpoint.hpp"

#include <cstdio>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "model/h5.hpp"

namespace wtasim {
namespace {
void write_group(h5::file& f, const std::string& group, const std::map<std::string, tensor<float>>& items) {
    f.create_group(group);
    for (const auto& [name, t] : items) {
        if (name.empty() || name.find('/') != std::string::npos)
            throw internal_error("checkpoint: tensor name \"" + name + "\" must be non-empty and contain no '/'");
        f.write(group + "/" + name, t.shape(), t.data());
    }
}

std::map<std::string, tensor<float>> read_group(const h5::file& f, const std::string& group) {
    std::map<std::string, tensor<float>> items;
    if (!f.exists(group)) return items;
    for (const std::string& name : f.children(group)) items.emplace(name, f.read_floats(group + "/" + name));
    return items;
}
}  // namespace

void save_checkpoint(const std::string& path, const checkpoint& c) {
    write_atomically(path, [&](const std::string& tmp) {
        h5::file f(tmp, h5::mode::create, path);
        f.set_attr("/", "format", std::string("wtasim-checkpoint"));
        f.set_attr("/", "format_version", checkpoint_format_version);
        f.set_attr("/", "config", c.config);
        f.set_attr("/", "step", c.step);
        if (!c.rng.empty()) f.set_attr("/", "rng", c.rng);
        write_group(f, "/params", c.params);
        write_group(f, "/buffers", c.buffers);
        if (!c.optimizer.empty()) write_group(f, "/optimizer", c.optimizer);
        if (!c.tokenizer.empty()) f.write("/tokenizer/model", {c.tokenizer.size()}, c.tokenizer.data());
        f.flush();
        f.close();
    });
}

checkpoint load_checkpoint(const std::string& path) {
    std::error_code err;
    if (std::filesystem::is_directory(path, err)) throw io_error(path + ": is a directory, expected a checkpoint file");
    if (!std::filesystem::exists(path, err)) throw io_error(path + ": no such checkpoint file");
    const h5::file f(path, h5::mode::read);
    if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "wtasim-checkpoint")
        throw io_error(path + ": not a wtasim checkpoint (root attribute format != \"wtasim-checkpoint\")");
    const auto version = f.attr_int("/", "format_version");
    if (version < 1 || version > checkpoint_format_version)
        throw io_error(path + ": checkpoint format_version = " + std::to_string(version) + ", this wtasim reads 1 to " +
                       std::to_string(checkpoint_format_version));
    checkpoint c;
    c.config = f.attr_string("/", "config");
    c.step = f.attr_int("/", "step");
    if (f.has_attr("/", "rng")) c.rng = f.attr_string("/", "rng");
    c.params = read_group(f, "/params");
    c.buffers = read_group(f, "/buffers");
    c.optimizer = read_group(f, "/optimizer");
    if (f.exists("/tokenizer/model")) c.tokenizer = f.read_bytes("/tokenizer/model");
    return c;
}

}  // namespace wtasim
