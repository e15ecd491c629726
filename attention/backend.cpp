// The attention backend factory.
#include "attention/backend.hpp"

#include "core/error.hpp"

namespace wtasim {
namespace {
const std::vector<attention_backend>& all_backends() {
    static const std::vector<attention_backend> backends = {
        {"reference", &wtasim::attention_forward, &wtasim::attention_backward, false},
        {"cpu", &cpu::attention_forward, &cpu::attention_backward, true},
    };
    return backends;
}
}  // namespace

std::vector<std::string> attention_backend_names() {
    std::vector<std::string> names;
    for (const auto& b : all_backends()) names.push_back(b.name);
    return names;
}

const attention_backend& attention_backend_named(const std::string& name) {
    std::string known;
    for (const auto& b : all_backends()) {
        if (b.name == name) return b;
        known += (known.empty() ? "" : ", ") + b.name;
    }
    throw backend_error("attention backend \"" + name + "\" is not available, expected one of " + known);
}

}  // namespace wtasim
