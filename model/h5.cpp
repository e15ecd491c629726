// HDF5 wrapper (model/h5.hpp) over the C API of libhdf5 (Debian libhdf5-dev, serial).
#include "model/h5.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <filesystem>
#include <fstream>

#include <cstring>

#include <algorithm>

#include "core/error.hpp"

// The one checking macro for HDF5 calls: a negative return throws io_error naming the file, the object, the
// HDF5 function and the reason HDF5 recorded.
#define WTASIM_H5_CHECK(call, what)                                  \
    ([&]() {                                                         \
        const auto wtasim_r_ = (call);                               \
        if (wtasim_r_ < 0) ::wtasim::h5::fail(path_, (what), #call); \
        return wtasim_r_;                                            \
    }())

namespace wtasim::h5 {
namespace {
// The most specific message on HDF5's error stack; for a failed system call the system's own words
// ("No space left on device"), which HDF5 quotes as "error message = '...'".
herr_t innermost(unsigned, const H5E_error2_t* e, void* data) {
    auto* out = static_cast<std::string*>(data);
    if (!e->desc) return 0;
    const std::string desc = e->desc;
    const std::size_t at = desc.find("error message = '");
    if (at != std::string::npos) {
        const std::size_t begin = at + 17, end = desc.find('\'', begin);
        *out = desc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        return 1;  // the system's reason: stop here
    }
    if (out->empty()) *out = desc;
    return 0;
}

// The version of the superblock (the file's root metadata) of the HDF5 file at `path`, -1 when no HDF5
// signature is found. The signature sits at offset 0 or, after a user block, at 512, 1024, 2048, ...
int superblock_version(const std::string& path) {
    static const char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    std::ifstream in(path, std::ios::binary);
    std::error_code err;
    const auto size = std::filesystem::file_size(path, err);
    if (!in || err) return -1;
    for (std::uintmax_t at = 0; at + 9 <= size; at = at == 0 ? 512 : at * 2) {
        char head[9];
        in.seekg(std::streamoff(at));
        if (!in.read(head, 9)) return -1;
        if (std::memcmp(head, signature, 8) == 0) return static_cast<unsigned char>(head[8]);
    }
    return -1;
}

std::string stack_reason() {
    std::string r;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &r);
    H5Eclear2(H5E_DEFAULT);
    return r;
}
}  // namespace

[[noreturn]] void fail(const std::string& file, const std::string& what, const char* call) {
    std::string fn = call;
    fn = fn.substr(0, fn.find('('));
    const std::string r = stack_reason();
    throw io_error(file + ": " + what + ": " + fn + " failed" + (r.empty() ? "" : " (" + r + ")"));
}

namespace {
enum kind { k_file = 1, k_group, k_dataset, k_dataspace, k_attribute, k_plist, k_datatype };

void close(hid id, int kind) {
    if (id < 0) return;
    switch (kind) {
        case k_file:
            H5Fclose(id);
            break;
        case k_group:
            H5Gclose(id);
            break;
        case k_dataset:
            H5Dclose(id);
            break;
        case k_dataspace:
            H5Sclose(id);
            break;
        case k_attribute:
            H5Aclose(id);
            break;
        case k_plist:
            H5Pclose(id);
            break;
        case k_datatype:
            H5Tclose(id);
            break;
        default:
            break;
    }
}

struct quiet_errors {
    quiet_errors() {
        // No clean-up of HDF5 at exit: every file is closed explicitly, and a file whose write failed (a full
        // disk) cannot be closed; HDF5 1.10 crashes when its exit handler tries again.
        H5dont_atexit();
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
};
const quiet_errors quiet;

std::vector<hsize_t> dims_of(const shape_t& shape) {
    return {shape.begin(), shape.end()};
}
}  // namespace

object& object::operator=(object&& o) noexcept {
    if (this != &o) {
        close(id_, kind_);
        id_ = o.id_;
        kind_ = o.kind_;
        o.id_ = -1;
    }
    return *this;
}

object::~object() {
    close(id_, kind_);
}

file::file(const std::string& path, mode m, const std::string& shown_as) : path_(shown_as.empty() ? path : shown_as) {
    std::error_code err;
    if (std::filesystem::is_directory(path, err)) throw io_error(path_ + ": is a directory, expected an HDF5 file");
    if (m != mode::create && !std::filesystem::exists(path, err)) throw io_error(path_ + ": no such file");
    if (m != mode::create) {
        // Only the checksummed layout of HDF5 1.10 (superblock version 3) is read: every piece of its metadata
        // carries a checksum, so a corrupted file is an error. The HDF5 1.10 library can be crashed by
        // corrupted metadata of the older layouts, which have none (docs/model.md §8).
        const int version = superblock_version(path);
        if (version < 0) throw io_error(path_ + ": cannot open as an HDF5 file");
        if (version < 3)
            throw io_error(
                path_ + ": an HDF5 file in a layout without checksums on all its metadata (superblock version " +
                std::to_string(version) +
                "); wtasim reads only the HDF5 1.10 layout it writes: convert it with `h5repack --low=2 --compact=" +
                std::to_string(max_compact_links) + " " + path_ + " new.h5`");
    }
    hid id = -1;
    if (m == mode::create) {
        // The layout of HDF5 1.10 (superblock 3, version-2 object headers, checksummed chunk indexes) with
        // every group's links kept in its object header: all metadata carries a checksum (docs/model.md §8).
        const hid fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
        if (fapl >= 0 && fcpl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) >= 0 &&
            H5Pset_link_phase_change(fcpl, max_compact_links, max_compact_links) >= 0)
            id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
        if (fapl >= 0) H5Pclose(fapl);
        if (fcpl >= 0) H5Pclose(fcpl);
    } else {
        id = H5Fopen(path.c_str(), m == mode::update ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    }
    if (id < 0) {
        const std::string r = stack_reason();
        throw io_error(path_ + ": cannot " + std::string(m == mode::create ? "create" : "open") + " as an HDF5 file" +
                       (r.empty() ? "" : " (" + r + ")"));
    }
    id_ = object(id, k_file);
    if (m != mode::create) check_links("/", 0);
}

// Every group reachable from `group` keeps its links in its (checksummed) object header, and every link is a
// hard link. Links in dense storage live in a fractal heap whose blocks have no checksum, and HDF5 1.10
// crashes on some corrupted ones; soft and external links could point anywhere, other files included.
void file::check_links(const std::string& group, int depth) const {
    const std::string convert =
        "; wtasim reads groups that keep their links in the object header: convert the file "
        "with `h5repack --low=2 --compact=" +
        std::to_string(max_compact_links) + " " + path_ + " new.h5`";
    if (depth > 32) throw io_error(path_ + ": group " + group + " is nested more than 32 levels deep");
    H5G_info_t info;
    WTASIM_H5_CHECK(H5Gget_info_by_name(id_.id(), group.c_str(), &info, H5P_DEFAULT), group);
    if (info.storage_type != H5G_STORAGE_TYPE_COMPACT)
        throw io_error(path_ + ": group " + group + " keeps its links in " +
                       (info.storage_type == H5G_STORAGE_TYPE_DENSE ? "dense storage" : "a symbol table") + convert);
    if (info.nlinks > max_compact_links)
        throw io_error(path_ + ": group " + group + " has " + std::to_string(info.nlinks) + " links, more than " +
                       std::to_string(max_compact_links));
    for (const std::string& name : children(group)) {
        const std::string child = group == "/" ? "/" + name : group + "/" + name;
        H5L_info_t link;
        WTASIM_H5_CHECK(H5Lget_info(id_.id(), child.c_str(), &link, H5P_DEFAULT), child);
        if (link.type != H5L_TYPE_HARD)
            throw io_error(path_ + ": " + child + " is a " + (link.type == H5L_TYPE_SOFT ? "soft" : "external") +
                           " link; wtasim reads files whose links are all hard links");
        H5O_info_t obj;
        WTASIM_H5_CHECK(H5Oget_info_by_name2(id_.id(), child.c_str(), &obj, H5O_INFO_BASIC, H5P_DEFAULT), child);
        if (obj.type == H5O_TYPE_GROUP) check_links(child, depth + 1);
    }
}

void file::close() {
    const hid id = id_.id();
    if (id < 0) return;
    id_.release();
    if (H5Fclose(id) < 0) {
        const std::string r = stack_reason();
        throw io_error(path_ + ": writing failed when the file was closed" + (r.empty() ? "" : " (" + r + ")") +
                       "; the previous file, if any, is kept");
    }
}

bool file::exists(const std::string& name) const {
    if (name == "/") return true;
    // every prefix must exist for H5Lexists to be safe
    std::size_t pos = 0;
    while ((pos = name.find('/', pos + 1)) != std::string::npos)
        if (H5Lexists(id_.id(), name.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
    return H5Lexists(id_.id(), name.c_str(), H5P_DEFAULT) > 0;
}

void file::create_group(const std::string& name) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = name.find('/', pos + 1);
        const std::string prefix = name.substr(0, pos);
        if (prefix.empty() || exists(prefix)) continue;
        object gcpl(WTASIM_H5_CHECK(H5Pcreate(H5P_GROUP_CREATE), prefix), k_plist);
        WTASIM_H5_CHECK(H5Pset_link_phase_change(gcpl.id(), max_compact_links, max_compact_links), prefix);
        object g(WTASIM_H5_CHECK(H5Gcreate2(id_.id(), prefix.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT), prefix),
                 k_group);
    }
}

std::vector<std::string> file::children(const std::string& group) const {
    object g(WTASIM_H5_CHECK(H5Gopen2(id_.id(), group.c_str(), H5P_DEFAULT), group), k_group);
    H5G_info_t info;
    WTASIM_H5_CHECK(H5Gget_info(g.id(), &info), group);
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        const auto len = WTASIM_H5_CHECK(
            H5Lget_name_by_idx(g.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT), group);
        std::string name(static_cast<std::size_t>(len), '\0');
        H5Lget_name_by_idx(g.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
        names.push_back(name);
    }
    return names;
}

namespace {
template <class T>
hid native_type() {
    if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
    if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
    if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
    if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
    if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_NATIVE_UINT16;
    if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
    if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
}
template <class T>
hid file_type() {  // little-endian on disk, whatever the machine
    if constexpr (std::is_same_v<T, float>) return H5T_IEEE_F32LE;
    if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_STD_U8LE;
    if constexpr (std::is_same_v<T, std::int32_t>) return H5T_STD_I32LE;
    if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_STD_U32LE;
    if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_STD_U16LE;
    if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_STD_U64LE;
    if constexpr (std::is_same_v<T, double>) return H5T_IEEE_F64LE;
}
}  // namespace

template <class T>
static void write_dataset(file& f, hid fid, const std::string& path_, const std::string& name, const shape_t& shape,
                          const T* data, bool compress) {
    const std::size_t slash = name.rfind('/');
    if (slash != std::string::npos && slash > 0) f.create_group(name.substr(0, slash));
    const auto dims = dims_of(shape);
    object space(WTASIM_H5_CHECK(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), name),
                 k_dataspace);
    object plist(WTASIM_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE), name), k_plist);
    std::size_t total = 1;
    for (auto d : shape) total *= d;
    if (compress && total > 0 && !shape.empty()) {
        // Chunks of about 64 KiB along the leading axis, whole along the others.
        std::vector<hsize_t> chunk = dims;
        const std::size_t row = total / shape[0];
        chunk[0] = std::clamp<hsize_t>(65536 / std::max<std::size_t>(1, row * sizeof(T)), 1, dims[0]);
        WTASIM_H5_CHECK(H5Pset_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data()), name);
        WTASIM_H5_CHECK(H5Pset_deflate(plist.id(), 4), name);
    }
    object ds(
        WTASIM_H5_CHECK(H5Dcreate2(fid, name.c_str(), file_type<T>(), space.id(), H5P_DEFAULT, plist.id(), H5P_DEFAULT),
                        name),
        k_dataset);
    if (total > 0) WTASIM_H5_CHECK(H5Dwrite(ds.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
}

void file::write(const std::string& name, const shape_t& shape, const float* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}
void file::write(const std::string& name, const shape_t& shape, const std::uint8_t* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}
void file::write(const std::string& name, const shape_t& shape, const std::int32_t* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}
void file::write(const std::string& name, const shape_t& shape, const std::uint32_t* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}
void file::write(const std::string& name, const shape_t& shape, const std::uint16_t* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}
void file::write(const std::string& name, const shape_t& shape, const std::uint64_t* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}

void file::write(const std::string& name, const shape_t& shape, const double* data, bool compress) {
    write_dataset(*this, id_.id(), path_, name, shape, data, compress);
}

namespace {
// The variable-length UTF-8 string type (what h5py writes for str and reads back as str).
object utf8_string_type(const std::string& path_, const std::string& name) {
    object type(WTASIM_H5_CHECK(H5Tcopy(H5T_C_S1), name), k_datatype);
    WTASIM_H5_CHECK(H5Tset_size(type.id(), H5T_VARIABLE), name);
    WTASIM_H5_CHECK(H5Tset_cset(type.id(), H5T_CSET_UTF8), name);
    return type;
}
}  // namespace

void file::write_strings(const std::string& name, const std::vector<std::string>& values) {
    const std::size_t slash = name.rfind('/');
    if (slash != std::string::npos && slash > 0) create_group(name.substr(0, slash));
    const object type = utf8_string_type(path_, name);
    const hsize_t n = values.size();
    object space(WTASIM_H5_CHECK(H5Screate_simple(1, &n, nullptr), name), k_dataspace);
    object ds(
        WTASIM_H5_CHECK(
            H5Dcreate2(id_.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name),
        k_dataset);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    if (n > 0) WTASIM_H5_CHECK(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), name);
}

std::vector<std::string> file::read_strings(const std::string& name) const {
    if (!exists(name)) throw io_error(path_ + ": dataset " + name + " is missing");
    object ds(WTASIM_H5_CHECK(H5Dopen2(id_.id(), name.c_str(), H5P_DEFAULT), name), k_dataset);
    object stored(WTASIM_H5_CHECK(H5Dget_type(ds.id()), name), k_datatype);
    if (H5Tget_class(stored.id()) != H5T_STRING || H5Tis_variable_str(stored.id()) <= 0)
        throw io_error(path_ + ": dataset " + name + " is not a list of variable-length strings");
    const shape_t dims = shape(name);
    if (dims.size() != 1) throw io_error(path_ + ": dataset " + name + " is not one-dimensional");
    const object type = utf8_string_type(path_, name);
    object space(WTASIM_H5_CHECK(H5Dget_space(ds.id()), name), k_dataspace);
    std::vector<char*> ptrs(dims[0], nullptr);
    if (!ptrs.empty()) WTASIM_H5_CHECK(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), name);
    std::vector<std::string> out;
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    if (!ptrs.empty()) H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, ptrs.data());
    return out;
}

