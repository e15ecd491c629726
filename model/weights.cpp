// The weight loader (model/weights.hpp).
#include "model/weights.hpp"

#include "core/error.hpp"

namespace wtasim {

const tensor<float>& checkpoint_tensor(const checkpoint& c, weight_group g, const std::string& name,
                                       const shape_t& shape, const std::string& origin) {
    const auto& group = g == weight_group::params ? c.params : g == weight_group::buffers ? c.buffers : c.optimizer;
    const char* folder = g == weight_group::params    ? "/params/"
                         : g == weight_group::buffers ? "/buffers/"
                                                      : "/optimizer/";
    const std::string where = origin + ": " + folder + name;
    const auto it = group.find(name);
    if (it == group.end()) throw io_error(where + " is missing");
    if (it->second.shape() != shape)
        throw io_error(where + " has shape " + shape_string(it->second.shape()) + ", expected " + shape_string(shape));
    return it->second;
}

void load_weights(std::vector<param_ref> targets, const checkpoint& c, weight_group g, const std::string& origin,
                  const std::string& skip_prefix) {
    for (auto& t : targets) {
        if (!skip_prefix.empty() && t.name.rfind(skip_prefix, 0) == 0) continue;
        *t.value = checkpoint_tensor(c, g, t.name, t.value->shape(), origin);
    }
}

}  // namespace wtasim
