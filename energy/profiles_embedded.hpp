// The shipped energy profiles (energy/profiles/*.json), embedded at build time by
// cmake/embed_profiles.cmake so that the tools need no data files at run time.
#pragma once

#include <span>
#include <string_view>

namespace wtasim {

struct embedded_profile {
    std::string_view name;  // file name without .json
    std::string_view json;
};

std::span<const embedded_profile> shipped_energy_profile_texts();

}  // namespace wtasim