void file::attach_scale(const std::string& dataset, unsigned dim, const std::string& scale, const std::string& label) {
    object d(WTASIM_H5_CHECK(H5Dopen2(id_.id(), dataset.c_str(), H5P_DEFAULT), dataset), k_dataset);
    object sc(WTASIM_H5_CHECK(H5Dopen2(id_.id(), scale.c_str(), H5P_DEFAULT), scale), k_dataset);
    if (H5DSis_scale(sc.id()) <= 0) WTASIM_H5_CHECK(H5DSset_scale(sc.id(), label.c_str()), scale);
    WTASIM_H5_CHECK(H5DSattach_scale(d.id(), sc.id(), dim), dataset + " <- " + scale);
    WTASIM_H5_CHECK(H5DSset_label(d.id(), dim, label.c_str()), dataset);
}

shape_t file::shape(const std::string& name) const {
    if (!exists(name)) throw io_error(path_ + ": dataset " + name + " is missing");
    object ds(WTASIM_H5_CHECK(H5Dopen2(id_.id(), name.c_str(), H5P_DEFAULT), name), k_dataset);
    object space(WTASIM_H5_CHECK(H5Dget_space(ds.id()), name), k_dataspace);
    const int rank = WTASIM_H5_CHECK(H5Sget_simple_extent_ndims(space.id()), name);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    WTASIM_H5_CHECK(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), name);
    return {dims.begin(), dims.end()};
}

