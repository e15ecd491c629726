// The one registry behind every op family's backend table (neurons, attention, linear): the backends
// compiled into this build that can run here, in a fixed order with the reference first, looked up by
// name. Each family exposes `<family>_backend_names()` and `<family>_backend_named(name)` built on it,
// so validators, --help texts and the consistency harness (tests/backends/) all take their names from
// the same list, and an unknown name fails with the same message everywhere:
//   neuron backend "fpga" is not available, expected one of reference, cpu
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace wtasim {

// "reference, cpu": names as error messages and --help list them.
inline std::string join_backend_names(const std::vector<std::string>& names) {
    std::string joined;
    for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
    return joined;
}

// The names present in every list of `families`, in the order of the first: the backends of a composite
// op (the spiking block) that needs a kernel of each family under the same name.
inline std::vector<std::string> common_backend_names(const std::vector<std::vector<std::string>>& families) {
    std::vector<std::string> common;
    if (families.empty()) return common;
    for (const std::string& name : families.front()) {
        bool everywhere = true;
        for (const auto& f : families) {
            bool found = false;
            for (const std::string& other : f) found = found || other == name;
            everywhere = everywhere && found;
        }
        if (everywhere) common.push_back(name);
    }
    return common;
}

// `Backend` is a table of kernels with a `std::string name` member.
template <class Backend>
class backend_registry {
public:
    // A backend this build knows of but cannot offer here, and why (shown when it is asked for).
    struct absent {
        std::string name, why;
    };

    // `family` names the tables in messages ("neuron", "attention", "linear").
    backend_registry(std::string family, std::vector<Backend> backends, std::vector<absent> unavailable = {})
        : family_(std::move(family)), backends_(std::move(backends)), absent_(std::move(unavailable)) {}

    const std::vector<Backend>& all() const { return backends_; }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const Backend& b : backends_) out.push_back(b.name);
        return out;
    }

    // Why the known backend `name` cannot be offered here; "" when it is available or unknown.
    std::string why_absent(const std::string& name) const {
        for (const absent& a : absent_)
            if (a.name == name) return a.why;
        return "";
    }

    // The backend called `name`; backend_error naming the value, why it is absent if known, and the choices.
    const Backend& named(const std::string& name) const {
        for (const Backend& b : backends_)
            if (b.name == name) return b;
        std::string why;
        for (const absent& a : absent_)
            if (a.name == name) why = " (" + a.why + ")";
        throw backend_error(family_ + " backend \"" + name + "\" is not available" + why + ", expected one of " +
                            join_backend_names(names()));
    }

private:
    std::string family_;
    std::vector<Backend> backends_;
    std::vector<absent> absent_;
};

}  // namespace wtasim
