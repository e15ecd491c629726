// The resident CUDA interface (built only with CUDA): device arrays that stay on the GPU across the
// forward and backward, driven through the device-view entry points of neurons/cuda/, against the
// reference (label `cuda`: needs a GPU); and the argument checks of those entry points, which fail
// before touching a device and so run everywhere (label `unit`).
#include <doctest/doctest.h>

#include <cstring>
#include <type_traits>

#include "core/cuda/device_array.hpp"
#include "neurons/cuda/lif.hpp"
#include "neurons/cuda/nilif.hpp"
#include "ops.hpp"

using namespace wtasim;
using namespace wtasim::test;

static_assert(!std::is_convertible_v<host_view<float>, device_view<float>>, "a host view is never a device view");
static_assert(std::is_convertible_v<device_view<float>, device_view<const float>>);
static_assert(!std::is_copy_constructible_v<cuda::device_array<float>>, "device arrays are move-only");
static_assert(std::is_nothrow_move_constructible_v<cuda::device_array<float>>);

TEST_CASE("device views: the CUDA entry points check their views before touching a device") {
    const device_view<float> three(nullptr, 3), eight(nullptr, 8);
    const device_view<unsigned long long> none, two(nullptr, 2);
    CHECK_THROWS_WITH_AS(cuda::lif_forward_device(three, eight, none, eight, 2, 4, lif_params{}),
                         "cuda::lif_forward_device: device view s holds 3 elements, expected T * n = 8",
                         internal_error);
    CHECK_THROWS_AS(cuda::lif_forward_device(eight, eight, two, eight, 2, 4, lif_params{}), internal_error);
    CHECK_THROWS_AS(cuda::lif_backward_device(eight, eight, eight, three, 2, 4, lif_params{}), internal_error);
    CHECK_THROWS_AS(cuda::nilif_forward_device(eight, three, none, eight, 2, 4, nilif_params{}), internal_error);
    CHECK_THROWS_AS(cuda::nilif_backward_device(eight, eight, three, 2, 4, nilif_params{}), internal_error);
    lif_params bad;
    bad.tau = 1.0f;
    CHECK_THROWS_AS(cuda::lif_forward_device(eight, eight, none, eight, 2, 4, bad), config_error);
    cuda::device_array<float> empty;  // no allocation: usable without a device
    CHECK(empty.size() == 0);
    CHECK(empty.view().data() == nullptr);
}

namespace {
bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
std::vector<float> to_host(const cuda::device_array<float>& d) {
    std::vector<float> h(d.size());
    d.copy_to_host(host_view_of(h));
    return h;
}
}  // namespace

TEST_CASE("cuda: resident arrays run LIF and NI-LIF forward and backward with one copy in and one out") {
    REQUIRE_MESSAGE(cuda::device_count() > 0, "no CUDA device visible");
    constexpr std::size_t T = 4, n = 9001;
    const auto x = normal_vector(T * n, 99, 0, 1.2f, 1.0f), ds = normal_vector(T * n, 99, 1, 0.0f, 1.0f);
    // Inputs go to the device once; the forward's s and h stay there for the backward.
    const cuda::device_array<float> x_d(host_view_of(x)), ds_d(host_view_of(ds));
    cuda::device_array<float> s_d(T * n), state_d(T * n), dx_d(T * n);
    cuda::device_array<unsigned long long> count_d(1);
    lif_params soft;
    soft.reset = reset_mode::soft;
    soft.decay_input = false;
    soft.sg = surrogate::atan();
    for (const lif_params& p : {lif_params{}, soft}) {
        const op_outputs ref = run_lif("reference", p, x, ds, T);
        count_d.zero();
        cuda::lif_forward_device(s_d.view(), state_d.view(), count_d.view(), x_d.view(), T, n, p);
        cuda::lif_backward_device(dx_d.view(), ds_d.view(), s_d.view(), state_d.view(), T, n, p);
        unsigned long long spikes = 0;
        count_d.copy_to_host({&spikes, 1});
        CHECK(bit_equal(to_host(s_d), ref.floats[0].second));
        CHECK(bit_equal(to_host(state_d), ref.floats[1].second));
        CHECK(bit_equal(to_host(dx_d), ref.floats[2].second));
        CHECK(static_cast<std::int64_t>(spikes) == ref.counts[0].second[0]);
    }
    const nilif_params np{4, 0.5f};
    const op_outputs ref = run_nilif("reference", np, x, ds, T);
    count_d.zero();
    cuda::nilif_forward_device(s_d.view(), state_d.view(), count_d.view(), x_d.view(), T, n, np);
    cuda::nilif_backward_device(dx_d.view(), ds_d.view(), state_d.view(), T, n, np);
    unsigned long long events = 0;
    count_d.copy_to_host({&events, 1});
    CHECK(bit_equal(to_host(s_d), ref.floats[0].second));
    CHECK(bit_equal(to_host(state_d), ref.floats[1].second));
    CHECK(bit_equal(to_host(dx_d), ref.floats[2].second));
    CHECK(static_cast<std::int64_t>(events) == ref.counts[0].second[0]);
    // Moving a device array moves the allocation, not the data.
    cuda::device_array<float> moved = std::move(dx_d);
    CHECK(dx_d.size() == 0);
    CHECK(bit_equal(to_host(moved), ref.floats[2].second));
}