std::size_t file::checked_size(const std::string& name) const {
    const shape_t shape = this->shape(name);
    std::size_t total = 1;
    for (auto d : shape) {
        if (d != 0 && total > (std::size_t{1} << 40) / d)
            throw io_error(path_ + ": dataset " + name + " has shape " + shape_string(shape) + ", too large");
        total *= d;
    }
    object ds(WTASIM_H5_CHECK(H5Dopen2(id_.id(), name.c_str(), H5P_DEFAULT), name), k_dataset);
    object type(WTASIM_H5_CHECK(H5Dget_type(ds.id()), name), k_datatype);
    const std::size_t element = H5Tget_size(type.id());
    object plist(WTASIM_H5_CHECK(H5Dget_create_plist(ds.id()), name), k_plist);
    const H5D_layout_t layout = H5Pget_layout(plist.id());
    const hsize_t stored = H5Dget_storage_size(ds.id());
    // Contiguous (checkpoints): every byte is stored. Chunked + gzip (traces): deflate expands at most about
    // 1032 times; a shape beyond that is forged. Compact datasets hold at most 64 KiB.
    const double bytes = double(total) * double(element);
    const double can_hold = layout == H5D_CHUNKED   ? 1100.0 * double(stored) + 65536.0
                            : layout == H5D_COMPACT ? 65536.0
                                                    : double(stored);
    if (total > 0 && bytes > can_hold)
        throw io_error(path_ + ": dataset " + name + " has shape " + shape_string(shape) + " (" +
                       std::to_string(static_cast<unsigned long long>(bytes)) + " bytes) but the file stores " +
                       std::to_string(static_cast<unsigned long long>(stored)) + " bytes of it: damaged or forged");
    return total;
}

