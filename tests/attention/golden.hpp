// Reading tests/data/block_golden.json (made by tools/gen_block_golden.py, PyTorch autograd).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wtasim::test {

inline const nlohmann::json& block_golden() {
    static const nlohmann::json j = [] {
        const char* dir = std::getenv("WTASIM_TEST_DATA_DIR");
        const std::string path = std::string(dir ? dir : WTASIM_TEST_DATA_DIR) + "/block_golden.json";
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open " + path);
        return nlohmann::json::parse(in);
    }();
    return j;
}

inline std::vector<float> floats(const nlohmann::json& j) {
    return j.get<std::vector<float>>();
}
inline std::vector<std::uint8_t> mask_of(const nlohmann::json& j) {
    return j.get<std::vector<std::uint8_t>>();
}

// |ours - ref| <= rtol |ref| + atol max|ref| + floor, counted; returns the number of elements outside.
inline std::size_t count_far(const std::vector<float>& ours, const std::vector<float>& ref, double rtol, double atol,
                             double floor = 0.0) {
    double scale = 0;
    for (float r : ref) scale = std::max(scale, double(std::abs(r)));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
        if (!(std::abs(double(ours[i]) - ref[i]) <= rtol * std::abs(ref[i]) + atol * scale + floor)) ++bad;
    return bad;
}

}  // namespace wtasim::test
