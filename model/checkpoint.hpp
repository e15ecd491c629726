// Checkpoints in HDF5 exactly as docs/model.md §8: root attributes format = "wtasim-checkpoint", format_version,
// config (JSON text of the model config), step; /params/<name> float32 and /buffers/<name> (PyTorch
// state_dict names); /tokenizer/model uint8 (the SentencePiece model bytes, so a checkpoint is
// self-contained); optional /optimizer/<name> and the RNG state (root attribute "rng", JSON) for exact
// resume. Written atomically: a temporary file in the same folder, fsync, rename over the target, fsync
// of the folder — a reader (or a crash) sees the old checkpoint or the new one, never half of one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace wtasim {

inline constexpr std::int64_t checkpoint_format_version = 1;

struct checkpoint {
    std::string config = "{}";  // JSON text
    std::int64_t step = 0;
    std::map<std::string, tensor<float>> params;
    std::map<std::string, tensor<float>> buffers;
    std::map<std::string, tensor<float>> optimizer;  // empty: no optimizer state
    std::vector<std::uint8_t> tokenizer;             // empty: no tokenizer
    std::string rng;                                 // JSON text; empty: none
};

void save_checkpoint(const std::string& path, const checkpoint& c);
// Throws io_error naming the file and what is wrong (not HDF5, another format, a newer version, ...).
checkpoint load_checkpoint(const std::string& path);

}  // namespace wtasim