template <class T>
static std::vector<T> read_dataset(const file& f, hid fid, const std::string& path_, const std::string& name) {
    const std::size_t total = f.checked_size(name);
    std::vector<T> out(total);
    object ds(WTASIM_H5_CHECK(H5Dopen2(fid, name.c_str(), H5P_DEFAULT), name), k_dataset);
    object type(WTASIM_H5_CHECK(H5Dget_type(ds.id()), name), k_datatype);
    const H5T_class_t cls = H5Tget_class(type.id());
    const bool want_float = std::is_floating_point_v<T>;
    if ((cls == H5T_FLOAT) != want_float || (cls != H5T_FLOAT && cls != H5T_INTEGER))
        throw io_error(path_ + ": dataset " + name + " has the wrong element type, expected " +
                       (want_float ? "float" : "integer"));
    if (std::is_same_v<T, float> && H5Tget_size(type.id()) != sizeof(float))  // float64 would be narrowed silently
        throw io_error(path_ + ": dataset " + name + " has " + std::to_string(8 * H5Tget_size(type.id())) +
                       "-bit floats, expected float32");
    if (total > 0) WTASIM_H5_CHECK(H5Dread(ds.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), name);
    return out;
}

tensor<float> file::read_floats(const std::string& name) const {
    return tensor<float>(shape(name), read_dataset<float>(*this, id_.id(), path_, name));
}
std::vector<double> file::read_doubles(const std::string& name) const {
    return read_dataset<double>(*this, id_.id(), path_, name);
}
std::vector<std::uint8_t> file::read_bytes(const std::string& name) const {
    return read_dataset<std::uint8_t>(*this, id_.id(), path_, name);
}
std::vector<std::int32_t> file::read_ints(const std::string& name) const {
    return read_dataset<std::int32_t>(*this, id_.id(), path_, name);
}
std::vector<std::uint32_t> file::read_uints(const std::string& name) const {
    return read_dataset<std::uint32_t>(*this, id_.id(), path_, name);
}

