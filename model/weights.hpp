// The one weight loader: every reader of a checkpoint's tensors (the trainer resuming or evaluating, fine-
// tuning from a pretrained model, the simulator folding a network) takes them through these functions, so
// a missing tensor, a wrong shape or a wrong dtype reads the same everywhere (docs/model.md §8.1):
//   "<file>: /params/<name> is missing"
//   "<file>: /params/<name> has shape [a, b], expected [c, d]"
//   "<file>: /params/<name>[i] = nan, expected a finite number"
//   "<file>: /buffers/<name>[i] = 0, a BatchNorm running variance must be > 0"
//   "<file>: /params/<name> is not a tensor of this model (@config/layers = 2)"
// (dtypes are checked when the file is read: model/checkpoint.hpp accepts float32 tensors only).
#pragma once

#include <string>
#include <vector>

#include "attention/layers.hpp"
#include "model/checkpoint.hpp"

namespace wtasim {

// optimizer: training state beside the AdamW moments (distillation projections, docs/model.md §10)
enum class weight_group { params, buffers, optimizer };

// The tensor `name` of the group, checked to have `shape` and finite values (and, for a BatchNorm running
// variance, values > 0).
const tensor<float>& checkpoint_tensor(const checkpoint& c, weight_group g, const std::string& name,
                                       const shape_t& shape, const std::string& origin);

// Copies the checkpoint's tensors into a model's parameters or buffers (by name; each shape must equal the
// destination's). Names starting with `skip_prefix` (when not empty) are left alone: fine-tuning keeps a
// freshly initialised task head.
void load_weights(std::vector<param_ref> targets, const checkpoint& c, weight_group g, const std::string& origin,
                  const std::string& skip_prefix = "");

// Every tensor of the group must be one of `known` (or start with one of `allowed_prefixes`): a tensor the
// model does not have (a block beyond @config/layers, a typo) is an error, not silently ignored.
void refuse_unknown_tensors(const checkpoint& c, weight_group g, const std::vector<std::string>& known,
                            const std::string& origin, const std::vector<std::string>& allowed_prefixes = {});

}  // namespace wtasim
