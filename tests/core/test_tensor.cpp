// Tensor shapes, strides, views and bounds checks.
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "core/tensor.hpp"

using namespace wtasim;

TEST_CASE("tensor: row-major strides and element addressing") {
    tensor<float> a({2, 3, 4});
    CHECK(a.size() == 24);
    CHECK(a.strides() == shape_t{12, 4, 1});
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(i);
    CHECK(a(1, 2, 3) == 23.0f);
    CHECK(a(0, 1, 0) == 4.0f);
    CHECK(a.view().contiguous());
}

TEST_CASE("tensor: views of the leading axis keep the parent's strides") {
    tensor<int> a({3, 2, 2});
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<int>(i);
    auto v = a.view()[2];
    CHECK(v.shape() == shape_t{2, 2});
    CHECK(v(1, 0) == 10);
    v(1, 1) = -1;  // writes through to the parent
    CHECK(a(2, 1, 1) == -1);
    tensor_view<int> transposed(a.data(), {2, 3}, {1, 2});  // a non-contiguous view
    CHECK_FALSE(transposed.contiguous());
    CHECK(transposed(1, 2) == 5);
}

TEST_CASE("tensor: bounds, rank and reshape errors are reported, never silent") {
    tensor<float> a({2, 3});
    CHECK_THROWS_AS(a(2, 0), internal_error);
    CHECK_THROWS_AS(a(0, 3), internal_error);
    CHECK_THROWS_AS(a.at({0}), internal_error);
    CHECK_THROWS_AS(a.reshape({4, 2}), internal_error);
    CHECK_THROWS_AS(tensor<float>({2, 2}, std::vector<float>{1, 2, 3}), internal_error);
    a.reshape({3, 2});
    CHECK(a.strides() == shape_t{2, 1});
    CHECK(shape_string(a.shape()) == "[3, 2]");
}