void file::set_attr(const std::string& obj, const std::string& name, const std::string& value) {
    const object type = utf8_string_type(path_, name);
    object space(WTASIM_H5_CHECK(H5Screate(H5S_SCALAR), name), k_dataspace);
    if (H5Aexists_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT) > 0)
        WTASIM_H5_CHECK(H5Adelete_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT), name);
    object attr(WTASIM_H5_CHECK(H5Acreate_by_name(id_.id(), obj.c_str(), name.c_str(), type.id(), space.id(),
                                                  H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                obj + "@" + name),
                k_attribute);
    const char* text = value.c_str();
    WTASIM_H5_CHECK(H5Awrite(attr.id(), type.id(), &text), obj + "@" + name);
}

void file::set_attr(const std::string& obj, const std::string& name, std::int64_t value) {
    object space(WTASIM_H5_CHECK(H5Screate(H5S_SCALAR), name), k_dataspace);
    if (H5Aexists_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT) > 0)
        WTASIM_H5_CHECK(H5Adelete_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT), name);
    object attr(WTASIM_H5_CHECK(H5Acreate_by_name(id_.id(), obj.c_str(), name.c_str(), H5T_STD_I64LE, space.id(),
                                                  H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                obj + "@" + name),
                k_attribute);
    WTASIM_H5_CHECK(H5Awrite(attr.id(), H5T_NATIVE_INT64, &value), obj + "@" + name);
}

