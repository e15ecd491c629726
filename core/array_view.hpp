// Non-owning views of contiguous arrays tagged with the memory they live in (Arbor's host and device
// array views): a kernel interface that takes a device_view<T> cannot be handed a host pointer by
// mistake, and the same entry point can be offered for either side by overloading on the view type.
// Plain data (pointer and size), so a view is a valid CUDA kernel argument; this header needs no CUDA.
// The owning device array is core/cuda/device_array.hpp.
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include "core/host_device.hpp"

namespace wtasim {

enum class memory_space { host, device };

template <class T, memory_space Space>
class array_view {
public:
    array_view() = default;
    WTASIM_HOST_DEVICE array_view(T* data, std::size_t size) : data_(data), size_(size) {}
    // A view of T converts to a view of const T in the same space.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    WTASIM_HOST_DEVICE array_view(array_view<U, Space> other) : data_(other.data()), size_(other.size()) {}

    WTASIM_HOST_DEVICE T* data() const { return data_; }
    WTASIM_HOST_DEVICE std::size_t size() const { return size_; }
    WTASIM_HOST_DEVICE bool empty() const { return size_ == 0; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

template <class T>
using host_view = array_view<T, memory_space::host>;
template <class T>
using device_view = array_view<T, memory_space::device>;

template <class T>
host_view<T> host_view_of(std::vector<T>& v) {
    return {v.data(), v.size()};
}
template <class T>
host_view<const T> host_view_of(const std::vector<T>& v) {
    return {v.data(), v.size()};
}

}  // namespace wtasim
