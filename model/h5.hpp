// A thin RAII layer over the HDF5 C API: files, groups, typed datasets (optionally chunked and
// gzip-compressed so that h5py, HDFView and h5web open them without wtasim) and attributes. Every HDF5
// call goes through WTASIM_H5_CHECK, which throws io_error naming the file, the object and the system's
// reason (from HDF5's error stack, e.g. "No space left on device"); HDF5's own error printing is switched off.
// A file written through a temporary name (core/atomic_file.hpp) is named in messages by the user's name.
// Reading never allocates more than the file can hold: a dataset whose stored bytes cannot make up its
// shape (a forged shape, an unwritten dataset) is an error before any allocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace wtasim::h5 {

using hid = std::int64_t;  // hid_t, without including hdf5.h here

class object {
public:
    object() = default;
    object(hid id, int kind) : id_(id), kind_(kind) {}
    object(object&& o) noexcept : id_(o.id_), kind_(o.kind_) { o.id_ = -1; }
    object& operator=(object&& o) noexcept;
    object(const object&) = delete;
    object& operator=(const object&) = delete;
    ~object();
    hid id() const { return id_; }
    void release() { id_ = -1; }  // forget the id without closing it (the caller closes it)

private:
    hid id_ = -1;
    int kind_ = 0;
};

enum class mode { read, create, update };  // update: open an existing file read-write

class file {
public:
    // `shown_as`: the name messages use (the user's file when `path` is its temporary file).
    file(const std::string& path, mode m, const std::string& shown_as = "");
    const std::string& path() const { return path_; }
    // Closes the file, checking the result: a write that fails at close (buffered data that does not fit on
    // the disk) is an io_error here, never a silently truncated file. The destructor closes unchecked.
    void close();

    bool exists(const std::string& name) const;  // a link at this path ("/params/x")
    void create_group(const std::string& name);  // creates missing parents too
    std::vector<std::string> children(const std::string& group) const;

    // Datasets. `compress` = chunked + gzip level 4 (for traces); checkpoints stay contiguous.
    void write(const std::string& name, const shape_t& shape, const float* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const std::uint8_t* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const std::int32_t* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const std::uint32_t* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const std::uint16_t* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const std::uint64_t* data, bool compress = false);
    void write(const std::string& name, const shape_t& shape, const double* data, bool compress = false);
    // A 1-D dataset of variable-length UTF-8 strings (h5py reads str); read_strings reads it back.
    void write_strings(const std::string& name, const std::vector<std::string>& values);
    std::vector<std::string> read_strings(const std::string& name) const;
    // Dimension scales (the HDF5 convention HDFView and h5py's .dims read): makes 1-D dataset `scale` a scale
    // named `label` and attaches it to dimension `dim` of `dataset`, whose dimension gets the same label.
    void attach_scale(const std::string& dataset, unsigned dim, const std::string& scale, const std::string& label);
    shape_t shape(const std::string& name) const;
    tensor<float> read_floats(const std::string& name) const;
    std::vector<double> read_doubles(const std::string& name) const;  // float32 or float64 datasets
    std::vector<std::uint8_t> read_bytes(const std::string& name) const;
    std::vector<std::int32_t> read_ints(const std::string& name) const;
    std::vector<std::uint32_t> read_uints(const std::string& name) const;
    // The number of elements of a dataset, checked against what the file stores (see the header comment).
    std::size_t checked_size(const std::string& name) const;

    // Attributes on an object ("/" for the root). Strings are variable-length UTF-8 (h5py reads str); reading
    // takes fixed-length ones too (files written before).
    void set_attr(const std::string& object, const std::string& name, const std::string& value);
    void set_attr(const std::string& object, const std::string& name, std::int64_t value);
    void set_attr(const std::string& object, const std::string& name, double value);
    std::string attr_string(const std::string& object, const std::string& name) const;
    std::int64_t attr_int(const std::string& object, const std::string& name) const;
    double attr_double(const std::string& object, const std::string& name) const;
    bool has_attr(const std::string& object, const std::string& name) const;

    void flush();

private:
    // Links a group keeps in its object header before HDF5 would move them to dense storage.
    static constexpr unsigned max_compact_links = 65535;
    void check_links(const std::string& group, int depth) const;
    std::string path_;
    object id_;
};

}  // namespace wtasim::h5