void file::set_attr(const std::string& obj, const std::string& name, double value) {
    object space(WTASIM_H5_CHECK(H5Screate(H5S_SCALAR), name), k_dataspace);
    if (H5Aexists_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT) > 0)
        WTASIM_H5_CHECK(H5Adelete_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT), name);
    object attr(WTASIM_H5_CHECK(H5Acreate_by_name(id_.id(), obj.c_str(), name.c_str(), H5T_IEEE_F64LE, space.id(),
                                                  H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                obj + "@" + name),
                k_attribute);
    WTASIM_H5_CHECK(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), obj + "@" + name);
}

double file::attr_double(const std::string& obj, const std::string& name) const {
    if (!has_attr(obj, name)) throw io_error(path_ + ": attribute " + obj + "@" + name + " is missing");
    object attr(WTASIM_H5_CHECK(H5Aopen_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), name),
                k_attribute);
    double v = 0;
    WTASIM_H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), name);
    return v;
}

bool file::has_attr(const std::string& obj, const std::string& name) const {
    return exists(obj) && H5Aexists_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string file::attr_string(const std::string& obj, const std::string& name) const {
    if (!has_attr(obj, name)) throw io_error(path_ + ": attribute " + obj + "@" + name + " is missing");
    object attr(WTASIM_H5_CHECK(H5Aopen_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), name),
                k_attribute);
    object type(WTASIM_H5_CHECK(H5Aget_type(attr.id()), name), k_datatype);
    if (H5Tget_class(type.id()) != H5T_STRING)
        throw io_error(path_ + ": attribute " + obj + "@" + name + " is not a string");
    if (H5Tis_variable_str(type.id()) > 0) {
        char* s = nullptr;
        object mem(WTASIM_H5_CHECK(H5Tcopy(H5T_C_S1), name), k_datatype);
        WTASIM_H5_CHECK(H5Tset_size(mem.id(), H5T_VARIABLE), name);
        WTASIM_H5_CHECK(H5Tset_cset(mem.id(), H5Tget_cset(type.id())), name);  // h5py writes UTF-8 strings
        WTASIM_H5_CHECK(H5Aread(attr.id(), mem.id(), &s), name);
        std::string out = s ? s : "";
        H5free_memory(s);
        return out;
    }
    const std::size_t size = H5Tget_size(type.id());
    if (size > (std::size_t{64} << 20))
        throw io_error(path_ + ": attribute " + obj + "@" + name + " holds " + std::to_string(size) +
                       " bytes, more than the limit of 64 MiB");
    std::string out(size, '\0');
    WTASIM_H5_CHECK(H5Aread(attr.id(), type.id(), out.data()), name);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::int64_t file::attr_int(const std::string& obj, const std::string& name) const {
    if (!has_attr(obj, name)) throw io_error(path_ + ": attribute " + obj + "@" + name + " is missing");
    object attr(WTASIM_H5_CHECK(H5Aopen_by_name(id_.id(), obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), name),
                k_attribute);
    std::int64_t v = 0;
    WTASIM_H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_INT64, &v), name);
    return v;
}

void file::flush() {
    WTASIM_H5_CHECK(H5Fflush(id_.id(), H5F_SCOPE_GLOBAL), std::string("flush"));
}

}  // namespace wtasim::h5
