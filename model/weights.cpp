// The weight loader (model/weights.hpp).
#include "model/weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

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
    const bool variance = name.ends_with("running_var");
    const auto& v = it->second.values();
    for (std::size_t i = 0; i < v.size(); ++i) {
        // 0 is a variance BN and running-rms reach honestly (a channel silent for about 1000 steps decays to 0 in
        // float32); eps keeps it finite, so only a negative one is refused
        if (std::isfinite(v[i]) && (!variance || v[i] >= 0)) continue;
        char value[32];
        std::snprintf(value, sizeof value, "%g", double(v[i]));
        throw io_error(where + "[" + std::to_string(i) + "] = " + value +
                       (std::isfinite(v[i]) ? ", a BatchNorm running variance must be >= 0"
                                            : ", expected a finite number (a diverged or damaged model)"));
    }
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

namespace wtasim {

void refuse_unknown_tensors(const checkpoint& c, weight_group g, const std::vector<std::string>& known,
                            const std::string& origin, const std::vector<std::string>& allowed_prefixes) {
    const std::set<std::string> names(known.begin(), known.end());
    for (const auto& entry : g == weight_group::params ? c.params : c.buffers) {
        const std::string& name = entry.first;
        if (names.count(name)) continue;
        if (std::any_of(allowed_prefixes.begin(), allowed_prefixes.end(),
                        [&](const std::string& p) { return name.starts_with(p); }))
            continue;
        throw io_error(origin + ": " + (g == weight_group::params ? "/params/" : "/buffers/") + name +
                       " is not a tensor of the model @config describes (another depth or size, or a foreign file)");
    }
}

}  // namespace wtasim
