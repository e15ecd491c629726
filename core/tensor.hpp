// A small owning tensor with a shape and row-major strides, plus a strided non-owning view.
// It is the buffer type that kernels exchange; kernels themselves take raw pointers and sizes
// (outputs, then inputs, then sizes), so this header stays lean.
// Invariants: strides are in elements; an owning tensor is always contiguous (row-major);
// a view may have any strides (a slice of the leading axis keeps the parent's strides).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace wtasim {

using shape_t = std::vector<std::size_t>;

inline std::size_t shape_size(const shape_t& shape) {
    return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

inline shape_t row_major_strides(const shape_t& shape) {
    shape_t strides(shape.size());
    std::size_t s = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        strides[i] = s;
        s *= shape[i];
    }
    return strides;
}

std::string shape_string(const shape_t& shape);

template <class T>
class tensor_view {
public:
    tensor_view(T* data, shape_t shape, shape_t strides)
        : data_(data), shape_(std::move(shape)), strides_(std::move(strides)) {
        if (shape_.size() != strides_.size())
            throw internal_error("tensor_view: shape " + shape_string(shape_) + " and strides " +
                                 shape_string(strides_) + " differ in rank");
    }

    T* data() const { return data_; }
    const shape_t& shape() const { return shape_; }
    const shape_t& strides() const { return strides_; }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return shape_size(shape_); }
    std::size_t dim(std::size_t axis) const { return shape_.at(axis); }
    bool contiguous() const { return strides_ == row_major_strides(shape_); }

    // Element access with bounds checking on every index.
    T& at(std::initializer_list<std::size_t> index) const { return data_[offset(index)]; }
    template <class... I>
    T& operator()(I... index) const {
        return at({static_cast<std::size_t>(index)...});
    }

    // The sub-tensor at position i of the leading axis.
    tensor_view<T> operator[](std::size_t i) const {
        if (rank() == 0 || i >= shape_[0])
            throw internal_error("tensor_view: index " + std::to_string(i) + " out of range for shape " +
                                 shape_string(shape_));
        return {data_ + i * strides_[0], shape_t(shape_.begin() + 1, shape_.end()),
                shape_t(strides_.begin() + 1, strides_.end())};
    }

    std::size_t offset(std::initializer_list<std::size_t> index) const {
        if (index.size() != rank())
            throw internal_error("tensor: " + std::to_string(index.size()) + " indices for shape " +
                                 shape_string(shape_));
        std::size_t off = 0, axis = 0;
        for (std::size_t i : index) {
            if (i >= shape_[axis])
                throw internal_error("tensor: index " + std::to_string(i) + " on axis " + std::to_string(axis) +
                                     " out of range for shape " + shape_string(shape_));
            off += i * strides_[axis++];
        }
        return off;
    }

private:
    T* data_;
    shape_t shape_;
    shape_t strides_;
};

template <class T>
class tensor {
public:
    tensor() = default;
    explicit tensor(shape_t shape, T fill = T{})
        : shape_(std::move(shape)), strides_(row_major_strides(shape_)), data_(shape_size(shape_), fill) {}
    tensor(shape_t shape, std::vector<T> values) : shape_(std::move(shape)), strides_(row_major_strides(shape_)) {
        if (values.size() != shape_size(shape_))
            throw internal_error("tensor: " + std::to_string(values.size()) + " values for shape " +
                                 shape_string(shape_));
        data_ = std::move(values);
    }

    T* data() { return data_.data(); }
    const T* data() const { return data_.data(); }
    const shape_t& shape() const { return shape_; }
    const shape_t& strides() const { return strides_; }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return data_.size(); }
    std::size_t dim(std::size_t axis) const { return shape_.at(axis); }
    const std::vector<T>& values() const { return data_; }
    T* begin() { return data_.data(); }
    T* end() { return data_.data() + data_.size(); }
    const T* begin() const { return data_.data(); }
    const T* end() const { return data_.data() + data_.size(); }

    tensor_view<T> view() { return {data_.data(), shape_, strides_}; }
    tensor_view<const T> view() const { return {data_.data(), shape_, strides_}; }

    T& at(std::initializer_list<std::size_t> index) { return data_[view().offset(index)]; }
    const T& at(std::initializer_list<std::size_t> index) const { return data_[view().offset(index)]; }
    template <class... I>
    T& operator()(I... index) {
        return at({static_cast<std::size_t>(index)...});
    }
    template <class... I>
    const T& operator()(I... index) const {
        return at({static_cast<std::size_t>(index)...});
    }

    // Same elements, new shape of the same size.
    void reshape(shape_t shape) {
        if (shape_size(shape) != data_.size())
            throw internal_error("tensor: cannot reshape " + shape_string(shape_) + " to " + shape_string(shape));
        shape_ = std::move(shape);
        strides_ = row_major_strides(shape_);
    }
    void fill(T value) { std::fill(data_.begin(), data_.end(), value); }

private:
    shape_t shape_;
    shape_t strides_;
    std::vector<T> data_;
};

}  // namespace wtasim
